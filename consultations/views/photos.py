"""Pages of injection-site photos: upload, comparison, and the one protected way to get a
photo's bytes (access checked, audited, never cached)."""

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.permissions import portal_required, staff_required
from consultations.forms.photos import PHOTO_ACCEPT, PhotoCompareForm, PhotoUploadForm
from consultations.models import Photo
from consultations.selectors import photos as selectors
from consultations.services.photos import VARIANTS, photo_add, private_storage
from patients.selectors import patient_for_portal_user, patient_get_for_user


def _photo_file_headers(response):
    response["Content-Type"] = "image/jpeg"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET"])
def photo_file(request, pk, variant):
    """One stored copy of a photo (``full``, ``preview`` or ``thumb``) for a user allowed to
    see it; 404 for anyone else. Every download is audited. Behind nginx, with
    ``PHOTO_X_ACCEL_REDIRECT_PREFIX`` set (e.g. "/protected/", an ``internal`` location
    aliasing the private media root), nginx sends the bytes instead of Django."""
    field = VARIANTS.get(variant)
    if field is None:
        raise Http404(_("No such photo."))
    photo = selectors.photo_get_for_user(request.user, pk, audit_read=False)
    name = getattr(photo, field)
    audit.record(
        actor=request.user,
        action="photo.downloaded",
        target=photo,
        patient_id=photo.patient_id,
        detail={"variant": variant},
    )
    prefix = getattr(settings, "PHOTO_X_ACCEL_REDIRECT_PREFIX", "") or ""
    if prefix:
        response = HttpResponse()
        response["X-Accel-Redirect"] = quote(prefix.rstrip("/") + "/" + name)
        return _photo_file_headers(response)
    try:
        stored = private_storage().open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("The photo file is missing.")) from exc
    response = FileResponse(stored, filename=f"photo-{photo.pk}-{variant}.jpg")
    return _photo_file_headers(response)


def _photo_urls(photo):
    return {
        variant: reverse("consultations:photo_file", args=[photo.pk, variant])
        for variant in VARIANTS
    }


@dataclass
class UploadResult:
    filename: str
    photo: Photo | None = None
    error: str = ""


@require_http_methods(["GET", "POST"])
@staff_required
def photo_upload(request, patient_id):
    """Add photos of one area and view: several files chosen or dropped at once, or taken with
    the tablet's camera. Each file is processed on its own: a bad one is listed with the reason
    and the good ones are kept. Practitioners and managers."""
    if not selectors.can_add_photos(request.user):
        raise PermissionDenied
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    initial = {k: request.GET[k] for k in ("area", "view", "consultation") if k in request.GET}
    form = PhotoUploadForm(
        request.POST or None, request.FILES or None, patient=patient, initial=initial
    )
    results = []
    if request.method == "POST" and form.is_valid():
        results = _add_each(request, patient, form)
        if results and all(r.photo for r in results) and not form.errors:
            messages.success(
                request,
                _("%(count)d photo(s) stored.") % {"count": len(results)},
            )
            consultation = form.cleaned_data.get("consultation")
            if consultation is not None:  # back to the record being filled in
                return redirect(reverse("consultation_detail", args=[consultation.pk]) + "#photos")
            query = urlencode(
                {"area": form.cleaned_data["area"], "view": form.cleaned_data["view"]}
            )
            return redirect(reverse("consultations:photo_compare", args=[patient.pk]) + "?" + query)
    context = {
        "patient": patient,
        "form": form,
        "results": [(r, _photo_urls(r.photo) if r.photo else None) for r in results],
        "rejected": [r for r in results if not r.photo],
        "stored_count": sum(1 for r in results if r.photo),
        "has_consent": selectors.has_photo_consent(patient),
        "accept": PHOTO_ACCEPT,
    }
    status = 400 if form.errors or context["rejected"] else 200
    return render(request, "consultations/photos/upload.html", context, status=status)


def _add_each(request, patient, form):
    data = form.cleaned_data
    results = []
    for uploaded in form.uploaded_photos():
        result = UploadResult(filename=uploaded.name)
        results.append(result)
        try:
            result.photo = photo_add(
                actor=request.user,
                patient=patient,
                uploaded_file=uploaded,
                area=data["area"],
                view=data["view"],
                sites_marked=data["sites_marked"],
                consultation=data["consultation"],
            )
        except ConflictError as exc:
            # No consent, or the consultation was signed meanwhile: true of every file.
            form.add_error(None, exc.message)
            results.pop()
            break
        except ApplicationError as exc:
            if exc.field not in (None, "file"):
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                results.pop()
                break
            result.error = exc.message
        except ValidationError as exc:
            result.error = " ".join(exc.messages)
    return results


@require_http_methods(["GET"])
@staff_required
def photo_compare(request, patient_id):
    """A patient's photos of one area and view side by side and as a timeline, with the
    grade and circumference recorded at the same consultation. Staff who may see photos."""
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    if not selectors.can_view_photos(request.user, patient):
        raise PermissionDenied
    sets = selectors.photo_sets_for_patient(request.user, patient)
    form = PhotoCompareForm(request.GET or None)
    entries, left, right = [], None, None
    if form.is_bound and form.is_valid():
        area, view = form.cleaned_data["area"], form.cleaned_data["view"]
    elif not form.is_bound and sets:
        latest = max(sets, key=lambda s: s["latest"])
        area, view = latest["area"], latest["view"]
        form = PhotoCompareForm({"area": area, "view": view})
        form.is_valid()
    else:
        area = view = None
    if area:
        entries = selectors.photos_for_comparison(request.user, patient, area, view)
        left, right = _pair(entries, form.cleaned_data.get("left"), form.cleaned_data.get("right"))
    context = {
        "patient": patient,
        "form": form,
        "sets": [
            {
                **s,
                "area_label": _label(form.fields["area"].choices, s["area"]),
                "view_label": _label(form.fields["view"].choices, s["view"]),
                "selected": (s["area"], s["view"]) == (area, view),
            }
            for s in sets
        ],
        "area": area,
        "view": view,
        "entries": [(e, _photo_urls(e.photo)) for e in entries],
        "left": (left, _photo_urls(left.photo)) if left else None,
        "right": (right, _photo_urls(right.photo)) if right else None,
        "can_add": selectors.can_add_photos(request.user),
    }
    return render(
        request,
        "consultations/photos/compare.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


def _pair(entries, left_id, right_id):
    """The two photos shown side by side: those asked for, else the first and the latest."""
    if len(entries) < 2:
        return (entries[0] if entries else None), None
    by_id = {e.photo.pk: e for e in entries}
    return by_id.get(left_id) or entries[0], by_id.get(right_id) or entries[-1]


def _label(choices, value):
    return dict(choices).get(value, value)


@require_http_methods(["GET"])
@portal_required
def portal_photos(request):
    """The patient's own photos, area by area over time, when the clinic shows photos in the
    portal (404 otherwise)."""
    patient = patient_for_portal_user(request.user)
    if not selectors.can_view_photos(request.user, patient):
        raise Http404
    photos = list(selectors.photo_queryset_for_user(request.user).filter(patient=patient))
    audit.record(
        actor=request.user, action="photos.portal_viewed", target=patient, patient_id=patient.pk
    )
    groups = {}
    for photo in photos:
        groups.setdefault((photo.get_area_display(), photo.get_view_display()), []).append(photo)
    return render(
        request,
        "consultations/photos/portal.html",
        {"groups": [(area, view, items) for (area, view), items in groups.items()]},
    )
