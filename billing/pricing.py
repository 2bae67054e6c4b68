"""From what was done in a session to priced invoice lines, with the price list in force.

Plain calculation over a price list (it reads the list's rows, it writes nothing). The lines
come out as dicts of ``InvoiceLine`` fields, amounts already rounded.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from clinic.areas import BodyArea

from .models import AreaTier, InvoiceLine, PriceList
from .money import ZERO, line_amounts, percent_of

Kind = InvoiceLine.Kind


@dataclass(frozen=True)
class DoneArea:
    """One area treated: from a signed session record's ``TreatedArea`` or, when there is no
    record, from the course's planned areas."""

    area: str
    volume_ml: Decimal | None = None
    is_extra: bool = False
    product: object = None  # consultations.Product


def price_list_in_force(day):
    """The price list version in force on ``day`` (a date), or None."""
    return (
        PriceList.objects.filter(effective_from__lte=day)
        .select_related("tax_rate")
        .order_by("-effective_from")
        .first()
    )


def tier_for(price_list, volume_ml):
    """Small, standard or large, from the volume injected and the list's thresholds."""
    if volume_ml is not None:
        if price_list.small_area_max_ml and volume_ml <= price_list.small_area_max_ml:
            return AreaTier.SMALL
        if price_list.large_area_min_ml and volume_ml >= price_list.large_area_min_ml:
            return AreaTier.LARGE
    return AreaTier.STANDARD


def make_line(
    *,
    kind,
    description,
    unit_price,
    currency,
    tax_rate=ZERO,
    tax_included=False,
    quantity=Decimal("1"),
    discount=ZERO,
    **extra,
):
    amounts = line_amounts(
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        tax_rate=tax_rate,
        tax_included=tax_included,
        currency=currency,
    )
    return {
        "kind": kind,
        "description": str(description)[:200],
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "discount": Decimal(discount),
        "tax_rate": Decimal(tax_rate),
        "tax_included": tax_included,
        "net": amounts.net,
        "tax": amounts.tax,
        "total": amounts.total,
        **extra,
    }


def priced_line(price_list, **kwargs):
    """A line taxed the way the price list says."""
    return make_line(
        currency=price_list.currency,
        tax_rate=price_list.tax_percent,
        tax_included=price_list.prices_include_tax,
        **kwargs,
    )


class PriceBook:
    """The rows of one price list, loaded once (three queries) for pricing a visit."""

    def __init__(self, price_list):
        self.price_list = price_list
        self.sessions = {p.appointment_type_id: p.amount for p in price_list.sessions.all()}
        self.areas = {(p.area, p.tier): p.amount for p in price_list.areas.all()}
        self.products = {p.product_id: p.amount_per_ml for p in price_list.products.all()}

    def session_price(self, appointment_type):
        return self.sessions.get(appointment_type.pk)

    def area_price(self, area, tier):
        """The price for the tier, else the standard price, else None (not on the list)."""
        found = self.areas.get((area, tier))
        if found is None and tier != AreaTier.STANDARD:
            return self.areas.get((area, AreaTier.STANDARD)), AreaTier.STANDARD
        return found, tier


def _area_label(area):
    return BodyArea(area).label if area in BodyArea.values else area


def visit_lines(book, *, appointment, done_areas, practitioner=None, session_label=""):
    """Lines for a visit: the appointment type's price, each area at its tier (the dearest
    in full, the others by the additional-area rule), and billable products by volume.

    An area missing from the price list gets a line at 0.00 for front desk to price by hand;
    an invoice with such a line cannot be issued.
    """
    price_list = book.price_list
    lines = []
    base = book.session_price(appointment.appointment_type)
    is_consultation = appointment.appointment_type.kind == "consultation"
    if base is not None:
        lines.append(
            priced_line(
                price_list,
                kind=Kind.CONSULTATION if is_consultation else Kind.SESSION,
                description=f"{appointment.appointment_type.name}{session_label}",
                unit_price=base,
                practitioner=practitioner,
            )
        )
    priced = []
    for done in done_areas:
        tier = tier_for(price_list, done.volume_ml)
        amount, tier = book.area_price(done.area, tier)
        priced.append((amount or ZERO, tier, done))
    # The dearest area is charged in full; the rule applies to the others.
    priced.sort(key=lambda item: item[0], reverse=True)
    for index, (amount, tier, done) in enumerate(priced):
        label = f"{_area_label(done.area)} ({AreaTier(tier).label.lower()})"
        kind, unit_price = Kind.AREA, amount
        if index > 0 and price_list.additional_areas != PriceList.AdditionalAreas.FULL:
            kind = Kind.ADDITIONAL_AREA
            label = _("%(area)s, additional area") % {"area": label}
            if price_list.additional_areas == PriceList.AdditionalAreas.FIXED:
                unit_price = price_list.additional_area_value
            elif amount:
                unit_price = percent_of(
                    amount, price_list.additional_area_value, price_list.currency
                )
        if done.is_extra:
            label = _("%(area)s, not in the plan") % {"area": label}
        lines.append(
            priced_line(
                price_list,
                kind=kind,
                description=label,
                unit_price=unit_price,
                area=done.area,
                tier=tier,
                practitioner=practitioner,
                is_extra=done.is_extra,
            )
        )
    lines.extend(product_lines(book, done_areas, practitioner=practitioner))
    return lines


def product_lines(book, done_areas, *, practitioner=None):
    """Billable products (those with a price per ml) by the total volume used."""
    volumes, products = {}, {}
    for done in done_areas:
        product = done.product
        if product is None or product.pk not in book.products or not done.volume_ml:
            continue
        volumes[product.pk] = volumes.get(product.pk, ZERO) + Decimal(done.volume_ml)
        products[product.pk] = product
    return [
        priced_line(
            book.price_list,
            kind=Kind.PRODUCT,
            description=_("%(product)s, per ml") % {"product": products[pk].name},
            quantity=volume,
            unit_price=book.products[pk],
            product=products[pk],
            practitioner=practitioner,
        )
        for pk, volume in volumes.items()
    ]
