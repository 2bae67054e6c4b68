"""Every write to the product catalogue and its lots, and the check that a lot may be used on
a session's day. Each write is one transaction and audits itself."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from consultations.models import (
    Product,
    ProductLot,
)
from consultations.services.common import as_instance, clean_row


def checked_lot(*, lot, product, day, field="lot", require_in_stock=True):
    """The lot, if it is an in-stock lot of ``product`` that has not expired on ``day``. A lot
    taken out of stock (used up or recalled) cannot be recorded on new sessions."""
    lot = as_instance(ProductLot, lot, field, _("Unknown lot: choose one from the list."))
    if lot.product_id != product.pk:
        raise ApplicationError(
            _("Lot %(lot)s is not a lot of %(product)s.")
            % {"lot": lot.lot_number, "product": product},
            field=field,
        )
    if lot.is_expired_on(day):
        raise ApplicationError(
            _("Lot %(lot)s expired on %(date)s and cannot be used.")
            % {"lot": lot.lot_number, "date": lot.expires_on.isoformat()},
            field=field,
        )
    if require_in_stock and not lot.is_active:
        raise ApplicationError(
            _("Lot %(lot)s is marked out of stock (used up or recalled) and cannot be used.")
            % {"lot": lot.lot_number},
            field=field,
        )
    return lot


def _product_exists(existing):
    return ConflictError(
        _("%(name)s is already in the catalogue.") % {"name": existing.name if existing else ""},
        field="name",
        extra={"id": existing.pk if existing else None},
    )


def _lot_exists(existing, product, lot_number):
    return ConflictError(
        _("Lot %(lot)s of %(product)s is already registered.")
        % {"lot": lot_number, "product": product},
        field="lot_number",
        extra={"id": existing.pk if existing else None},
    )


@transaction.atomic
def product_add(*, actor, name, composition="", manufacturer=""):
    """Add a product or mixture to the clinic's catalogue (managers). A name already in the
    catalogue (in any case) is refused (409)."""
    name = (name or "").strip()
    existing = Product.objects.filter(name__iexact=name).first()
    if name and existing is not None:
        raise _product_exists(existing)
    product = Product(name=name, composition=composition or "", manufacturer=manufacturer or "")
    clean_row(product, exclude=[])
    try:
        with transaction.atomic():  # a savepoint: the same name added at the same moment
            product.save()
    except IntegrityError:
        raise _product_exists(Product.objects.filter(name__iexact=name).first()) from None
    audit.record(actor=actor, action="product.added", target=product, detail={"name": name})
    return product


@transaction.atomic
def lot_add(*, actor, product, lot_number, expires_on, received_on=None):
    """Register a delivered lot of a product (managers and practitioners). The same lot
    number twice for one product is refused (409)."""
    lot_number = (lot_number or "").strip()
    existing = ProductLot.objects.filter(product=product, lot_number__iexact=lot_number).first()
    if existing is not None:
        raise _lot_exists(existing, product, lot_number)
    lot = ProductLot(
        product=product, lot_number=lot_number, expires_on=expires_on, received_on=received_on
    )
    clean_row(lot, exclude=[])
    try:
        with transaction.atomic():  # a savepoint: the same lot registered at the same moment
            lot.save()
    except IntegrityError:
        winner = ProductLot.objects.filter(product=product, lot_number__iexact=lot_number).first()
        raise _lot_exists(winner, product, lot_number) from None
    audit.record(
        actor=actor,
        action="lot.added",
        target=lot,
        detail={"product": product.pk, "lot": lot_number, "expires_on": str(expires_on)},
    )
    return lot


@transaction.atomic
def lot_set_in_stock(*, actor, lot, in_stock):
    """Take a lot off the list offered for new sessions (used up, recalled) or back on."""
    lot = ProductLot.objects.select_for_update().get(pk=lot.pk)
    lot.is_active = bool(in_stock)
    lot.save(update_fields=["is_active"])
    audit.record(actor=actor, action="lot.stock_changed", target=lot, detail={"in_stock": in_stock})
    return lot
