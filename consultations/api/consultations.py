"""The consultation record API under /api/v1/consultations/: drafts with their assessments,
the history review, signing (409 with what blocks it), addenda and the plan. Practitioners
and managers only; views parse, call a selector, call one service."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.permissions import Clinicians
from consultations.models import Consultation
from consultations.selectors.consultations import (
    consultation_get_for_user,
    consultation_queryset_for_user,
)
from consultations.serializers.consultations import (
    AddendumCreateSerializer,
    AddendumSerializer,
    ConsultationConflictSerializer,
    ConsultationCreateSerializer,
    ConsultationErrorSerializer,
    ConsultationSerializer,
    ConsultationUpdateSerializer,
    PlanSerializer,
    PlanWriteSerializer,
)
from consultations.services import consultations as services
from patients.selectors import patient_get_for_user
from sessions.selectors import appointment_get_for_user

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
