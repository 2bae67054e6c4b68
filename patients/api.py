"""The patient REST API under /api/v1/: staff endpoints (patients/, consents/) and the patient's
own ones (me/). Views parse input, call a selector, call one service and render."""

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.permissions import is_portal_user, is_staff_user

from . import selectors, services
from .models import ConsentSignature, MedicalHistory, Patient
from .serializers import (
    AcknowledgementSerializer,
    AlertAcknowledgeSerializer,
    AlertSerializer,
    ConsentSignatureSerializer,
    ConsentSignSerializer,
    ConsentWithdrawSerializer,
    DuplicateConflictSerializer,
    ForceQuerySerializer,
    MedicalHistoryInputSerializer,
    MedicalHistorySerializer,
    PatientCreateSerializer,
    PatientSerializer,
    PortalPatientSerializer,
)

VIEW_PATIENT = "patients.view_patient"
ADD_PATIENT = "patients.add_patient"
CHANGE_PATIENT = "patients.change_patient"
VIEW_HISTORY = "patients.view_medical_history"
CHANGE_HISTORY = "patients.change_medical_history"


class StaffPermission(BasePermission):
    """Clinic staff holding the permission named for the request's HTTP method."""

    message = _("Your role may not do this.")
    perms: dict[str, str] = {}

    def has_permission(self, request, view):
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        perm = self.perms.get(method)
        return bool(perm) and is_staff_user(request.user) and request.user.has_perm(perm)


def staff_with(**perms):
    """``staff_with(get=VIEW_PATIENT, post=ADD_PATIENT)``: a permission class per method."""
    perms = {method.upper(): perm for method, perm in perms.items()}
    return type("StaffWith", (StaffPermission,), {"perms": perms})


# --- Staff: patients -------------------------------------------------------------------------


class PatientFilter(django_filters.FilterSet):
    """The list's query parameters. They only parse the input: the search itself is
    ``selectors.patient_search``, which scopes it to what the user may see."""

    search = django_filters.CharFilter(
        label=_("A name (accents ignored), phone number in any format, email or birth date")
    )
    date_of_birth = django_filters.DateFilter()
    phone = django_filters.CharFilter(label=_("Phone number in any format"))
    email = django_filters.CharFilter(label=_("Exact email address"))

    class Meta:
        model = Patient
        fields = []

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return selectors.patient_search(
            self.request.user,
            data.get("search") or "",
            date_of_birth=data.get("date_of_birth"),
            phone=data.get("phone") or None,
            email=data.get("email") or None,
        )


@extend_schema_view(
    list=extend_schema(summary="Search and list patients"),
    retrieve=extend_schema(summary="A patient's identity and contact details"),
    create=extend_schema(
        summary="Register a patient",
        parameters=[ForceQuerySerializer],
        request=PatientCreateSerializer,
        responses={
            201: PatientSerializer,
            409: OpenApiResponse(
                DuplicateConflictSerializer,
                description="Likely duplicates exist; repeat with force=true to register anyway.",
            ),
        },
    ),
    update=extend_schema(summary="Change a patient's details"),
    partial_update=extend_schema(summary="Change some of a patient's details"),
)
class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Patients for the front desk, practitioners and managers."""

    serializer_class = PatientSerializer
    permission_classes = [
        staff_with(get=VIEW_PATIENT, post=ADD_PATIENT, put=CHANGE_PATIENT, patch=CHANGE_PATIENT)
    ]
    filterset_class = PatientFilter

    def get_queryset(self):
        return selectors.patient_queryset_for_user(self.request.user)

    def get_serializer_class(self):
        return PatientCreateSerializer if self.action == "create" else PatientSerializer

    def get_object(self):
        # Reads are audited by the selector; a write is audited by its service instead.
        return selectors.patient_get_for_user(
            self.request.user, self.kwargs["pk"], audit_read=self.request.method == "GET"
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        query = ForceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        force = data.pop("force") or query.validated_data["force"]
        patient = services.patient_create(actor=request.user, data=data, force=force)
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        patient = self.get_object()
        serializer = self.get_serializer(
            patient, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(
            actor=request.user, patient=patient, data=serializer.validated_data
        )
        return Response(PatientSerializer(patient).data)


class PatientScopedMixin:
    """For endpoints under /patients/{patient_id}/: the patient, if the user may see them."""

    def get_patient(self, *, audit_read=False):
        return selectors.patient_get_for_user(
            self.request.user, self.kwargs["patient_id"], audit_read=audit_read
        )


class _HistoryListCreate(generics.ListCreateAPIView):
    serializer_class = MedicalHistorySerializer
    source = MedicalHistory.Source.CLINIC

    def history_patient(self, *, audit_read):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MedicalHistory.objects.none()
        return selectors.medical_history_list(
            self.request.user, self.history_patient(audit_read=False)
        )

    def create(self, request, *args, **kwargs):
        patient = self.history_patient(audit_read=False)
        serializer = MedicalHistoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        allergies = [dict(a) for a in data.pop("allergies", [])]
        medications = [dict(m) for m in data.pop("medications", [])]
        history = services.medical_history_submit(
            actor=request.user,
            patient=patient,
            data=data,
            allergies=allergies,
            medications=medications,
            source=self.source,
        )
        return Response(MedicalHistorySerializer(history).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Versions of a patient's medical history, newest first"),
    post=extend_schema(
        summary="Record a new version of a patient's medical history",
        request=MedicalHistoryInputSerializer,
        responses={201: MedicalHistorySerializer},
    ),
)
class PatientMedicalHistoryView(PatientScopedMixin, _HistoryListCreate):
    """Practitioners and managers."""

    permission_classes = [staff_with(get=VIEW_HISTORY, post=CHANGE_HISTORY)]

    def history_patient(self, *, audit_read):
        return self.get_patient(audit_read=audit_read)


@extend_schema(
    summary="Alerts of the patient's current medical history", responses=AlertSerializer(many=True)
)
class PatientAlertsView(PatientScopedMixin, APIView):
    permission_classes = [staff_with(get=VIEW_HISTORY)]

    def get(self, request, patient_id):
        alerts = selectors.patient_alerts_for_user(request.user, self.get_patient())
        return Response(AlertSerializer(alerts, many=True).data)


@extend_schema(
    summary="Acknowledge an alert of the current history with a note",
    request=AlertAcknowledgeSerializer,
    responses={201: AcknowledgementSerializer},
)
class PatientAlertAcknowledgeView(PatientScopedMixin, APIView):
    permission_classes = [staff_with(post=CHANGE_HISTORY)]

    def post(self, request, patient_id):
        patient = self.get_patient()
        serializer = AlertAcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ack = services.alert_acknowledge(
            actor=request.user, patient=patient, **serializer.validated_data
        )
        return Response(AcknowledgementSerializer(ack).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="The patient's signed consents (valid and withdrawn)"),
    post=extend_schema(
        summary="Sign a consent at the desk",
        request=ConsentSignSerializer,
        responses={201: ConsentSignatureSerializer},
    ),
)
class PatientConsentsView(PatientScopedMixin, generics.ListCreateAPIView):
    serializer_class = ConsentSignatureSerializer
    permission_classes = [staff_with(get=VIEW_PATIENT, post=VIEW_PATIENT)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ConsentSignature.objects.none()
        return selectors.consent_status(self.get_patient(audit_read=True))["signatures"]

    def create(self, request, *args, **kwargs):
        patient = self.get_patient()
        serializer = ConsentSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signature = services.consent_sign(
            actor=request.user,
            patient=patient,
            via="desk",
            request=request._request,
            **serializer.validated_data,
        )
        return Response(ConsentSignatureSerializer(signature).data, status=status.HTTP_201_CREATED)


def _withdraw(request, signature):
    serializer = ConsentWithdrawSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    signature = services.consent_withdraw(
        actor=request.user, signature=signature, reason=serializer.validated_data["reason"]
    )
    return Response(ConsentSignatureSerializer(signature).data)


@extend_schema(
    summary="Withdraw a signed consent (it is kept, marked withdrawn)",
    request=ConsentWithdrawSerializer,
    responses={200: ConsentSignatureSerializer},
)
class ConsentWithdrawView(APIView):
    permission_classes = [staff_with(post=CHANGE_PATIENT)]

    def post(self, request, signature_id):
        return _withdraw(
            request, selectors.consent_signature_get_for_user(request.user, signature_id)
        )


# --- The patient's own record (portal) ----------------------------------------------------------


def own_patient(user):
    """The logged-in patient's record. Staff have no "own" record here: 404."""
    if not is_portal_user(user):
        raise Http404(_("This is for patients using the portal only."))
    return selectors.patient_for_portal_user(user)


@extend_schema_view(
    get=extend_schema(summary="My patient record"),
    patch=extend_schema(summary="Change my contact details and communication choices"),
)
class MyPatientView(generics.RetrieveUpdateAPIView):
    serializer_class = PortalPatientSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return own_patient(self.request.user)

    def update(self, request, *args, **kwargs):
        patient = self.get_object()
        serializer = self.get_serializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(
            actor=request.user,
            patient=patient,
            data=serializer.validated_data,
            allowed_fields=services.PORTAL_EDITABLE_FIELDS,
        )
        return Response(PortalPatientSerializer(patient).data)


@extend_schema_view(
    get=extend_schema(summary="Versions of my medical history, newest first"),
    post=extend_schema(
        summary="Submit a new version of my medical history",
        request=MedicalHistoryInputSerializer,
        responses={201: MedicalHistorySerializer},
    ),
)
class MyMedicalHistoryView(_HistoryListCreate):
    source = MedicalHistory.Source.PORTAL

    def history_patient(self, *, audit_read):
        return own_patient(self.request.user)


@extend_schema_view(get=extend_schema(summary="My signed consents (valid and withdrawn)"))
class MyConsentsView(generics.ListAPIView):
    serializer_class = ConsentSignatureSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ConsentSignature.objects.none()
        return selectors.consent_status(own_patient(self.request.user))["signatures"]


@extend_schema(
    summary="Withdraw one of my consents",
    request=ConsentWithdrawSerializer,
    responses={200: ConsentSignatureSerializer},
)
class MyConsentWithdrawView(APIView):
    def post(self, request, signature_id):
        patient = own_patient(request.user)
        signature = selectors.consent_signature_get_for_user(request.user, signature_id)
        if signature.patient_id != patient.pk:
            raise Http404
        return _withdraw(request, signature)
