"""API serializers for scheduling. They parse and shape; the views call ``sessions.services``."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.areas import BodyArea
from clinic.lib.timezones import local_to_aware
from clinic.models import Location, Practitioner, Room
from patients.models import Patient
from sessions.models import MAX_COURSE_SESSIONS, Appointment, AppointmentType, Course, PortalRequest
from sessions.selectors import course_progress


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):
    """An ISO 8601 date-time. With an offset it is an instant; without one it is the
    location's wall-clock time, refused if it does not exist or is ambiguous (daylight
    saving). Parsed to ``(naive_or_aware datetime)``; the view places it at the location."""

    default_error_messages = {
        "invalid": _("Give a date and time as ISO 8601, e.g. 2026-12-01T12:30+01:00.")
    }

    def to_internal_value(self, data):
        parsed = parse_datetime(str(data)) if data else None
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return value.isoformat()


def place_in_zone(value, zone, field):
    """Aware datetimes pass; naive ones are read as wall-clock time in ``zone``, strictly."""
    if value is None or timezone.is_aware(value):
        return value
    return local_to_aware(value, zone, field=field)


class AppointmentSerializer(serializers.ModelSerializer):
    """An appointment as the calendar and the API give it: times in the location's zone with
    their offset, and its place in its course."""

    type = serializers.PrimaryKeyRelatedField(source="appointment_type", read_only=True)
    type_name = serializers.CharField(source="appointment_type.name", read_only=True)
    colour = serializers.CharField(source="appointment_type.colour", read_only=True)
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    practitioner_name = serializers.CharField(source="practitioner.__str__", read_only=True)
    room_name = serializers.SerializerMethodField()
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    sessions_in_course = serializers.SerializerMethodField()
    alerts = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "patient_name",
            "practitioner",
            "practitioner_name",
            "location",
            "room",
            "room_name",
            "type",
            "type_name",
            "colour",
            "start",
            "end",
            "status",
            "course",
            "session_number",
            "sessions_in_course",
            "notes",
            "outside_working_hours",
            "alerts",
        ]
        read_only_fields = fields

    def get_room_name(self, obj) -> str | None:
        return obj.room.name if obj.room else None

    def get_start(self, obj) -> str:
        return obj.local_start.isoformat()

    def get_end(self, obj) -> str:
        return obj.local_end.isoformat()

    def get_sessions_in_course(self, obj) -> int | None:
        return obj.course.planned_sessions if obj.course_id else None

    def get_alerts(self, obj) -> list[str]:
        return getattr(obj, "alerts", [])


class MyAppointmentSerializer(serializers.ModelSerializer):
    """What a patient sees of their own appointment: no notes, no other patient."""

    type_name = serializers.CharField(source="appointment_type.name", read_only=True)
    practitioner_name = serializers.CharField(source="practitioner.__str__", read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    sessions_in_course = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "type_name",
            "practitioner_name",
            "location_name",
            "start",
            "end",
            "status",
            "course",
            "session_number",
            "sessions_in_course",
        ]
        read_only_fields = fields

    def get_start(self, obj) -> str:
        return obj.local_start.isoformat()

    def get_end(self, obj) -> str:
        return obj.local_end.isoformat()

    def get_sessions_in_course(self, obj) -> int | None:
        return obj.course.planned_sessions if obj.course_id else None


class AppointmentCreateSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.all())
    type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.filter(is_active=True)
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.filter(is_active=True), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(is_active=True), required=False, allow_null=True
    )
    start = LocalDateTimeField()
    end = LocalDateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    allow_outside_hours = serializers.BooleanField(
        required=False, default=False, help_text=_("Front desk's override of working hours.")
    )

    def validate(self, attrs):
        location = attrs.get("location") or (attrs["room"].location if attrs.get("room") else None)
        if location is None:
            places = list(attrs["practitioner"].locations.filter(is_active=True)[:2])
            if len(places) != 1:
                raise serializers.ValidationError({"location": [_("Say at which location.")]})
            location = places[0]
        attrs["location"] = location
        return attrs


class RescheduleSerializer(serializers.Serializer):
    start = LocalDateTimeField()
    end = LocalDateTimeField(required=False)
    shift_later = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Also move every later session of the course by the same amount."),
    )
    allow_outside_hours = serializers.BooleanField(required=False, default=False)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    by_patient = serializers.BooleanField(
        required=False, default=False, help_text=_("The patient asked (by phone or in person).")
    )


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    conflict = serializers.DictField(required=False)


class SlotSerializer(serializers.Serializer):
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    practitioner = serializers.IntegerField(source="practitioner_id")
    room = serializers.IntegerField(source="room_id", allow_null=True)

    def get_start(self, slot) -> str:
        return timezone.localtime(slot.start, self.context["zone"]).isoformat()

    def get_end(self, slot) -> str:
        return timezone.localtime(slot.end, self.context["zone"]).isoformat()


class AvailabilityQuerySerializer(serializers.Serializer):
    type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.filter(is_active=True)
    )
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.filter(is_active=True))
    start = serializers.DateField(help_text=_("First local date"))
    end = serializers.DateField(required=False, help_text=_("Last local date (default: start)"))
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.filter(is_active=True), required=False
    )
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(is_active=True), required=False
    )
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    step = serializers.IntegerField(required=False, default=15, min_value=5, max_value=120)


class CourseShapeSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    practitioner = serializers.PrimaryKeyRelatedField(queryset=Practitioner.objects.all())
    type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.filter(is_active=True)
    )
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.filter(is_active=True))
    room = serializers.PrimaryKeyRelatedField(
        queryset=Room.objects.filter(is_active=True), required=False, allow_null=True
    )
    interval_days = serializers.IntegerField(min_value=1, max_value=90, default=7)
    allow_outside_hours = serializers.BooleanField(required=False, default=False)


class CourseProposeSerializer(CourseShapeSerializer):
    sessions = serializers.IntegerField(min_value=1, max_value=MAX_COURSE_SESSIONS)
    first_day = serializers.DateField()
    weekday = serializers.IntegerField(
        min_value=0, max_value=6, required=False, help_text=_("0 = Monday")
    )
    time = serializers.TimeField(help_text=_("Local time of each session, e.g. 12:30"))


class CourseBookSerializer(CourseShapeSerializer):
    starts = serializers.ListField(
        child=LocalDateTimeField(), min_length=1, max_length=MAX_COURSE_SESSIONS
    )
    areas = serializers.ListField(
        child=serializers.ChoiceField(choices=BodyArea.choices), required=False, default=list
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ProposalSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    ok = serializers.BooleanField()
    problem = serializers.CharField()
    clash_id = serializers.IntegerField(allow_null=True)
    alternative = serializers.SerializerMethodField()

    def _local(self, value):
        return timezone.localtime(value, self.context["zone"]).isoformat() if value else None

    def get_start(self, proposal) -> str | None:
        return self._local(proposal.start)

    def get_end(self, proposal) -> str | None:
        return self._local(proposal.end)

    def get_alternative(self, proposal) -> str | None:
        return self._local(proposal.alternative)


class CourseSerializer(serializers.ModelSerializer):
    type = serializers.PrimaryKeyRelatedField(source="appointment_type", read_only=True)
    appointments = AppointmentSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "id",
            "patient",
            "practitioner",
            "location",
            "room",
            "type",
            "planned_sessions",
            "interval_days",
            "areas",
            "status",
            "notes",
            "progress",
            "appointments",
        ]
        read_only_fields = fields

    def get_progress(self, course) -> dict:
        progress = course_progress(course, list(course.appointments.all()))
        return {
            "done": progress.done,
            "upcoming": progress.upcoming,
            "cancelled": progress.cancelled,
            "missed": progress.missed,
            "unbooked": progress.unbooked,
            "flags": progress.flags,
        }


class AddSessionSerializer(serializers.Serializer):
    start = LocalDateTimeField(required=False)
    allow_outside_hours = serializers.BooleanField(required=False, default=False)


class RescheduleRequestSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=1000)


class PortalCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PortalRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortalRequest
        fields = ["id", "appointment", "patient", "kind", "message", "created_at", "handled_at"]
        read_only_fields = fields
