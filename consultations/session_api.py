"""The treatment-session record API under /api/v1/: session records (start for an appointment,
the autosave while unsigned, sign with 409 and its blockers, addenda), the product catalogue
and its lots, and the manager's lot recall. Practitioners and managers only; views parse, call
a selector, call one service."""

import django_filters
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from clinic import audit
from clinic.areas import BodyArea
from clinic.permissions import Clinicians, Managers
from sessions.selectors import appointment_get_for_user

from . import session_services as services
from .models import (
    AdverseEvent,
    Condition,
    InjectionPoint,
    Photo,
    Product,
    ProductLot,
    SessionAddendum,
    SessionRecord,
    Severity,
    SideEffectReport,
    TreatedArea,
)
from .record_api import AssessmentSerializer
from .selectors import photo_queryset_for_user
from .session_selectors import (
    lot_recall,
    lots_for_session,
    session_photos,
    session_record_get_for_user,
    session_records_for_user,
)
from .signing import blocker_messages


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


def _flatten(errors, path=""):
    """DRF's nested errors as the services name them: ``{"areas.1.lot": [...]}``."""
    if isinstance(errors, dict):
        flat = {}
        for key, value in errors.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY and path:
                key_path = path
            else:
                key_path = f"{path}.{key}" if path else str(key)
            for name, messages in _flatten(value, key_path).items():
                flat.setdefault(name, []).extend(messages)
        return flat
    if isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        flat = {}
        for index, value in enumerate(errors):
            for name, messages in _flatten(value, f"{path}.{index}").items():
                flat.setdefault(name, []).extend(messages)
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {path: [str(m) for m in messages]} if messages else {}


def validated(serializer_class, data, **kwargs):
    """The serializer's data, or a 400 naming each field by its path (areas.1.lot)."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        flat = _flatten(serializer.errors)
        first_path, first = next(iter(flat.items()))
        raise serializers.ValidationError({"detail": f"{first_path}: {first[0]}", **flat})
    return serializer.validated_data


def _rows(rows):
    """Nested serializer rows as plain dicts (points included) for the services."""
    if rows is None:
        return None
    return [{k: _rows(v) if k == "points" else v for k, v in dict(row).items()} for row in rows]


# ---- session records ----
CONFLICT = OpenApiResponse(
    SessionConflictSerializer, description=_("Signed, blocked or not recordable")
)
BAD_INPUT = OpenApiResponse(
    SessionBadInputSerializer, description=_("Invalid input, by field path")
)
FORBIDDEN = OpenApiResponse(description=_("Not this role, or another practitioner's session"))


class SessionRecordFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    course = django_filters.NumberFilter(field_name="appointment__course_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")
    status = django_filters.ChoiceFilter(choices=SessionRecord.Status.choices)

    class Meta:
        model = SessionRecord
        fields = []


def _with_photos(queryset, user):
    return queryset.prefetch_related(
        Prefetch(
            "photos",
            queryset=photo_queryset_for_user(user).order_by("area", "moment", "id"),
            to_attr="visible_photos",
        )
    )


def _record_response(request, pk, *, code=status.HTTP_200_OK, audit_read=False):
    record = session_record_get_for_user(request.user, pk, audit_read=audit_read)
    record.visible_photos = session_photos(request.user, record)
    body = SessionRecordSerializer(record, context={"with_blockers": True}).data
    return Response(body, status=code)


class SessionRecordListCreate(generics.ListAPIView):
    """Session records, latest session first; filter by patient, course, appointment, status."""

    permission_classes = [Clinicians]
    serializer_class = SessionRecordSerializer
    filterset_class = SessionRecordFilter

    def get_queryset(self):
        return _with_photos(session_records_for_user(self.request.user), self.request.user)

    @extend_schema(summary="Session records, latest session first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rows = response.data["results"]
        patients = sorted({row["patient"] for row in rows})
        audit.record(
            actor=request.user,
            action="session_records.listed",
            patient_id=patients[0] if len(patients) == 1 else None,
            detail={
                "query": request.query_params.urlencode()[:300],
                "patients": patients,
                "records": [row["id"] for row in rows],
            },
        )
        return response

    @extend_schema(
        request=SessionRecordCreateSerializer,
        responses={
            201: SessionRecordSerializer,
            200: OpenApiResponse(SessionRecordSerializer, description=_("It existed already")),
            400: BAD_INPUT,
            403: FORBIDDEN,
            409: CONFLICT,
        },
        summary="Open the record of a checked-in treatment session (or return its record)",
    )
    def post(self, request):
        data = validated(SessionRecordCreateSerializer, request.data)
        try:
            appointment = appointment_get_for_user(request.user, data["appointment"])
        except Http404:
            raise serializers.ValidationError(
                {"detail": _("No such appointment."), "appointment": [_("No such appointment.")]}
            ) from None
        existed = SessionRecord.objects.filter(appointment=appointment).exists()
        record = services.session_record_start(actor=request.user, appointment=appointment)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return _record_response(request, record.pk, code=code)


class SessionRecordDetail(APIView):
    permission_classes = [Clinicians]

    @extend_schema(responses=SessionRecordSerializer, summary="One session record, in full")
    def get(self, request, pk):
        return _record_response(request, pk, audit_read=True)

    @extend_schema(
        request=SessionRecordUpdateSerializer,
        responses={200: SessionRecordSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: CONFLICT},
        summary="Save what was recorded so far (the autosave); lists replace; 409 once signed",
    )
    def patch(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        values = dict(validated(SessionRecordUpdateSerializer, request.data))
        lists = {
            name: _rows(values.pop(name, None))
            for name in ("side_effects", "areas", "adverse_events", "assessments")
        }
        services.session_record_save_draft(actor=request.user, record=record, data=values, **lists)
        return _record_response(request, pk)


class SessionRecordSign(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=None,
        responses={200: SessionRecordSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Complete the session: sign (409 with the blockers, or when signed already)",
    )
    def post(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        services.session_record_sign(actor=request.user, record=record)
        return _record_response(request, pk)


class SessionRecordAddenda(APIView):
    permission_classes = [Clinicians]

    @extend_schema(
        request=SessionAddendumCreateSerializer,
        responses={201: SessionAddendumSerializer, 400: BAD_INPUT, 403: FORBIDDEN, 409: CONFLICT},
        summary="Add an addendum to a signed session record",
    )
    def post(self, request, pk):
        record = session_record_get_for_user(request.user, pk, audit_read=False)
        data = validated(SessionAddendumCreateSerializer, request.data)
        addendum = services.session_addendum_add(
            actor=request.user, record=record, text=data["text"]
        )
        return Response(SessionAddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)


# ---- products and lots ----
class LotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductLot
        fields = [
            "id",
            "product",
            "lot_number",
            "expires_on",
            "received_on",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    lots = LotSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "name", "composition", "manufacturer", "is_active", "lots"]
        read_only_fields = fields


class ProductCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    composition = serializers.CharField(required=False, allow_blank=True)
    manufacturer = serializers.CharField(required=False, allow_blank=True, max_length=120)


class LotCreateSerializer(serializers.Serializer):
    lot_number = serializers.CharField(max_length=60, help_text=_("As printed on the vial."))
    expires_on = serializers.DateField()
    received_on = serializers.DateField(required=False, allow_null=True)


class LotStockSerializer(serializers.Serializer):
    is_active = serializers.BooleanField(help_text=_("False takes the lot off the session list."))


class ProductFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = []


def _products():
    """The catalogue with every lot, in two queries (not patient data: not audited)."""
    return Product.objects.prefetch_related(
        Prefetch("lots", queryset=ProductLot.objects.order_by("expires_on", "lot_number"))
    ).order_by("name")


class ProductListCreate(generics.ListAPIView):
    """The product catalogue with its lots (soonest expiry first)."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    def get_permissions(self):
        return [Managers()] if self.request.method == "POST" else [Clinicians()]

    def get_queryset(self):
        return _products()

    @extend_schema(summary="The product catalogue with its lots")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ProductCreateSerializer,
        responses={201: ProductSerializer, 400: BAD_INPUT, 409: CONFLICT},
        summary="Add a product to the catalogue (managers)",
    )
    def post(self, request):
        data = validated(ProductCreateSerializer, request.data)
        product = services.product_add(actor=request.user, **data)
        return Response(
            ProductSerializer(_products().get(pk=product.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ProductLots(generics.ListAPIView):
    """The lots of one product, soonest expiry first."""

    permission_classes = [Clinicians]
    serializer_class = LotSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductLot.objects.none()
        product = get_object_or_404(Product, pk=self.kwargs["pk"])
        return product.lots.order_by("expires_on", "lot_number")

    @extend_schema(summary="The lots of a product")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=LotCreateSerializer,
        responses={201: LotSerializer, 400: BAD_INPUT, 409: CONFLICT},
        summary="Register a delivered lot (409 if the lot number is registered already)",
    )
    def post(self, request, pk):
        product = get_object_or_404(Product, pk=pk)
        data = validated(LotCreateSerializer, request.data)
        lot = services.lot_add(actor=request.user, product=product, **data)
        return Response(LotSerializer(lot).data, status=status.HTTP_201_CREATED)


class LotFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="product_id")
    lot_number = django_filters.CharFilter(lookup_expr="iexact")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = ProductLot
        fields = []


class LotList(generics.ListAPIView):
    """Lots of every product. With ``usable_on``, only those a session that day may record:
    in stock and not expired."""

    permission_classes = [Clinicians]
    serializer_class = LotSerializer
    filterset_class = LotFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductLot.objects.none()
        day = self.request.query_params.get("usable_on")
        if day:
            field = serializers.DateField()
            try:
                return lots_for_session(field.to_internal_value(day))
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"usable_on": exc.detail}) from None
        return ProductLot.objects.select_related("product").order_by(
            "product__name", "expires_on", "lot_number"
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "usable_on",
                OpenApiTypes.DATE,
                description=_("Only lots in stock and not expired on this day."),
            )
        ],
        responses={200: LotSerializer(many=True), 400: BAD_INPUT},
        summary="Product lots, e.g. those usable at a session",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LotDetail(APIView):
    permission_classes = [Managers]

    @extend_schema(
        request=LotStockSerializer,
        responses={200: LotSerializer, 400: BAD_INPUT},
        summary="Take a lot off the session list (used up, recalled) or back on (managers)",
    )
    def patch(self, request, pk):
        lot = get_object_or_404(ProductLot, pk=pk)
        data = validated(LotStockSerializer, request.data)
        lot = services.lot_set_in_stock(actor=request.user, lot=lot, in_stock=data["is_active"])
        return Response(LotSerializer(lot).data)


# ---- lot recall ----
class RecallRowSerializer(serializers.Serializer):
    """One treated area that used the lot: who, when, what, how much."""

    patient = serializers.IntegerField(source="patient.pk")
    patient_name = serializers.CharField(source="patient.full_name")
    date_of_birth = serializers.DateField(source="patient.date_of_birth")
    email = serializers.CharField(source="patient.email")
    mobile_phone = serializers.SerializerMethodField()
    session_record = serializers.IntegerField(source="record.pk")
    record_status = serializers.ChoiceField(
        source="record.status", choices=SessionRecord.Status.choices
    )
    appointment = serializers.IntegerField(source="appointment.pk")
    session_starts_at = serializers.SerializerMethodField(
        help_text=_("In the location's time zone, with its offset.")
    )
    practitioner_name = serializers.CharField(source="record.practitioner.__str__")
    area = serializers.ChoiceField(source="treated_area.area", choices=BodyArea.choices)
    product = serializers.IntegerField(source="treated_area.product_id")
    product_name = serializers.CharField(source="treated_area.product.name")
    lot = serializers.IntegerField(source="treated_area.lot_id")
    lot_number = serializers.CharField(source="treated_area.lot.lot_number")
    lot_expires_on = serializers.DateField(source="treated_area.lot.expires_on")
    volume_ml = serializers.DecimalField(
        source="treated_area.volume_ml", max_digits=5, decimal_places=2
    )

    def get_mobile_phone(self, row) -> str:
        phone = row.patient.mobile_phone
        return phone.as_e164 if phone else ""

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_session_starts_at(self, row):
        return row.appointment.local_start.isoformat()


class LotRecall(generics.ListAPIView):
    """Every session that used a lot number (any product, any case), with the patient's
    contact details. Managers only; each search is audited with the patients it found."""

    permission_classes = [Managers]
    serializer_class = RecallRowSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return []
        lot_number = (self.request.query_params.get("lot_number") or "").strip()
        if not lot_number:
            message = _("Give the lot number to search for.")
            raise serializers.ValidationError({"detail": message, "lot_number": [message]})
        return lot_recall(self.request.user, lot_number)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "lot_number", OpenApiTypes.STR, required=True, description=_("As on the vial.")
            )
        ],
        responses={200: RecallRowSerializer(many=True), 400: BAD_INPUT},
        summary="Lot recall: every patient and session that received a lot (managers)",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
