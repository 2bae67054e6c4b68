"""The clinical view of a course: every session record with what was done, photos and the
trend of the assessment values. Practitioners and managers only (404 for anyone else)."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.areas import BodyArea
from consultations.models import (
    AreaAssessment,
    SessionRecord,
)
from consultations.selectors.photos import can_view_photos, photo_queryset_for_user
from consultations.selectors.session_records import (
    can_view_session_records,
    session_record_queryset_for_user,
)
from sessions.models import Appointment, Course
from sessions.selectors import course_progress


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
