"""What the product and lot API (``consultations.api.lots``) reads and writes, and the rows of
a lot recall."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from clinic.areas import BodyArea
from consultations.models import (
    Product,
    ProductLot,
    SessionRecord,
)


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
