from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


# Appointments that hold their slot: a cancelled one frees it; a no-show or a completed one
# still happened (or was held) and keeps it, so history cannot be double-booked either.
ACTIVE_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROGRESS,
    AppointmentStatus.COMPLETED,
]
_ACTIVE = Q(status__in=[s.value for s in ACTIVE_STATUSES])
_HELD_RANGE = (TsTzRange("starts_at", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS)


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
