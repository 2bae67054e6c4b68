"""What the consultation record API (``consultations.api.consultations``) reads and writes:
the record with its assessments, plan and addenda, and the shapes of its inputs and errors."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.areas import BodyArea
from consultations.models import (
    Addendum,
    AreaAssessment,
    Condition,
    Consultation,
    Product,
    TreatmentPlan,
)
from consultations.services import consultations as services
from consultations.signing import blocker_messages
from sessions.models import AppointmentType


# ---- what goes out ----
class AssessmentSerializer(serializers.ModelSerializer):
    hexsel_total = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Four Hexsel items plus the grade, 0-15.")
    )

    class Meta:
        model = AreaAssessment
        fields = [
            "area",
            "condition",
            "nurnberger_muller_grade",
            "hexsel_depressions",
            "hexsel_depth",
            "hexsel_morphology",
            "hexsel_laxity",
            "hexsel_total",
            "circumference_cm",
            "notes",
            "recorded_at",
        ]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    areas = serializers.ListField(child=serializers.ChoiceField(choices=BodyArea.choices))
    product_name = serializers.CharField(source="product.name", read_only=True)
    total = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)

    class Meta:
        model = TreatmentPlan
        fields = [
            "areas",
            "product",
            "product_name",
            "appointment_type",
            "planned_sessions",
            "interval_days",
            "price_per_session",
            "total",
            "currency",
            "course",
        ]
        read_only_fields = fields


class AddendumSerializer(serializers.ModelSerializer):
    class Meta:
        model = Addendum
        fields = ["id", "text", "written_by", "written_at"]
        read_only_fields = fields


class ConsultationSerializer(serializers.ModelSerializer):
    medical_history_version = serializers.IntegerField(
        source="medical_history.version",
        read_only=True,
        allow_null=True,
        help_text=_("The history version reviewed."),
    )
    bmi = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)
    assessments = AssessmentSerializer(many=True, read_only=True)
    plan = PlanSerializer(read_only=True, allow_null=True)
    addenda = AddendumSerializer(many=True, read_only=True)
    sign_blockers = serializers.SerializerMethodField(
        help_text=_(
            "What still stops signing (empty when it can be signed). Only in answers about one "
            "consultation; null in lists."
        )
    )

    class Meta:
        model = Consultation
        fields = [
            "id",
            "patient",
            "appointment",
            "practitioner",
            "status",
            "complaint",
            "goals",
            "tried_before",
            "medical_history_version",
            "history_reviewed_at",
            "weight_kg",
            "height_cm",
            "bmi",
            "explained_expected_results",
            "explained_number_of_sessions",
            "explained_side_effects",
            "explained_maintenance",
            "notes",
            "assessments",
            "plan",
            "addenda",
            "signed_at",
            "signed_by",
            "created_at",
            "updated_at",
            "sign_blockers",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.CharField(), allow_null=True, read_only=True)
    )
    def get_sign_blockers(self, consultation):
        if not self.context.get("with_blockers"):
            return None
        return (
            [] if consultation.is_signed else blocker_messages(services.sign_blockers(consultation))
        )


class ConsultationConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    blockers = serializers.ListField(child=serializers.CharField(), required=False)


class ConsultationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(
        help_text=_("What was wrong; the field is also a key, e.g. assessments.2.circumference_cm.")
    )


# ---- what comes in ----
class ConsultationCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    appointment = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("The consultation appointment; its existing record is returned if any."),
    )


class AssessmentWriteSerializer(serializers.Serializer):
    """Ranges are checked by the service, which names the row: assessments.N.field."""

    area = serializers.ChoiceField(choices=BodyArea.choices)
    condition = serializers.ChoiceField(choices=Condition.choices)
    nurnberger_muller_grade = serializers.IntegerField(
        required=False, allow_null=True, help_text="0-3"
    )
    hexsel_depressions = serializers.IntegerField(required=False, allow_null=True, help_text="0-3")
    hexsel_depth = serializers.IntegerField(required=False, allow_null=True, help_text="0-3")
    hexsel_morphology = serializers.IntegerField(required=False, allow_null=True, help_text="0-3")
    hexsel_laxity = serializers.IntegerField(required=False, allow_null=True, help_text="0-3")
    circumference_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True, help_text="10-250"
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class ConsultationUpdateSerializer(serializers.Serializer):
    complaint = serializers.CharField(required=False, allow_blank=True)
    goals = serializers.CharField(required=False, allow_blank=True)
    tried_before = serializers.CharField(required=False, allow_blank=True)
    weight_kg = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True, help_text="25-300"
    )
    height_cm = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True, help_text="100-230"
    )
    explained_expected_results = serializers.BooleanField(required=False)
    explained_number_of_sessions = serializers.BooleanField(required=False)
    explained_side_effects = serializers.BooleanField(required=False)
    explained_maintenance = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    assessments = AssessmentWriteSerializer(
        many=True,
        required=False,
        help_text=_("The full list of assessed areas: areas left out are removed."),
    )


class PlanWriteSerializer(serializers.Serializer):
    areas = serializers.ListField(
        child=serializers.ChoiceField(choices=BodyArea.choices), allow_empty=False
    )
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    appointment_type = serializers.PrimaryKeyRelatedField(
        queryset=AppointmentType.objects.filter(is_active=True)
    )
    planned_sessions = serializers.IntegerField(help_text="1-25")
    interval_days = serializers.IntegerField(default=7, help_text="1-90")
    price_per_session = serializers.DecimalField(max_digits=8, decimal_places=2)


class AddendumCreateSerializer(serializers.Serializer):
    text = serializers.CharField()
