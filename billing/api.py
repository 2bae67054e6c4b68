"""The billing REST API under /api/v1/: invoices (list, retrieve, issue, credit), payments
(list, take, refund), packages, the price list and the patient ledger for front desk and
managers; ``me/`` for the patient's own. Views parse, call a selector, call one service."""

import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic import audit
from clinic.errors import ApplicationError
from clinic.models import Location
from clinic.permissions import FrontDesk, IsPortalUser
from patients.selectors import patient_for_portal_user, patient_get_for_user
from sessions.models import AppointmentType, Course

from . import selectors, services
from .models import Invoice, Package, Payment, PaymentMethod, PriceList
from .money import round_money
from .pricing import price_list_in_force
from .serializers import (
    CreditRequestSerializer,
    InvoiceDetailSerializer,
    InvoiceSerializer,
    LedgerSerializer,
    PackageCreateSerializer,
    PackageSerializer,
    PaymentCreateSerializer,
    PaymentResultSerializer,
    PaymentSerializer,
    PriceListSerializer,
    RefundRequestSerializer,
    RefundSerializer,
)

ERROR = inline_serializer(
    "BillingError",
    {"detail": serializers.CharField(), "id": serializers.IntegerField(required=False)},
)
CONFLICT = OpenApiResponse(ERROR, description="Refused by the billing rules (state, currency)")
BAD = OpenApiResponse(ERROR, description="Invalid input, with the field named")


def _audit_listed(request, action, response):
    """One audit event per page of a list: who read which patients' billing rows."""
    rows = response.data.get("results", []) if isinstance(response.data, dict) else response.data
    patients = sorted({row["patient"] for row in rows if row.get("patient") is not None})
    audit.record(
        actor=request.user,
        action=action,
        patient_id=patients[0] if len(patients) == 1 else None,
        detail={
            "query": request.query_params.urlencode()[:300],
            "patients": patients,
            "ids": [row["id"] for row in rows],
        },
    )
    return response


def _detail_instance(detail):
    invoice = detail.invoice
    invoice.detail_lines = detail.lines
    invoice.detail_allocations = detail.allocations
    return invoice


def _invoice_payload(user, pk):
    return InvoiceDetailSerializer(_detail_instance(selectors.invoice_detail(user, pk))).data


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Invoice.Kind.choices)
    purpose = django_filters.ChoiceFilter(choices=Invoice.Purpose.choices)
    patient = django_filters.NumberFilter(field_name="patient_id")
    location = django_filters.NumberFilter(field_name="location_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")
    issued_after = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__gte")
    issued_before = django_filters.DateFilter(field_name="issued_at", lookup_expr="date__lte")
    unpaid = django_filters.BooleanFilter(method="filter_unpaid", label="Only with something due")

    class Meta:
        model = Invoice
        fields = []

    def filter_unpaid(self, queryset, name, value):
        if value:
            return queryset.filter(status="issued", kind="invoice", due_raw__gt=0)
        return queryset


class _InvoiceList(generics.ListAPIView):
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        response = self.get_paginated_response(
            self.get_serializer(selectors.decorate(page), many=True).data
        )
        return _audit_listed(request, "invoices.listed", response)


@extend_schema(summary="Invoices and credit notes (newest first)")
class InvoiceList(_InvoiceList):
    permission_classes = [FrontDesk]

    def get_queryset(self):
        return selectors.invoice_list(self.request.user)


class InvoiceDetail(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(responses=InvoiceDetailSerializer, summary="One invoice with its lines")
    def get(self, request, pk):
        return Response(_invoice_payload(request.user, pk))


class InvoiceIssue(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=None,
        responses={200: InvoiceDetailSerializer, 400: BAD, 409: CONFLICT},
        summary="Issue a draft: gives it the next number of its location and year",
    )
    def post(self, request, pk):
        invoice = selectors.invoice_get_for_user(request.user, pk, audit_read=False)
        services.invoice_issue(actor=request.user, invoice=invoice)
        return Response(_invoice_payload(request.user, pk))


class InvoiceCredit(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=CreditRequestSerializer,
        responses={201: InvoiceDetailSerializer, 400: BAD, 409: CONFLICT},
        summary="Issue a credit note for some or all lines of an issued invoice",
    )
    def post(self, request, pk):
        invoice = selectors.invoice_get_for_user(request.user, pk, audit_read=False)
        data = CreditRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.credit_note_issue(
            actor=request.user,
            invoice=invoice,
            reason=data.validated_data["reason"],
            line_ids=data.validated_data.get("lines"),
        )
        return Response(_invoice_payload(request.user, note.pk), status=status.HTTP_201_CREATED)


class PaymentFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    invoice = django_filters.NumberFilter(field_name="invoice_id")
    method = django_filters.ChoiceFilter(
        choices=[c for c in PaymentMethod.choices if c[0] != PaymentMethod.ACCOUNT_CREDIT]
    )
    purpose = django_filters.ChoiceFilter(choices=Payment.Purpose.choices)
    received_after = django_filters.DateFilter(field_name="received_at", lookup_expr="date__gte")
    received_before = django_filters.DateFilter(field_name="received_at", lookup_expr="date__lte")

    class Meta:
        model = Payment
        fields = []


class PaymentListCreate(generics.ListAPIView):
    """Payments (newest first) with refunds; POST takes a payment for an invoice."""

    permission_classes = [FrontDesk]
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return (
            selectors.payment_queryset_for_user(self.request.user)
            .prefetch_related("refunds")
            .order_by("-received_at", "-id")
        )

    def list(self, request, *args, **kwargs):
        return _audit_listed(request, "payments.listed", super().list(request, *args, **kwargs))

    @extend_schema(
        request=PaymentCreateSerializer,
        responses={201: PaymentResultSerializer, 400: BAD, 409: CONFLICT},
        summary="Take a payment (cash, card, transfer), apply account credit, or a deposit",
    )
    def post(self, request):
        data = PaymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if not v.get("invoice"):
            course = get_object_or_404(
                Course.objects.select_related("patient", "location"), pk=v["course"]
            )
            deposit = services.deposit_take(
                actor=request.user,
                patient=course.patient,
                location=course.location,
                method=v["method"],
                amount=v["amount"],
                reference=v.get("reference", ""),
                course=course,
                currency=v.get("currency") or None,
            )
            body = {
                "payment": PaymentSerializer(self.get_queryset().get(pk=deposit.pk)).data,
                "applied": "0",
                "to_account_credit": str(round_money(deposit.amount, deposit.currency)),
                "invoice": None,
            }
            return Response(body, status=status.HTTP_201_CREATED)
        invoice = selectors.invoice_get_for_user(request.user, v["invoice"], audit_read=False)
        payment = services.payment_take(
            actor=request.user,
            invoice=invoice,
            method=v["method"],
            amount=v["amount"],
            reference=v.get("reference", ""),
            currency=v.get("currency") or None,
        )
        refreshed = selectors.invoice_get_for_user(request.user, invoice.pk, audit_read=False)
        body = {
            "payment": (
                PaymentSerializer(self.get_queryset().get(pk=payment.pk)).data
                if payment.pk
                else None
            ),
            "applied": str(round_money(payment.applied, invoice.currency)),
            "to_account_credit": str(round_money(payment.to_credit, invoice.currency)),
            "invoice": InvoiceSerializer(refreshed).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class PaymentRefund(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        request=RefundRequestSerializer,
        responses={201: RefundSerializer, 400: BAD, 409: CONFLICT},
        summary="Refund (part of) a payment to the method it came by",
    )
    def post(self, request, pk):
        payment = selectors.payment_get_for_user(request.user, pk)
        data = RefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = services.refund_issue(actor=request.user, payment=payment, **data.validated_data)
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PackageFilter(django_filters.FilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    course = django_filters.NumberFilter(field_name="course_id")
    status = django_filters.ChoiceFilter(choices=Package.Status.choices)

    class Meta:
        model = Package
        fields = []


class PackageListCreate(generics.ListAPIView):
    permission_classes = [FrontDesk]
    serializer_class = PackageSerializer
    filterset_class = PackageFilter

    def get_queryset(self):
        return selectors.package_queryset_for_user(self.request.user).order_by("-sold_at", "-id")

    def list(self, request, *args, **kwargs):
        return _audit_listed(request, "packages.listed", super().list(request, *args, **kwargs))

    @extend_schema(
        request=PackageCreateSerializer,
        responses={201: PackageSerializer, 400: BAD, 409: CONFLICT},
        summary="Sell a package (its invoice is issued at once)",
    )
    def post(self, request):
        data = PackageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        patient = patient_get_for_user(request.user, v["patient"], audit_read=False)
        course = None
        if v.get("course"):
            course = get_object_or_404(Course, pk=v["course"], patient=patient)
        appointment_type = None
        if v.get("appointment_type"):
            appointment_type = get_object_or_404(AppointmentType, pk=v["appointment_type"])
        location = (
            get_object_or_404(Location, pk=v["location"])
            if v.get("location")
            else (course.location if course else Location.objects.filter(is_active=True).first())
        )
        if location is None:
            raise ApplicationError("Give the location.", field="location")
        package = services.package_sell(
            actor=request.user,
            patient=patient,
            location=location,
            appointment_type=appointment_type,
            sessions=v.get("sessions"),
            price=v["price"],
            course=course,
            name=v.get("name", ""),
        )
        return Response(
            PackageSerializer(self.get_queryset().get(pk=package.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class PackageDetail(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(responses=PackageSerializer, summary="One package with its sessions left")
    def get(self, request, pk):
        return Response(PackageSerializer(selectors.package_get_for_user(request.user, pk)).data)


class PriceListView(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="Day (default: today)")],
        responses={200: PriceListSerializer, 404: OpenApiResponse(description="No prices")},
        summary="The price list in force on a day",
    )
    def get(self, request):
        day = parse_date(request.query_params.get("on", "") or "") or timezone.localdate()
        found = price_list_in_force(day)
        if found is None:
            raise Http404
        price_list = (
            PriceList.objects.prefetch_related(
                "sessions__appointment_type", "areas", "products__product"
            )
            .select_related("tax_rate")
            .get(pk=found.pk)
        )
        return Response(PriceListSerializer(price_list).data)


def _ledger_body(user, patient):
    account = selectors.patient_account(user, patient)
    return LedgerSerializer(account).data


class PatientLedger(APIView):
    permission_classes = [FrontDesk]

    @extend_schema(responses=LedgerSerializer, summary="A patient's ledger, balance and packages")
    def get(self, request, patient_id):
        patient = patient_get_for_user(request.user, patient_id, audit_read=False)
        return Response(_ledger_body(request.user, patient))


# --- The patient's own --------------------------------------------------------------------------


@extend_schema(summary="My invoices and credit notes")
class MyInvoiceList(_InvoiceList):
    permission_classes = [IsPortalUser]

    def get_queryset(self):
        return selectors.invoice_list(self.request.user)


class MyInvoiceDetail(APIView):
    permission_classes = [IsPortalUser]

    @extend_schema(responses=InvoiceDetailSerializer, summary="One of my invoices")
    def get(self, request, pk):
        return Response(_invoice_payload(request.user, pk))


class MyLedger(APIView):
    permission_classes = [IsPortalUser]

    @extend_schema(responses=LedgerSerializer, summary="My balance, ledger and packages")
    def get(self, request):
        return Response(_ledger_body(request.user, patient_for_portal_user(request.user)))


class MyPackages(generics.ListAPIView):
    permission_classes = [IsPortalUser]
    serializer_class = PackageSerializer

    @extend_schema(summary="My packages with the sessions left")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.package_queryset_for_user(self.request.user).order_by("-sold_at", "-id")

    def list(self, request, *args, **kwargs):
        return _audit_listed(request, "packages.listed", super().list(request, *args, **kwargs))
