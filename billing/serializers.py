"""Serializers of the billing API. Money goes out as decimal strings with the currency's own
number of decimals ("300.00" USD, "300" JPY); times as ISO 8601 with offset."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clinic.areas import BodyArea

from .models import (
    Allocation,
    AreaPrice,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Package,
    Payment,
    PaymentMethod,
    PriceList,
    ProductPrice,
    Refund,
    SessionPrice,
)
from .money import round_money


@extend_schema_field(OpenApiTypes.DECIMAL)
class MoneyField(serializers.Field):
    """A read-only amount rounded to the currency of ``currency_source`` (dotted path on
    the object), as a string."""

    def __init__(self, *, currency_source="currency", **kwargs):
        kwargs["read_only"] = True
        self.currency_source = currency_source
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        currency = instance
        for part in self.currency_source.split("."):
            currency = getattr(currency, part, None)
        return value, currency

    def to_representation(self, data):
        value, currency = data
        if value is None:
            return None
        return str(round_money(value, currency)) if currency else str(value)


class LineSerializer(serializers.ModelSerializer):
    unit_price = MoneyField(currency_source="invoice.currency")
    discount = MoneyField(currency_source="invoice.currency")
    net = MoneyField(currency_source="invoice.currency")
    tax = MoneyField(currency_source="invoice.currency")
    total = MoneyField(currency_source="invoice.currency")
    area = serializers.ChoiceField(choices=BodyArea.choices, allow_blank=True)

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "kind",
            "description",
            "area",
            "tier",
            "quantity",
            "unit_price",
            "discount",
            "tax_rate",
            "tax_included",
            "net",
            "tax",
            "total",
            "practitioner",
            "package",
        ]


class AllocationSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency_source="invoice.currency")
    method = serializers.SerializerMethodField()

    class Meta:
        model = Allocation
        fields = ["id", "source", "method", "amount", "payment", "credit_note", "created_at"]

    def get_method(self, allocation) -> str | None:
        if allocation.source == Allocation.Source.ACCOUNT_CREDIT:
            return PaymentMethod.ACCOUNT_CREDIT
        return allocation.payment.method if allocation.payment_id else None


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice or credit note with what is paid and due (list and detail)."""

    subtotal = MoneyField()
    tax_total = MoneyField()
    total = MoneyField()
    paid = MoneyField()
    credited = MoneyField()
    due = MoneyField()
    state = serializers.CharField(
        help_text="draft, void, paid, part_paid, unpaid, credited or credit_note"
    )
    patient_name = serializers.CharField(source="patient.full_name")
    credited_invoice_number = serializers.CharField(
        source="credited_invoice.number", allow_null=True, default=None
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "state",
            "purpose",
            "patient",
            "patient_name",
            "location",
            "appointment",
            "course",
            "credited_invoice",
            "credited_invoice_number",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "paid",
            "credited",
            "due",
            "issued_at",
            "created_at",
            "reason",
            "notes",
        ]


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = LineSerializer(many=True, source="detail_lines")
    allocations = AllocationSerializer(many=True, source="detail_allocations")

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "allocations"]


class CreditRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    lines = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Ids of the lines to credit; all not yet credited when left out.",
    )


class RefundSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency_source="payment.currency")

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "amount",
            "method",
            "reference",
            "reason",
            "refunded_by",
            "refunded_at",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    refunded = MoneyField()
    unallocated = MoneyField(help_text="Left as account credit (or refundable).")
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True, default=None)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "patient",
            "location",
            "method",
            "purpose",
            "amount",
            "currency",
            "reference",
            "note",
            "invoice",
            "invoice_number",
            "course",
            "refunded",
            "unallocated",
            "received_by",
            "received_at",
            "refunds",
        ]


class PaymentCreateSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(
        required=False, allow_null=True, help_text="The invoice paid; leave out for a deposit."
    )
    course = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="For a deposit at booking: the course whose first invoice it will pay.",
    )
    method = serializers.ChoiceField(
        choices=[
            PaymentMethod.CASH,
            PaymentMethod.CARD,
            PaymentMethod.BANK_TRANSFER,
            PaymentMethod.ACCOUNT_CREDIT,
        ]
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=3)
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)
    currency = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text="Refused (409) if not the invoice's currency.",
    )

    def validate(self, data):
        if not data.get("invoice") and not data.get("course"):
            raise serializers.ValidationError(
                {"invoice": "Give the invoice, or the course of a deposit."}
            )
        if not data.get("invoice") and data["method"] == PaymentMethod.ACCOUNT_CREDIT:
            raise serializers.ValidationError({"method": "A deposit is cash, card or transfer."})
        return data


class PaymentResultSerializer(serializers.Serializer):
    payment = PaymentSerializer(allow_null=True)
    applied = serializers.CharField(help_text="Decimal: what went to the invoice.")
    to_account_credit = serializers.CharField(help_text="Decimal: kept as account credit.")
    invoice = InvoiceSerializer(allow_null=True)


class RefundRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=3)
    reason = serializers.CharField(max_length=300)
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)


class PackageSerializer(serializers.ModelSerializer):
    price = MoneyField()
    remaining_value = MoneyField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True, default=None)

    class Meta:
        model = Package
        fields = [
            "id",
            "name",
            "patient",
            "course",
            "appointment_type",
            "sessions_total",
            "used",
            "remaining",
            "price",
            "remaining_value",
            "currency",
            "status",
            "invoice",
            "invoice_number",
            "sold_at",
        ]


class PackageCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    course = serializers.IntegerField(required=False, allow_null=True)
    appointment_type = serializers.IntegerField(required=False, allow_null=True)
    sessions = serializers.IntegerField(required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=3)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    location = serializers.IntegerField(required=False, allow_null=True)


class SessionPriceSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency_source="price_list.currency")
    appointment_type_name = serializers.CharField(source="appointment_type.name")

    class Meta:
        model = SessionPrice
        fields = ["appointment_type", "appointment_type_name", "amount"]


class AreaPriceSerializer(serializers.ModelSerializer):
    amount = MoneyField(currency_source="price_list.currency")
    area = serializers.ChoiceField(choices=BodyArea.choices)

    class Meta:
        model = AreaPrice
        fields = ["area", "tier", "amount"]


class ProductPriceSerializer(serializers.ModelSerializer):
    amount_per_ml = MoneyField(currency_source="price_list.currency")
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = ProductPrice
        fields = ["product", "product_name", "amount_per_ml"]


class PriceListSerializer(serializers.ModelSerializer):
    tax_rate_percent = serializers.DecimalField(
        source="tax_percent", max_digits=6, decimal_places=3
    )
    additional_area_value = serializers.DecimalField(
        max_digits=14, decimal_places=3, allow_null=True
    )
    no_show_fee = MoneyField()
    late_cancellation_fee = MoneyField()
    sessions = SessionPriceSerializer(many=True)
    areas = AreaPriceSerializer(many=True)
    products = ProductPriceSerializer(many=True)

    class Meta:
        model = PriceList
        fields = [
            "id",
            "effective_from",
            "currency",
            "prices_include_tax",
            "tax_rate_percent",
            "additional_areas",
            "additional_area_value",
            "small_area_max_ml",
            "large_area_min_ml",
            "consultation_credited",
            "no_show_fee",
            "late_cancellation_fee",
            "sessions",
            "areas",
            "products",
        ]


class LedgerEntrySerializer(serializers.ModelSerializer):
    amount = MoneyField()
    balance_after = MoneyField()
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True, default=None)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "at",
            "kind",
            "description",
            "amount",
            "balance_after",
            "currency",
            "invoice",
            "invoice_number",
            "payment",
            "refund",
        ]


class LedgerSerializer(serializers.Serializer):
    patient = serializers.IntegerField(source="patient.pk")
    currency = serializers.CharField()
    balance = MoneyField(help_text="The sum of the entries; positive: owed to the clinic.")
    account_credit = MoneyField()
    entries = LedgerEntrySerializer(many=True)
    packages = PackageSerializer(many=True)
