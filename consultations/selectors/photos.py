"""Every read of the clinical record that a page or the API uses, scoped to what the user may
see and costing a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.http import Http404
from django.utils.translation import gettext as _

from clinic import audit
from clinic.models import ClinicSettings
from clinic.roles import CLINICAL_ROLES, Role
from consultations.models import AreaAssessment, Photo
from patients.models import ConsentKind, ConsentSignature

# --- Injection-site photos ------------------------------------------------------------------
# Practitioners and managers see every patient's photos; front desk only when the clinic
# allows it; a patient only their own, and only when the clinic shows photos in the portal.


def _role(user):
    if not (user.is_authenticated and user.is_active):
        return None
    return user.role


def can_add_photos(user):
    """Practitioners and managers take and upload photos."""
    return _role(user) in CLINICAL_ROLES


def can_view_any_photos(user):
    """Whether the user's role sees photos at all (the patient: their own)."""
    role = _role(user)
    if role in CLINICAL_ROLES:
        return True
    if role == Role.FRONT_DESK:
        return ClinicSettings.load().front_desk_sees_photos
    if role == Role.PATIENT:
        return ClinicSettings.load().portal_shows_photos
    return False


def can_view_photos(user, patient):
    """Whether ``user`` may see ``patient``'s photos."""
    if _role(user) == Role.PATIENT and patient.portal_user_id != user.pk:
        return False
    return can_view_any_photos(user)


def has_photo_consent(patient):
    """Whether ``patient`` has a valid signature on the current photographs consent (the
    upload service checks again, under a lock)."""
    return ConsentSignature.objects.filter(
        patient=patient,
        withdrawn_at__isnull=True,
        template__kind=ConsentKind.PHOTOGRAPHS,
        template__is_current=True,
    ).exists()


def photo_queryset_for_user(user):
    """Photos the user may see; none for anyone else."""
    if not can_view_any_photos(user):
        return Photo.objects.none()
    photos = Photo.objects.select_related("taken_by")
    if _role(user) == Role.PATIENT:
        return photos.filter(patient__portal_user=user)
    return photos


def photo_get_for_user(user, pk, *, audit_read=True):
    """The photo ``pk`` if ``user`` may see it, else 404 (the same answer whether it exists or
    not, so ids cannot be probed). Records the view unless ``audit_read`` is False (a caller
    that records a more precise event, such as a download)."""
    photo = photo_queryset_for_user(user).filter(pk=pk).first()
    if photo is None:
        raise Http404(_("No such photo."))
    if audit_read:
        audit.record(actor=user, action="photo.viewed", target=photo, patient_id=photo.patient_id)
    return photo


@dataclass(frozen=True)
class ComparisonEntry:
    photo: Photo
    # The same area, assessed at the photo's consultation or session.
    assessment: AreaAssessment | None

    @property
    def grade(self):
        return self.assessment.nurnberger_muller_grade if self.assessment else None

    @property
    def circumference_cm(self):
        return self.assessment.circumference_cm if self.assessment else None


def photos_for_comparison(user, patient, area, view):
    """``patient``'s photos of one area and view, oldest first, each with the assessment of
    that area from the photo's consultation (grade, circumference). Two queries whatever the
    number of photos, plus the access check. 404 for a user who may not see them; records one
    audit event for the set."""
    if not can_view_photos(user, patient):
        raise Http404(_("No such patient."))
    photos = list(
        photo_queryset_for_user(user)
        .filter(patient=patient, area=area, view=view)
        .select_related("consultation", "session_record__appointment")
        .order_by("taken_at", "id")
    )
    consultation_ids = {p.consultation_id for p in photos if p.consultation_id}
    record_ids = {p.session_record_id for p in photos if p.session_record_id}
    by_consultation, by_record = {}, {}
    if consultation_ids or record_ids:
        for a in AreaAssessment.objects.filter(
            Q(consultation_id__in=consultation_ids) | Q(session_record_id__in=record_ids),
            area=area,
        ):
            if a.consultation_id:
                by_consultation[a.consultation_id] = a
            else:
                by_record[a.session_record_id] = a
    entries = [
        ComparisonEntry(
            p,
            by_consultation.get(p.consultation_id)
            if p.consultation_id
            else by_record.get(p.session_record_id),
        )
        for p in photos
    ]
    audit.record(
        actor=user,
        action="photo.compared",
        target=patient,
        patient_id=patient.pk,
        detail={"area": area, "view": view, "photos": [p.pk for p in photos]},
    )
    return entries


def photo_sets_for_patient(user, patient):
    """The area and view pairs that ``patient`` has photos of, with how many and the latest
    time: what the comparison page offers. One query; empty for a user who may not see them."""
    if not can_view_photos(user, patient):
        return []
    return list(
        photo_queryset_for_user(user)
        .filter(patient=patient)
        .values("area", "view")
        .annotate(count=Count("id"), latest=Max("taken_at"))
        .order_by("area", "view")
    )


def photos_of_consultation(user, consultation):
    """The consultation's photos for its record page (none if the user may not see them)."""
    if not can_view_photos(user, consultation.patient):
        return []
    return list(photo_queryset_for_user(user).filter(consultation=consultation))
