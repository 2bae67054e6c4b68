import secrets

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class AppointmentType(models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        TREATMENT = "treatment", _("Treatment session")
        FOLLOW_UP = "follow_up", _("Follow-up")
        MAINTENANCE = "maintenance", _("Maintenance session")

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    duration_minutes = models.PositiveIntegerField(_("default duration (minutes)"), default=30)
    buffer_after_minutes = models.PositiveIntegerField(_("buffer after (minutes)"), default=0)
    colour = models.CharField(_("colour"), max_length=7, default="#0f5c6e")
    needs_room = models.BooleanField(_("needs a room"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="appointment_type_positive_duration"
            )
        ]

    def __str__(self):
        return self.name


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Appointments that hold their slot. A cancelled one frees it, and so does a no-show (the
# practitioner may fit in a walk-in); a completed one happened, so history stays consistent.
ACTIVE_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.COMPLETED,
]
_ACTIVE = Q(status__in=[s.value for s in ACTIVE_STATUSES])
_HELD_RANGE = (TsTzRange("starts_at", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS)


MAX_COURSE_SESSIONS = 25


class Course(models.Model):
    """A planned course of treatment sessions: N sessions at an interval with one
    practitioner. Its appointments carry their place in it (``session_number``)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FINISHED = "finished", _("Finished")
        STOPPED = "stopped", _("Stopped")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="courses"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="courses"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "clinic.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appointment_type = models.ForeignKey(
        "AppointmentType", on_delete=models.PROTECT, related_name="courses"
    )
    planned_sessions = models.PositiveSmallIntegerField(_("number of sessions"))
    interval_days = models.PositiveSmallIntegerField(_("days between sessions"), default=7)
    areas = ArrayField(
        models.CharField(max_length=20, choices=BodyArea.choices),
        verbose_name=_("areas"),
        default=list,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    # Set by the clinical record after a severe adverse event: front desk and the next
    # practitioner see "review before next session" until a practitioner clears it.
    review_reason = models.CharField(_("review before next session"), max_length=200, blank=True)
    review_flagged_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1, planned_sessions__lte=MAX_COURSE_SESSIONS),
                name="course_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1, interval_days__lte=90),
                name="course_interval_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.appointment_type} × {self.planned_sessions} · {self.patient}"

    def area_labels(self):
        return [BodyArea(a).label if a in BodyArea.values else a for a in self.areas]

    @property
    def needs_review(self):
        return bool(self.review_reason)


class Appointment(models.Model):
    """One booked visit. ``blocked_until`` is the end plus the type's buffer: the range the
    practitioner, the room and the patient are held for, which the database keeps apart."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="appointments"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        "clinic.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    blocked_until = models.DateTimeField(editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=AppointmentStatus.choices, default="booked"
    )
    notes = models.TextField(_("notes"), blank=True)
    course = models.ForeignKey(
        Course, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # Place in the course among the sessions that still count (not cancelled, not missed);
    # kept up to date by the course services.
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    outside_working_hours = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [models.Index(fields=["location", "starts_at"], name="appointment_day_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=True, session_number__isnull=True)
                | Q(course__isnull=False),
                name="appointment_session_number_needs_course",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")), name="appointment_buffer_not_negative"
            ),
            ExclusionConstraint(
                name="appointment_no_double_booking_practitioner",
                expressions=[_HELD_RANGE, ("practitioner", RangeOperators.EQUAL)],
                condition=_ACTIVE,
            ),
            ExclusionConstraint(
                name="appointment_no_double_booking_room",
                expressions=[_HELD_RANGE, ("room", RangeOperators.EQUAL)],
                condition=_ACTIVE & Q(room__isnull=False),
            ),
            ExclusionConstraint(
                name="appointment_no_double_booking_patient",
                expressions=[_HELD_RANGE, ("patient", RangeOperators.EQUAL)],
                condition=_ACTIVE,
            ),
        ]

    def __str__(self):
        return f"{self.appointment_type} · {self.patient} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self):
        """Still ahead of the patient: can be moved or cancelled."""
        return self.status in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)

    @property
    def local_start(self):
        return timezone.localtime(self.starts_at, self.location.zone)

    @property
    def local_end(self):
        return timezone.localtime(self.ends_at, self.location.zone)


class AppointmentTransition(models.Model):
    """Who moved an appointment from one status to another, and when."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(max_length=12, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AppointmentStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.appointment_id}: {self.from_status} -> {self.to_status}"


class PortalRequest(models.Model):
    """Something a patient did in the portal that front desk must see: a cancellation or a
    request to move an appointment. Shown in the inbox on the calendar until handled."""

    class Kind(models.TextChoices):
        CANCELLED = "cancelled", _("Cancelled online")
        RESCHEDULE = "reschedule", _("Asked to reschedule")
        CONFIRMED = "confirmed", _("Confirmed online")

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="portal_requests"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(handled_at__isnull=True),
                name="portal_request_open_idx",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.appointment_id}"


def new_feed_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A patient's private iCalendar feed URL. Revoking it replaces the token, so any calendar
    app subscribed to the old address stops receiving the schedule."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Calendar feed of patient {self.patient_id}"
