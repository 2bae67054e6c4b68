"""The product catalogue, its lots and the manager's lot recall under /api/v1/ (products/,
lots/, lots/recall/). Practitioners and managers read; managers add products and change the
stock; only managers recall. Views parse, call a selector, call one service."""

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.permissions import Clinicians, Managers
from consultations.api.common import BAD_INPUT, CONFLICT, validated
from consultations.models import (
    Product,
    ProductLot,
)
from consultations.selectors.lots import lot_recall, lots_for_session
from consultations.serializers.lots import (
    LotCreateSerializer,
    LotSerializer,
    LotStockSerializer,
    ProductCreateSerializer,
    ProductSerializer,
    RecallRowSerializer,
)
from consultations.services import lots as lot_services


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
        product = lot_services.product_add(actor=request.user, **data)
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
        lot = lot_services.lot_add(actor=request.user, product=product, **data)
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
        lot = lot_services.lot_set_in_stock(actor=request.user, lot=lot, in_stock=data["is_active"])
        return Response(LotSerializer(lot).data)


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
