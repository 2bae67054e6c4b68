"""The consultation record API under /api/v1/consultations/: drafts with their assessments,
the history review, signing (409 with what blocks it), addenda and the plan. Practitioners
and managers only; views parse, call a selector, call one service."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.areas import BodyArea
from clinic.permissions import Clinicians
from patients.selectors import patient_get_for_user
from sessions.models import AppointmentType
from sessions.selectors import appointment_get_for_user

from . import services
from .models import Addendum, AreaAssessment, Condition, Consultation, Product, TreatmentPlan
from .record_selectors import consultation_get_for_user, consultation_queryset_for_user
from .signing import blocker_messages


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


# ---- views ----
CONFLICT = OpenApiResponse(ConsultationConflictSerializer, description=_("Signed, or blocked"))
BAD_INPUT = OpenApiResponse(ConsultationErrorSerializer, description=_("Invalid input"))


class ConsultationFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")
    status = django_filters.ChoiceFilter(choices=Consultation.Status.choices)

    class Meta:
        model = Consultation
        fields = []


def _detail(request, pk):
    consultation = consultation_get_for_user(request.user, pk, audit_read=False)
    return Response(ConsultationSerializer(consultation, context={"with_blockers": True}).data)


class ConsultationListCreate(generics.ListAPIView):
    """Consultations, newest first; filter by patient."""

    permission_classes = [Clinicians]
    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter

    def get_queryset(self):
        return consultation_queryset_for_user(self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit.record(
            actor=request.user,
            action="consultations.listed",
            detail={"query": request.query_params.urlencode()[:300]},
        )
        return response

    @extend_schema(
        request=ConsultationCreateSerializer,
        responses={
            201: ConsultationSerializer,
            200: ConsultationSerializer,
            400: BAD_INPUT,
        },
        summary="Start the consultation of a patient (or return the one of the appointment)",
    )
    def post(self, request):
        data = ConsultationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = patient_get_for_user(request.user, data.validated_data["patient"])
        appointment_id = data.validated_data.get("appointment")
        appointment = None
        existed = False
        if appointment_id is not None:
            appointment = appointment_get_for_user(request.user, appointment_id)
            existed = Consultation.objects.filter(appointment=appointment).exists()
        consultation = services.consultation_start(
            actor=request.user, patient=patient, appointment=appointment
        )
        response = _detail(request, consultation.pk)
        response.status_code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return response


class ConsultationDetail(APIView):
    permission_classes = [Clinicians]

    @extend_schema(responses=ConsultationSerializer, summary="One consultation")
    def get(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk)
        return Response(ConsultationSerializer(consultation, context={"with_blockers": True}).data)

    @extend_schema(
        request=ConsultationUpdateSerializer,
        responses={200: ConsultationSerializer, 400: BAD_INPUT, 409: CONFLICT},
        summary="Save draft fields and assessments (the autosave); 409 once signed",
    )
    def patch(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk, audit_read=False)
        data = ConsultationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        assessments = values.pop("assessments", None)
        services.consultation_save_draft(
            actor=request.user,
            consultation=consultation,
            data=values,
            assessments=[dict(a) for a in assessments] if assessments is not None else None,
        )
        return _detail(request, pk)


class ConsultationReviewHistory(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=None,
        responses={200: ConsultationSerializer, 409: CONFLICT},
        summary="Record that the current medical history version was reviewed",
    )
    def post(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk, audit_read=False)
        services.consultation_review_history(actor=request.user, consultation=consultation)
        return _detail(request, pk)


class ConsultationSign(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=None,
        responses={200: ConsultationSerializer, 409: CONFLICT},
        summary="Sign; 409 with the blockers (history not reviewed, alerts, no area)",
    )
    def post(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk, audit_read=False)
        services.consultation_sign(actor=request.user, consultation=consultation)
        return _detail(request, pk)


class ConsultationAddenda(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=AddendumCreateSerializer,
        responses={201: AddendumSerializer, 400: BAD_INPUT, 409: CONFLICT},
        summary="Add an addendum to a signed consultation",
    )
    def post(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk, audit_read=False)
        data = AddendumCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        addendum = services.addendum_add(
            actor=request.user, consultation=consultation, text=data.validated_data["text"]
        )
        return Response(AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)


class ConsultationPlan(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=PlanWriteSerializer,
        responses={200: PlanSerializer, 400: BAD_INPUT, 409: CONFLICT},
        summary="Set the treatment plan and quote of a draft",
    )
    def put(self, request, pk):
        consultation = consultation_get_for_user(request.user, pk, audit_read=False)
        data = PlanWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = services.plan_save(
            actor=request.user, consultation=consultation, data=dict(data.validated_data)
        )
        return Response(PlanSerializer(plan).data)
