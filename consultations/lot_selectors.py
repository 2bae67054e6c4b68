"""Reads of the product catalogue's lots for the lot pages (the recall is
``session_selectors.lot_recall``). Lots carry no patient data: no audit here."""

from django.db.models import Count, Prefetch
from django.http import Http404

from clinic.permissions import has_role
from clinic.roles import CLINICAL_ROLES, Role

from .models import Product, ProductLot


def can_keep_lots(user):
    """Managers and practitioners see the lots and register new deliveries."""
    return has_role(user, *CLINICAL_ROLES)


def can_change_stock(user):
    """Only the manager takes a lot out of stock or puts it back."""
    return has_role(user, Role.MANAGER)


def products_with_lots(user):
    """Every product (active first) with its lots, soonest expiry first, each with the number
    of treated areas that used it: two queries."""
    if not can_keep_lots(user):
        raise Http404
    lots = ProductLot.objects.annotate(uses=Count("treated_areas")).order_by(
        "-is_active", "expires_on", "lot_number"
    )
    return list(
        Product.objects.prefetch_related(Prefetch("lots", queryset=lots)).order_by(
            "-is_active", "name"
        )
    )


def lots_with_number(user, lot_number):
    """The registered lots carrying this number (any product, case insensitive): what the
    recall page says it searched for. Managers."""
    if not has_role(user, Role.MANAGER):
        raise Http404
    return list(
        ProductLot.objects.filter(lot_number__iexact=(lot_number or "").strip())
        .select_related("product")
        .order_by("product__name")
    )
