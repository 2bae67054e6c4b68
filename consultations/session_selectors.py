"""Every read of the treatment-session records that a page or the API uses. The record is
clinical: practitioners and managers see it; front desk and patients do not (404). The lot
recall is the manager's."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.areas import BodyArea
from clinic.permissions import has_role
from clinic.roles import CLINICAL_ROLES, Role
from patients.selectors import current_alerts, current_history
from sessions.models import Appointment, AppointmentStatus, Course
from sessions.selectors import course_progress

from .models import (
    AreaAssessment,
    Photo,
    ProductLot,
    SessionAddendum,
    SessionRecord,
    TreatedArea,
)
from .selectors import can_view_photos, photo_queryset_for_user
from .signing import record_get_for_user


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


@dataclass
class CourseSession:
    appointment: Appointment
    record: SessionRecord | None
    photos: list = field(default_factory=list)


@dataclass
class TrendSeries:
    """One line of the course chart: values by date, for one area (or the weight)."""

    key: str
    label: str
    unit: str
    points: list = field(default_factory=list)  # [(iso date, float)]


def course_clinical_view(user, course_id):
    """A course's sessions with what was done and their photos, and the trend of the
    assessment values (grade and circumference per area from the consultation onwards, and
    the weight). A fixed number of queries whatever the number of sessions. Clinicians only;
    audited."""
    if not can_view_session_records(user):
        raise Http404
    course = (
        Course.objects.select_related(
            "patient",
            "practitioner",
            "appointment_type",
            "location",
            "plan__consultation",
            "plan__product",
        )
        .filter(pk=course_id)
        .first()
    )
    if course is None:
        raise Http404(_("No such course."))
    appointments = list(course.appointments.select_related("location").order_by("starts_at", "id"))
    records = {
        r.appointment_id: r
        for r in session_record_queryset_for_user(user).filter(appointment__course=course)
    }
    photos_by_record = {}
    if can_view_photos(user, course.patient) and records:
        for photo in photo_queryset_for_user(user).filter(
            session_record_id__in=[r.pk for r in records.values()]
        ):
            photos_by_record.setdefault(photo.session_record_id, []).append(photo)
    sessions = [
        CourseSession(
            appointment=a,
            record=records.get(a.pk),
            photos=photos_by_record.get(records[a.pk].pk, []) if a.pk in records else [],
        )
        for a in appointments
    ]
    plan = getattr(course, "plan", None)
    audit.record(
        actor=user,
        action="course.clinical_viewed",
        target=course,
        patient_id=course.patient_id,
        detail={"records": len(records)},
    )
    return {
        "course": course,
        "plan": plan,
        "sessions": sessions,
        "progress": course_progress(course, appointments),
        "trends": _trends(course, plan, records.values()),
    }


def _trends(course, plan, records):
    """Grade and circumference per area and the weight, in time order: the consultation's
    values first (when a plan links it), then each signed or draft session's."""
    record_ids = [r.pk for r in records]
    where = Q(session_record_id__in=record_ids)
    if plan is not None:
        where |= Q(consultation_id=plan.consultation_id)
    assessments = AreaAssessment.objects.filter(where).order_by("recorded_at", "id")
    zone = course.location.zone

    def day_of(moment):  # the clinic's day, not UTC's: an evening session stays on its day
        return timezone.localdate(moment, timezone=zone).isoformat()

    grades, circumferences = {}, {}
    for a in assessments:
        day = day_of(a.recorded_at)
        label = BodyArea(a.area).label
        if a.nurnberger_muller_grade is not None:
            grades.setdefault(a.area, TrendSeries(a.area, label, "grade")).points.append(
                (day, a.nurnberger_muller_grade)
            )
        if a.circumference_cm is not None:
            circumferences.setdefault(a.area, TrendSeries(a.area, label, "cm")).points.append(
                (day, float(a.circumference_cm))
            )
    weight = TrendSeries("weight", _("Weight"), "kg")
    if plan is not None and plan.consultation.weight_kg is not None:
        weight.points.append(
            (day_of(plan.consultation.created_at), float(plan.consultation.weight_kg))
        )
    for record in sorted(records, key=lambda r: r.appointment.starts_at):
        if record.weight_kg is not None:
            weight.points.append((day_of(record.appointment.starts_at), float(record.weight_kg)))
    return {
        "grades": list(grades.values()),
        "circumferences": list(circumferences.values()),
        "weight": weight if weight.points else None,
    }


# --- Lots ------------------------------------------------------------------------------------


def lots_for_session(day, product_ids=None):
    """Lots that may be chosen for a session on ``day``: in stock and not expired."""
    lots = ProductLot.objects.filter(is_active=True, expires_on__gte=day).select_related("product")
    if product_ids is not None:
        lots = lots.filter(product_id__in=product_ids)
    return lots.order_by("product__name", "expires_on", "lot_number")


@dataclass(frozen=True)
class RecallRow:
    treated_area: TreatedArea

    @property
    def record(self):
        return self.treated_area.record

    @property
    def patient(self):
        return self.treated_area.record.patient

    @property
    def appointment(self):
        return self.treated_area.record.appointment


def lot_recall(user, lot_number):
    """Every session (signed or not) that used a lot with this number (any product, case
    insensitive), with the patient's contact details: two queries. Managers only; the search
    is audited with the patients it found."""
    if not has_role(user, Role.MANAGER):
        raise Http404
    lot_number = (lot_number or "").strip()
    if not lot_number:
        return []
    rows = list(
        TreatedArea.objects.filter(lot__lot_number__iexact=lot_number)
        .select_related(
            "product",
            "lot",
            "record__patient",
            "record__practitioner",
            "record__appointment__location",
        )
        .exclude(record__appointment__status=AppointmentStatus.CANCELLED)
        .order_by("record__appointment__starts_at", "id")
    )
    audit.record(
        actor=user,
        action="lot.recall_searched",
        detail={
            "lot": lot_number,
            "patients": sorted({r.record.patient_id for r in rows}),
            "sessions": [r.record_id for r in rows],
        },
    )
    return [RecallRow(r) for r in rows]


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
