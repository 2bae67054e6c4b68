"""The price list (managers): versions in force from a date, their prices per appointment
type, area and tier, and billable product; tax rates."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError

from ..models import AreaPrice, Invoice, PriceList, ProductPrice, SessionPrice, TaxRate
from .common import clinic_currency, money_amount

RULE_FIELDS = [
    "prices_include_tax",
    "tax_rate",
    "additional_areas",
    "additional_area_value",
    "small_area_max_ml",
    "large_area_min_ml",
    "consultation_credited",
    "no_show_fee",
    "late_cancellation_fee",
    "note",
]


def price_list_is_locked(price_list):
    """A version an issued invoice was priced from is kept as it was."""
    return Invoice.objects.filter(price_list=price_list, status=Invoice.Status.ISSUED).exists()


def _check_rules(data, currency):
    data = dict(data)
    for field in ("additional_area_value", "no_show_fee", "late_cancellation_fee"):
        if data.get(field) not in (None, ""):
            if field == "additional_area_value" and data.get("additional_areas") == "percent":
                value = data[field]
                if not 0 < value <= 100:
                    raise ApplicationError(
                        _("A percentage is more than 0 and at most 100."), field=field
                    )
            else:
                data[field] = money_amount(data[field], currency, field=field)
        else:
            data[field] = None
    if data.get("additional_areas", "full") != "full" and not data.get("additional_area_value"):
        raise ApplicationError(
            _("Give the amount or the percentage for additional areas."),
            field="additional_area_value",
        )
    small, large = data.get("small_area_max_ml"), data.get("large_area_min_ml")
    if small and large and small >= large:
        raise ApplicationError(
            _("The small tier must end below where the large tier starts."),
            field="large_area_min_ml",
        )
    return data


def _write_prices(price_list, *, sessions, areas, products):
    """Replace the version's prices; ``None`` or empty leaves a thing off the list."""
    currency = price_list.currency
    price_list.sessions.all().delete()
    price_list.areas.all().delete()
    price_list.products.all().delete()
    SessionPrice.objects.bulk_create(
        SessionPrice(
            price_list=price_list,
            appointment_type_id=type_id,
            amount=money_amount(amount, currency, field=f"type_{type_id}"),
        )
        for type_id, amount in sessions.items()
        if amount not in (None, "")
    )
    AreaPrice.objects.bulk_create(
        AreaPrice(
            price_list=price_list,
            area=area,
            tier=tier,
            amount=money_amount(amount, currency, field=f"area_{area}_{tier}"),
        )
        for (area, tier), amount in areas.items()
        if amount not in (None, "")
    )
    ProductPrice.objects.bulk_create(
        ProductPrice(
            price_list=price_list,
            product_id=product_id,
            amount_per_ml=money_amount(amount, currency, field=f"product_{product_id}"),
        )
        for product_id, amount in products.items()
        if amount not in (None, "")
    )


@transaction.atomic
def price_list_create(
    *, actor, effective_from, rules, sessions=None, areas=None, products=None, today=None
):
    """A new version of the prices from ``effective_from`` (managers). It starts today or
    later once any invoice has been issued, so issued invoices keep the prices they had;
    versions never overlap (one per start date)."""
    today = today or timezone.localdate()
    if effective_from < today and Invoice.objects.filter(status="issued").exists():
        raise ApplicationError(
            _("New prices start today or later; invoices have already been issued."),
            field="effective_from",
        )
    if PriceList.objects.filter(effective_from=effective_from).exists():
        raise ConflictError(
            _("A price list already starts on %(day)s; change that one instead.")
            % {"day": effective_from.isoformat()},
            field="effective_from",
        )
    currency = clinic_currency()
    rules = _check_rules(rules, currency)
    price_list = PriceList(
        effective_from=effective_from,
        currency=currency,
        created_by=actor,
        **{field: rules.get(field) for field in RULE_FIELDS if field in rules},
    )
    price_list.note = price_list.note or ""
    price_list.full_clean()
    price_list.save()
    _write_prices(price_list, sessions=sessions or {}, areas=areas or {}, products=products or {})
    audit.record(
        actor=actor,
        action="price_list.created",
        target=price_list,
        detail={"effective_from": effective_from.isoformat()},
    )
    return price_list


@transaction.atomic
def price_list_update(*, actor, price_list, rules, sessions, areas, products):
    """Change a version no issued invoice has used yet (managers); a used one is locked and
    a new version from a later date is made instead."""
    price_list = PriceList.objects.select_for_update().get(pk=price_list.pk)
    if price_list_is_locked(price_list):
        raise ConflictError(
            _(
                "Invoices have been issued with these prices; make a new version from a date "
                "instead."
            ),
            extra={"id": price_list.pk},
        )
    rules = _check_rules(rules, price_list.currency)
    for field in RULE_FIELDS:
        if field in rules:
            setattr(
                price_list,
                field,
                rules[field] if rules[field] is not None or field not in ("note",) else "",
            )
    price_list.full_clean()
    price_list.save()
    _write_prices(price_list, sessions=sessions, areas=areas, products=products)
    audit.record(actor=actor, action="price_list.changed", target=price_list)
    return price_list


@transaction.atomic
def tax_rate_save(*, actor, tax_rate=None, name, rate, is_active=True):
    tax_rate = tax_rate or TaxRate()
    tax_rate.name, tax_rate.rate, tax_rate.is_active = (name or "").strip(), rate, is_active
    tax_rate.full_clean()
    tax_rate.save()
    audit.record(actor=actor, action="tax_rate.saved", target=tax_rate, detail={"rate": str(rate)})
    return tax_rate
