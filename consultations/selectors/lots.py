"""Reads of the product catalogue's lots: the lot pages, the lots usable on a session's day and
the manager's lot recall (who received a lot; audited, as it names patients)."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch
from django.http import Http404

from clinic import audit
from clinic.permissions import has_role
from clinic.roles import CLINICAL_ROLES, Role
from consultations.models import Product, ProductLot, TreatedArea
from sessions.models import AppointmentStatus


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


def lots_for_session(day, product_ids=None):
    """Lots that may be chosen for a session on ``day``: in stock and not expired."""
    lots = ProductLot.objects.filter(is_active=True, expires_on__gte=day).select_related("product")
    if product_ids is not None:
        lots = lots.filter(product_id__in=product_ids)
    return lots.order_by("product__name", "expires_on", "lot_number")


@dataclass(frozen=True)
class RecallRow:
    treated_area: TreatedArea

    @property
    def record(self):
        return self.treated_area.record

    @property
    def patient(self):
        return self.treated_area.record.patient

    @property
    def appointment(self):
        return self.treated_area.record.appointment


def lot_recall(user, lot_number):
    """Every session (signed or not) that used a lot with this number (any product, case
    insensitive), with the patient's contact details: two queries. Managers only; the search
    is audited with the patients it found."""
    if not has_role(user, Role.MANAGER):
        raise Http404
    lot_number = (lot_number or "").strip()
    if not lot_number:
        return []
    rows = list(
        TreatedArea.objects.filter(lot__lot_number__iexact=lot_number)
        .select_related(
            "product",
            "lot",
            "record__patient",
            "record__practitioner",
            "record__appointment__location",
        )
        .exclude(record__appointment__status=AppointmentStatus.CANCELLED)
        .order_by("record__appointment__starts_at", "id")
    )
    audit.record(
        actor=user,
        action="lot.recall_searched",
        detail={
            "lot": lot_number,
            "patients": sorted({r.record.patient_id for r in rows}),
            "sessions": [r.record_id for r in rows],
        },
    )
    return [RecallRow(r) for r in rows]
