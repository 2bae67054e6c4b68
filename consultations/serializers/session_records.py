"""What the session-record API (``consultations.api.session_records``) reads and writes: the
record with its treated areas, injection points, side effects, adverse events, photos and
addenda; the nested inputs of the autosave; the shapes of its 400 and 409 answers."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from clinic.areas import BodyArea
from consultations.models import (
    AdverseEvent,
    Condition,
    InjectionPoint,
    Photo,
    SessionAddendum,
    SessionRecord,
    Severity,
    SideEffectReport,
    TreatedArea,
)
from consultations.serializers.consultations import AssessmentSerializer
from consultations.services import session_records as services
from consultations.signing import blocker_messages


# ---- what goes out ----
class InjectionPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = InjectionPoint
        fields = ["diagram", "x", "y", "volume_ml"]
        read_only_fields = fields


class TreatedAreaSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    lot_expires_on = serializers.DateField(source="lot.expires_on", read_only=True)
    points = InjectionPointSerializer(many=True, read_only=True)

    class Meta:
        model = TreatedArea
        fields = [
            "id",
            "area",
            "is_extra",
            "product",
            "product_name",
            "lot",
            "lot_number",
            "lot_expires_on",
            "volume_ml",
            "injection_points",
            "depth_mm",
            "technique",
            "needle_gauge",
            "needle_length_mm",
            "points",
        ]
        read_only_fields = fields


class SideEffectSerializer(serializers.ModelSerializer):
    class Meta:
        model = SideEffectReport
        fields = ["kind", "severity", "duration_days", "notes"]
        read_only_fields = fields


class AdverseEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdverseEvent
        fields = ["kind", "severity", "action_taken", "follow_up"]
        read_only_fields = fields


class SessionAddendumSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionAddendum
        fields = ["id", "text", "written_by", "written_at"]
        read_only_fields = fields


class SessionPhotoSerializer(serializers.ModelSerializer):
    """Which photos belong to the record; the photo itself: /api/v1/photos/{id}/."""

    class Meta:
        model = Photo
        fields = ["id", "area", "view", "moment", "taken_at"]
        read_only_fields = fields


class SessionRecordSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name", read_only=True)
    practitioner_name = serializers.CharField(source="practitioner.__str__", read_only=True)
    course = serializers.IntegerField(source="appointment.course_id", read_only=True)
    session_number = serializers.IntegerField(
        source="appointment.session_number",
        read_only=True,
        allow_null=True,
        help_text=_("Session k of the course."),
    )
    sessions_in_course = serializers.SerializerMethodField(help_text=_("N of session k of N."))
    starts_at = serializers.SerializerMethodField(
        help_text=_("The appointment's start, in the location's time zone with its offset.")
    )
    side_effects = SideEffectSerializer(many=True, read_only=True)
    areas = TreatedAreaSerializer(many=True, read_only=True)
    adverse_events = AdverseEventSerializer(many=True, read_only=True)
    assessments = AssessmentSerializer(many=True, read_only=True)
    photos = SessionPhotoSerializer(source="visible_photos", many=True, read_only=True)
    addenda = SessionAddendumSerializer(many=True, read_only=True)
    sign_blockers = serializers.SerializerMethodField(
        help_text=_(
            "What still stops signing (empty when it can be signed). Only in answers about one "
            "record; null in lists."
        )
    )

    class Meta:
        model = SessionRecord
        fields = [
            "id",
            "patient",
            "patient_name",
            "appointment",
            "course",
            "session_number",
            "sessions_in_course",
            "starts_at",
            "practitioner",
            "practitioner_name",
            "status",
            "no_side_effects_since_last",
            "side_effects",
            "health_changes",
            "medication_changes",
            "weight_kg",
            "alerts_reviewed",
            "topical_anaesthetic",
            "areas",
            "tolerance",
            "adverse_events",
            "assessments",
            "photos",
            "aftercare_given",
            "next_session_recommendation",
            "notes",
            "addenda",
            "signed_at",
            "signed_by",
            "created_at",
            "updated_at",
            "sign_blockers",
        ]
        read_only_fields = fields

    def get_sessions_in_course(self, record) -> int | None:
        course = record.appointment.course
        return course.planned_sessions if course is not None else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_starts_at(self, record):
        return record.appointment.local_start.isoformat()

    @extend_schema_field(
        serializers.ListField(child=serializers.CharField(), allow_null=True, read_only=True)
    )
    def get_sign_blockers(self, record):
        if not self.context.get("with_blockers"):
            return None
        return [] if record.is_signed else blocker_messages(services.sign_blockers(record))


class SessionConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    blockers = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("What stops signing.")
    )
    status = serializers.CharField(required=False, help_text=_("The record's or visit's status."))
    id = serializers.IntegerField(required=False, help_text=_("The conflicting object."))


class SessionBadInputSerializer(serializers.Serializer):
    detail = serializers.CharField(
        help_text=_("What was wrong; the field path is also a key, e.g. areas.1.lot.")
    )


# ---- what comes in ----
def _lenient_decimal(**kwargs):
    """A number; its range and precision are checked by the service, which names the row."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, **kwargs)


class SessionRecordCreateSerializer(serializers.Serializer):
    appointment = serializers.IntegerField(
        help_text=_("A treatment appointment, checked in or in progress; its record if it has one.")
    )


class SideEffectWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SideEffectReport.Kind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    duration_days = serializers.IntegerField(help_text="0-90")
    notes = serializers.CharField(required=False, allow_blank=True, help_text=_("At most 300."))


class InjectionPointWriteSerializer(serializers.Serializer):
    diagram = serializers.ChoiceField(choices=InjectionPoint.Diagram.choices)
    x = _lenient_decimal(help_text=_("0-1, a fraction of the diagram's width; 4 decimals kept."))
    y = _lenient_decimal(help_text=_("0-1, a fraction of the diagram's height; 4 decimals kept."))
    volume_ml = _lenient_decimal(required=False, allow_null=True, help_text="0.01-5")


class TreatedAreaWriteSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=BodyArea.choices)
    product = serializers.IntegerField(help_text=_("A product of the catalogue."))
    lot = serializers.IntegerField(help_text=_("A lot of that product, not expired that day."))
    volume_ml = _lenient_decimal(help_text="0.05-50, 2 decimals")
    injection_points = serializers.IntegerField(help_text="1-500")
    depth_mm = _lenient_decimal(help_text="0.5-13, 1 decimal")
    technique = serializers.ChoiceField(choices=TreatedArea.Technique.choices)
    needle_gauge = serializers.IntegerField(help_text="18-34")
    needle_length_mm = _lenient_decimal(help_text="2-40, 1 decimal")
    points = InjectionPointWriteSerializer(
        many=True, required=False, help_text=_("The points tapped on the injection map.")
    )


class AdverseEventWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AdverseEvent.Kind.choices)
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        help_text=_("A severe event flags the course for review when the record is signed."),
    )
    action_taken = serializers.CharField()
    follow_up = serializers.CharField(required=False, allow_blank=True)


class SessionAssessmentWriteSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=BodyArea.choices)
    condition = serializers.ChoiceField(
        choices=Condition.choices,
        required=False,
        help_text=_("Default: the condition assessed for the area at the consultation."),
    )
    nurnberger_muller_grade = serializers.IntegerField(
        required=False, allow_null=True, help_text="0-3"
    )
    circumference_cm = _lenient_decimal(required=False, allow_null=True, help_text="10-250")


class SessionRecordUpdateSerializer(serializers.Serializer):
    """Fields left out stay as they are; a list given replaces the one saved."""

    no_side_effects_since_last = serializers.BooleanField(required=False)
    health_changes = serializers.CharField(required=False, allow_blank=True)
    medication_changes = serializers.CharField(required=False, allow_blank=True)
    weight_kg = _lenient_decimal(required=False, allow_null=True, help_text="25-300")
    alerts_reviewed = serializers.BooleanField(required=False)
    topical_anaesthetic = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Empty if none.")
    )
    tolerance = serializers.ChoiceField(
        choices=SessionRecord.Tolerance.choices, required=False, allow_blank=True
    )
    aftercare_given = serializers.CharField(required=False, allow_blank=True)
    next_session_recommendation = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    side_effects = SideEffectWriteSerializer(many=True, required=False)
    areas = TreatedAreaWriteSerializer(many=True, required=False)
    adverse_events = AdverseEventWriteSerializer(many=True, required=False)
    assessments = SessionAssessmentWriteSerializer(many=True, required=False)


class SessionAddendumCreateSerializer(serializers.Serializer):
    text = serializers.CharField()
