"""Every read of the treatment-session records that a page or the API uses. The record is
clinical: practitioners and managers see it; front desk and patients do not (404)."""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from clinic.permissions import has_role
from clinic.roles import CLINICAL_ROLES
from consultations.models import (
    Photo,
    SessionAddendum,
    SessionRecord,
    TreatedArea,
)
from consultations.selectors.photos import can_view_photos, photo_queryset_for_user
from consultations.signing import record_get_for_user
from patients.selectors import current_alerts, current_history


def can_view_session_records(user):
    return has_role(user, *CLINICAL_ROLES)


def _with_record(queryset):
    """A record with everything its page shows, in a fixed number of queries."""
    return queryset.select_related(
        "patient",
        "practitioner",
        "signed_by",
        "appointment__appointment_type",
        "appointment__location",
        "appointment__course__plan__product",
        "appointment__course__plan__consultation",
    ).prefetch_related(
        Prefetch(
            "areas",
            queryset=TreatedArea.objects.select_related("product", "lot").prefetch_related(
                "points"
            ),
        ),
        "side_effects",
        "adverse_events",
        "assessments",
        Prefetch("addenda", queryset=SessionAddendum.objects.select_related("written_by")),
    )


def session_record_queryset_for_user(user):
    if not can_view_session_records(user):
        return SessionRecord.objects.none()
    return _with_record(SessionRecord.objects.all())


def session_record_get_for_user(user, pk, *, audit_read=True):
    """One session record with its content, else 404. Records the read."""
    return record_get_for_user(
        session_record_queryset_for_user(user),
        pk,
        user=user,
        action="session_record.viewed",
        not_found=_("No such session record."),
        audit_read=audit_read,
    )


def session_records_for_user(user, *, patient=None, course=None, appointment=None, status=None):
    """Session records the user may see, newest first, filtered (the API list). Lazy, so not
    audited here: the caller records what it showed (the API: one event per page)."""
    records = session_record_queryset_for_user(user).order_by("-appointment__starts_at", "-id")
    if patient is not None:
        records = records.filter(patient=patient)
    if course is not None:
        records = records.filter(appointment__course=course)
    if appointment is not None:
        records = records.filter(appointment=appointment)
    if status:
        records = records.filter(status=status)
    return records


def session_photos(user, record):
    """The record's before and after photos (none if the user may not see them)."""
    if not can_view_photos(user, record.patient):
        return []
    return list(
        photo_queryset_for_user(user).filter(session_record=record).order_by("area", "moment", "id")
    )


def previous_session(user, record):
    """The patient's last signed session before this one, with its photos: what the
    practitioner looks at before injecting. None for a first session."""
    previous = (
        session_record_queryset_for_user(user)
        .filter(
            patient_id=record.patient_id,
            status=SessionRecord.Status.SIGNED,
            appointment__starts_at__lt=record.appointment.starts_at,
        )
        .order_by("-appointment__starts_at")
        .first()
    )
    if previous is None:
        return None
    return previous, session_photos(user, previous)


def before_injecting(user, record):
    """Everything the screen shows before injecting: alerts, plan, session k of N, the last
    session and its photos."""
    patient = record.patient
    history = current_history(patient)
    appointment = record.appointment
    course = appointment.course
    return {
        "history": history,
        "alerts": current_alerts(patient, history),
        "course": course,
        "plan": getattr(course, "plan", None) if course else None,
        "previous": previous_session(user, record),
    }


# --- Course view -----------------------------------------------------------------------------


# --- Lots ------------------------------------------------------------------------------------


def session_records_panel(user, patient):
    """The last session records of a patient for the chart (clinicians): one query."""
    if not can_view_session_records(user):
        return []
    return list(
        SessionRecord.objects.filter(patient=patient)
        .select_related("appointment", "practitioner")
        .order_by("-appointment__starts_at")[:5]
    )


def photos_of_patient_sessions(user, patient):
    if not can_view_photos(user, patient):
        return Photo.objects.none()
    return photo_queryset_for_user(user).filter(patient=patient, session_record__isnull=False)
