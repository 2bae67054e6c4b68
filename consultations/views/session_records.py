"""The treatment-session record page, used by the practitioner in the room on a tablet: the
patient's alerts first, what happened since last time, what is injected where (with the
injection map), photos, tolerance, aftercare, then "Complete session". Autosaved while the
practitioner works, read-only once signed. Practitioners and managers only; only the
appointment's practitioner (or a colleague allowed to cover) records."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinic.areas import BodyArea
from clinic.errors import ApplicationError, ConflictError
from clinic.lib.forms import add_service_error
from clinic.permissions import clinician_required
from consultations.forms.session_records import (
    ADVERSE_EVENTS_PREFIX,
    AREA_COLOURS,
    AREA_DIAGRAM,
    AREAS_PREFIX,
    DIAGRAMS,
    SIDE_EFFECTS_PREFIX,
    AddAreaForm,
    AdverseEventFormSet,
    AreaFormSet,
    Catalogue,
    SessionAddendumForm,
    SessionPhotoForm,
    SessionRecordForm,
    SideEffectFormSet,
    adverse_event_initial,
    area_initial,
    area_label,
    saved_area_values,
    side_effect_initial,
)
from consultations.models import Photo, SessionRecord
from consultations.selectors.photos import has_photo_consent
from consultations.selectors.session_records import (
    before_injecting,
    session_photos,
    session_record_get_for_user,
    session_records_for_user,
)
from consultations.services import session_records as services
from consultations.services.photos import photo_add
from sessions.selectors import appointment_get_for_user

PAGE = "consultations/session_record.html"
STATUS = "consultations/partials/session_save_status.html"
_ROW_ERROR = re.compile(
    r"(side_effects|areas|adverse_events|assessments)\.(\d+)(?:\.(\w+))?(?:\..*)?"
)
_LOT_FIELD = re.compile(rf"{AREAS_PREFIX}-\d+-lot")
# A service error on an assessment names the model's field; the row calls it "grade".
_ASSESSMENT_FIELDS = {"nurnberger_muller_grade": "grade", "circumference_cm": "circumference_cm"}


def _session_day(appointment):
    return timezone.localdate(appointment.starts_at, timezone=appointment.location.zone)


class SessionForms:
    """Everything the draft page posts: the record's fields, side effects, treated areas (with
    their map points and assessment), adverse events and the "add an area" control."""

    def __init__(self, record, data=None, *, added=""):
        appointment = record.appointment
        plan = getattr(appointment.course, "plan", None) if appointment.course_id else None
        self.planned = services.plan_areas(appointment)
        saved = list(record.areas.all())
        posted_lots = [
            int(v) for k, v in (data or {}).items() if _LOT_FIELD.fullmatch(k) and v.isdigit()
        ]
        self.catalogue = Catalogue.load(
            day=_session_day(appointment),
            product_ids={a.product_id for a in saved} | ({plan.product_id} if plan else set()),
            lot_ids={a.lot_id for a in saved} | set(posted_lots),
        )
        self.main = SessionRecordForm(data, record=record)
        initial = {}
        if data is None:
            initial = {
                "side_effects": side_effect_initial(record)
                + ([{}] if added == "side_effect" else []),
                "areas": area_initial(
                    record,
                    self.planned,
                    default_product=plan.product_id if plan else None,
                    added=[added] if added in BodyArea.values else [],
                ),
                "adverse_events": adverse_event_initial(record)
                + ([{}] if added == "adverse_event" else []),
            }
        self.side_effects = SideEffectFormSet(
            data, initial=initial.get("side_effects"), prefix=SIDE_EFFECTS_PREFIX
        )
        self.areas = AreaFormSet(
            data,
            initial=initial.get("areas"),
            prefix=AREAS_PREFIX,
            form_kwargs={"catalogue": self.catalogue, "planned": self.planned},
        )
        self.adverse_events = AdverseEventFormSet(
            data, initial=initial.get("adverse_events"), prefix=ADVERSE_EVENTS_PREFIX
        )
        for number, form in enumerate(self.side_effects.forms, 1):
            form.row_title = _("Side effect %(n)s") % {"n": number}
        for number, form in enumerate(self.adverse_events.forms, 1):
            form.row_title = _("Adverse event %(n)s") % {"n": number}
        self.add_area = AddAreaForm(data, taken=[f.area_value for f in self.areas.forms])
        self.record = record
        self.sent = {}

    @property
    def is_bound(self):
        return self.main.is_bound

    def _formsets(self):
        return [
            ("side_effects", self.side_effects),
            ("areas", self.areas),
            ("adverse_events", self.adverse_events),
        ]

    def is_valid(self):
        results = [self.main.is_valid(), self.add_area.is_valid()]
        results += [formset.is_valid() for _key, formset in self._formsets()]
        return all(results)

    def collect(self, *, strict):
        """The lists for the service, and what the autosave holds back. A row started but not
        complete is refused at its fields by an explicit save; the autosave keeps its last
        saved version instead (a treated area) or leaves its whole list as saved (side
        effects, adverse events) and names it. Returns None when something was refused."""
        lists, held, refused = {}, [], False
        for key, formset in self._formsets():
            if strict and not formset.require_complete():
                refused = True
                continue
            incomplete = formset.incomplete()
            held.extend(
                (form.row_title, [str(form.fields[n].label or n) for n in missing])
                for _index, form, missing in incomplete
            )
            if incomplete and key != "areas":
                lists[key] = None
                continue
            rows = [(i, f.values()) for i, f in formset.started_rows() if not f.missing()]
            if incomplete:
                rows = sorted(rows + self._as_saved(incomplete))
            self.sent[key] = [index for index, _values in rows]
            lists[key] = [values for _index, values in rows]
        assessments = self.areas.assessments()
        self.sent["assessments"] = [index for index, _values in assessments]
        lists["assessments"] = [values for _index, values in assessments]
        none_ticked = self.main.cleaned_data.get("no_side_effects_since_last")
        if strict and none_ticked and self.side_effects.started_rows():
            self.main.add_error(
                "no_side_effects_since_last",
                _('You ticked "no side effects" and listed some: untick it or remove them.'),
            )
            refused = True
        return None if refused else (lists, held)

    def _as_saved(self, incomplete):
        """The last saved version of areas being edited, so the autosave keeps them."""
        saved = {treated.area: treated for treated in self.record.areas.all()}
        rows = []
        for index, form, _missing in incomplete:
            treated = saved.get(form.area_value)
            if treated is not None:
                rows.append((index, saved_area_values(treated)))
        return rows

    def require_complete(self):
        """After a failed validation of an explicit save: show every missing field too."""
        for _key, formset in self._formsets():
            formset.require_complete()

    def place_error(self, exc):
        """Show a service error at the field it names (``areas.1.lot`` is the lot of the second
        area row sent, ``areas.0.points.3.x`` a point of the first row's map)."""
        match = _ROW_ERROR.fullmatch(getattr(exc, "field", None) or "")
        if match:
            key, index, name = match[1], int(match[2]), match[3]
            sent = self.sent.get(key, [])
            if index < len(sent):
                formset = self.areas if key == "assessments" else getattr(self, key)
                form = formset.forms[sent[index]]
                if key == "assessments":
                    name = _ASSESSMENT_FIELDS.get(name)
                form.add_error(name if name in form.fields else None, exc.message)
                return
        add_service_error(self.main, exc)

    def errors(self):
        """Every error as (input name or None, message), in page order."""
        found = []
        for form in self._forms():
            where = getattr(form, "row_title", "")
            for name, messages_ in form.errors.items():
                field = None if name == "__all__" else form.add_prefix(name)
                label = form.fields[name].label if field else None
                prefix = " · ".join(str(p) for p in (where, label) if p)
                found.extend((field, f"{prefix}: {m}" if prefix else str(m)) for m in messages_)
        for _key, formset in self._formsets():
            found.extend((None, str(m)) for m in formset.non_form_errors())
        return found

    def _forms(self):
        return [
            self.main,
            *self.side_effects.forms,
            *self.areas.forms,
            *self.adverse_events.forms,
            self.add_area,
        ]


def _save_posted(request, record, forms, *, strict):
    """Save the draft. Returns the rows held back (autosave), or None when something was
    refused (the errors are on the forms). ``PermissionDenied`` goes up to the view."""
    if not forms.is_valid():
        if strict:
            forms.require_complete()
        return None
    collected = forms.collect(strict=strict)
    if collected is None:
        return None
    lists, held = collected
    try:
        services.session_record_save_draft(
            actor=request.user, record=record, data=forms.main.draft_data(), **lists
        )
    except ApplicationError as exc:
        forms.place_error(exc)
        return None
    except ValidationError as exc:
        add_service_error(forms.main, exc)
        return None
    return held


# --- what the page shows -------------------------------------------------------------------


def _refusal(user, record):
    """Why ``user`` may not record this session, or None if they may."""
    try:
        services.recording_practitioner(user, record.appointment)
    except PermissionDenied as exc:
        return str(exc) or _("You may not record this session.")
    return None


def _unrecorded(forms):
    """Planned areas left blank (and not marked "not treated"): a reminder, not a blocker."""
    return [
        form.area_label
        for form in forms.areas.forms
        if form.area_value in forms.planned
        and not form.value_of("DELETE")
        and not form.is_started()
    ]


def _photo_groups(photos):
    """Photos by area: (area label, before, after)."""
    groups = {}
    for photo in photos:
        before, after = groups.setdefault(photo.get_area_display(), ([], []))
        (after if photo.moment == Photo.Moment.AFTER else before).append(photo)
    return [(label, before, after) for label, (before, after) in groups.items()]


def map_context(record):
    """The record's injection map, read-only: the diagrams that have points (each point
    placed in viewBox units and coloured by area) and the legend."""
    legend, points = [], {d.key: [] for d in DIAGRAMS}
    sizes = {d.key: (d.width, d.height) for d in DIAGRAMS}
    for treated in record.areas.all():
        colour = AREA_COLOURS.get(treated.area, "#333333")
        area_points = list(treated.points.all())
        legend.append({"treated": treated, "colour": colour, "count": len(area_points)})
        for point in area_points:
            width, height = sizes[point.diagram]
            points[point.diagram].append(
                {
                    "cx": round(float(point.x) * width, 2),
                    "cy": round(float(point.y) * height, 2),
                    "colour": colour,
                    "title": treated.get_area_display()
                    + (f" · {point.volume_ml} ml" if point.volume_ml is not None else ""),
                }
            )
    diagrams = [(d, points[d.key]) for d in DIAGRAMS if points[d.key]]
    return {"legend": legend, "diagrams": diagrams}


def _page(request, record, forms=None, *, status=200, photo_form=None, refusal=None):
    user = request.user
    appointment = record.appointment
    context = before_injecting(user, record)
    previous = context.pop("previous")
    if not record.is_signed and refusal is None:
        refusal = _refusal(user, record)
    planned = services.plan_areas(appointment)
    photos = session_photos(user, record)
    context.update(
        record=record,
        patient=record.patient,
        appointment=appointment,
        zone=appointment.location.zone,
        previous=previous[0] if previous else None,
        previous_photos=previous[1] if previous else [],
        plan_area_labels=[area_label(a) for a in planned],
        photo_groups=_photo_groups(photos),
        photo_count=len(photos),
        refusal=refusal,
        diagrams=DIAGRAMS,
    )
    if record.is_signed or refusal:
        context["map"] = map_context(record)
        if record.is_signed:
            context["addendum_form"] = SessionAddendumForm()
    else:
        forms = forms or SessionForms(record, added=request.GET.get("add", ""))
        areas = [f.area_value for f in forms.areas.forms if f.area_value]
        context.update(
            forms=forms,
            blockers=services.sign_blockers(record),
            unrecorded=_unrecorded(forms),
            photo_form=photo_form or SessionPhotoForm(patient=record.patient, areas=areas),
            has_photo_consent=has_photo_consent(record.patient),
            map_config={
                "colours": AREA_COLOURS,
                "diagrams": AREA_DIAGRAM,
                "planned": forms.planned,
                "labels": dict(BodyArea.choices),
            },
        )
    return render(request, PAGE, context, status=status)


def _detail_url(record, anchor=""):
    return reverse("session_record_detail", args=[record.pk]) + anchor


def _refused_page(request, message, status=403):
    return render(
        request, "consultations/partials/session_refused.html", {"message": message}, status=status
    )


# --- views ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@clinician_required
def session_record_start_for_appointment(request, appointment_id):
    """From "my day": POST opens the record of this treatment appointment (starting it the
    first time and taking the patient in); GET goes to the record it already has."""
    appointment = appointment_get_for_user(request.user, appointment_id)
    if request.method == "GET":
        record_id = (
            session_records_for_user(request.user, appointment=appointment)
            .values_list("pk", flat=True)
            .first()
        )
        if record_id is None:
            messages.info(request, _("This appointment has no session record."))
            return redirect("treatment_sessions:my_day")
        return redirect("session_record_detail", pk=record_id)
    try:
        record = services.session_record_start(actor=request.user, appointment=appointment)
    except PermissionDenied as exc:
        return _refused_page(request, str(exc))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("treatment_sessions:my_day")
    return redirect("session_record_detail", pk=record.pk)


@require_http_methods(["GET", "POST"])
@clinician_required
def session_record_detail(request, pk):
    """The record page. A plain submit (no JavaScript, or the Save button) saves everything,
    refusing rows that are started but incomplete."""
    record = session_record_get_for_user(request.user, pk, audit_read=request.method == "GET")
    if request.method == "GET":
        return _page(request, record)
    if record.is_signed:
        messages.error(request, _("This session record is signed; add an addendum instead."))
        return redirect(_detail_url(record))
    refusal = _refusal(request.user, record)
    if refusal:
        return _page(request, record, status=403, refusal=refusal)
    action = request.POST.get("action", "save")
    adding = action.startswith("add_")
    forms = SessionForms(record, request.POST)
    try:
        held = _save_posted(request, record, forms, strict=not adding)
    except PermissionDenied as exc:
        return _page(request, record, status=403, refusal=str(exc))
    if held is None:
        return _page(request, record, forms, status=400)
    if adding:  # without JavaScript: the page comes back with the new row
        added = {
            "add_side_effect": ("side_effect", "#before"),
            "add_adverse_event": ("adverse_event", "#tolerance"),
        }.get(action) or (forms.add_area.cleaned_data.get("add_area") or "", "#areas")
        return redirect(f"{_detail_url(record)}?add={added[0]}{added[1]}")
    messages.success(request, _("Saved."))
    return redirect(_detail_url(record))


@require_POST
@clinician_required
def session_record_autosave(request, pk):
    """Called by htmx while the practitioner works: saves and answers with a small status,
    never with the form, so nothing typed is overwritten. Rows started but not complete are
    held back (and named) until they are."""
    record = session_record_get_for_user(request.user, pk, audit_read=False)
    context = {"record": record, "zone": record.appointment.location.zone}
    if record.is_signed:
        context.update(state="signed")
        return render(request, STATUS, context, status=409)
    refusal = _refusal(request.user, record)
    forms = SessionForms(record, request.POST)
    try:
        held = None if refusal else _save_posted(request, record, forms, strict=False)
    except PermissionDenied as exc:
        refusal = str(exc)
    if refusal:
        context.update(state="refused", message=refusal)
        return render(request, STATUS, context, status=403)
    if held is None:
        context.update(state="error", errors=forms.errors())
        return render(request, STATUS, context, status=400)
    fresh = SessionRecord.objects.select_related("appointment").get(pk=record.pk)
    context.update(
        state="saved",
        held=held,
        saved_at=timezone.now(),
        blockers=services.sign_blockers(fresh),
        unrecorded=_unrecorded(forms),
    )
    return render(request, STATUS, context)


@require_POST
@clinician_required
def session_record_sign(request, pk):
    """ "Complete session": save what is on the page, then sign (the appointment becomes
    completed). What still stops it is listed with links to the sections."""
    record = session_record_get_for_user(request.user, pk, audit_read=False)
    if record.is_signed:
        messages.error(request, _("This session is already completed and signed."))
        return redirect(_detail_url(record))
    refusal = _refusal(request.user, record)
    if refusal:
        return _page(request, record, status=403, refusal=refusal)
    if f"{AREAS_PREFIX}-TOTAL_FORMS" in request.POST:
        forms = SessionForms(record, request.POST)
        if _save_posted(request, record, forms, strict=True) is None:
            return _page(request, record, forms, status=400)
    try:
        services.session_record_sign(actor=request.user, record=record)
    except PermissionDenied as exc:
        return _page(request, record, status=403, refusal=str(exc))
    except ApplicationError as exc:
        messages.error(request, _("The session is not completed yet: see what is missing."))
        if not exc.extra.get("blockers"):
            messages.error(request, exc.message)
        return redirect(_detail_url(record, "#complete"))
    messages.success(request, _("Session completed and signed."))
    return redirect(_detail_url(record))


@require_POST
@clinician_required
def session_record_photo_add(request, pk):
    """Before or after photos of one area, added to the draft record. Each file is checked on
    its own; with no photographs consent nothing is stored."""
    record = session_record_get_for_user(request.user, pk, audit_read=False)
    if record.is_signed:
        messages.error(request, _("This session is signed; photos can no longer be added to it."))
        return redirect(_detail_url(record, "#photos"))
    refusal = _refusal(request.user, record)
    if refusal:
        return _page(request, record, status=403, refusal=refusal)
    areas = [a.area for a in record.areas.all()] or services.plan_areas(record.appointment)
    form = SessionPhotoForm(request.POST, request.FILES, patient=record.patient, areas=areas)
    stored = 0
    if form.is_valid():
        stored = _add_photos(request, record, form)
    if form.errors:
        return _page(request, record, status=400, photo_form=form)
    messages.success(request, _("%(count)d photo(s) stored.") % {"count": stored})
    return redirect(_detail_url(record, "#photos"))


def _add_photos(request, record, form):
    data, stored = form.cleaned_data, 0
    for uploaded in form.uploaded_photos():
        try:
            photo_add(
                actor=request.user,
                patient=record.patient,
                uploaded_file=uploaded,
                area=data["area"],
                view=data["view"],
                sites_marked=data["sites_marked"],
                session_record=record,
                moment=data["moment"],
            )
        except ConflictError as exc:  # no consent, or signed meanwhile: true of every file
            form.add_error(None, exc.message)
            break
        except ApplicationError as exc:
            where = exc.field if exc.field in form.fields else None
            form.add_error(where, f"{uploaded.name}: {exc.message}" if not where else exc.message)
        except ValidationError as exc:
            form.add_error(None, f"{uploaded.name}: {' '.join(exc.messages)}")
        else:
            stored += 1
    return stored


@require_POST
@clinician_required
def session_record_addendum_add(request, pk):
    record = session_record_get_for_user(request.user, pk, audit_read=False)
    form = SessionAddendumForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write the addendum."))
        return redirect(_detail_url(record, "#addenda"))
    try:
        services.session_addendum_add(
            actor=request.user, record=record, text=form.cleaned_data["text"]
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Addendum added."))
    return redirect(_detail_url(record, "#addenda"))
