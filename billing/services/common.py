"""What every billing service shares: the account lock, amounts as the currency allows,
ledger rows, invoice numbers and the sums behind "due" and "account credit"."""

from decimal import Decimal, InvalidOperation

from django.db.models import DecimalField, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.errors import ApplicationError, ConflictError
from clinic.models import ClinicSettings

from ..models import (
    MONEY,
    Allocation,
    BillingAccount,
    Invoice,
    InvoiceSequence,
    LedgerEntry,
    Payment,
    Refund,
)
from ..money import ZERO, is_whole_amount, round_money

SERIES_INVOICE = "IN"
SERIES_CREDIT_NOTE = "CN"


def lock_account(patient):
    """Lock the patient's billing account row (creating it on first use).

    Every service that moves money for a patient calls this first, before locking an invoice
    or a package: one lock order for all of them, so they never deadlock, and two desks
    cannot both spend the same account credit or the last session of a package.
    """
    BillingAccount.objects.bulk_create([BillingAccount(patient=patient)], ignore_conflicts=True)
    return BillingAccount.objects.select_for_update().get(patient=patient)


def clinic_currency():
    return ClinicSettings.load().currency


def money_amount(value, currency, *, field="amount", allow_zero=False):
    """``value`` as a Decimal the currency can hold, else an ApplicationError on ``field``:
    not a number, zero or negative, or finer than the currency's minor unit (12.345 USD)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError(_("Enter an amount, e.g. 120.00."), field=field) from None
    if not amount.is_finite():
        raise ApplicationError(_("Enter an amount, e.g. 120.00."), field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ApplicationError(_("The amount must be more than zero."), field=field)
    if not is_whole_amount(amount, currency):
        raise ApplicationError(
            _("%(currency)s amounts have at most %(n)s decimals.")
            % {"currency": currency, "n": -round_money(1, currency).as_tuple().exponent},
            field=field,
        )
    if amount >= Decimal(10) ** (MONEY["max_digits"] - MONEY["decimal_places"]):
        raise ApplicationError(_("This amount is too large."), field=field)
    return round_money(amount, currency)


def check_currency(given, expected, *, field="currency"):
    if given and given.upper() != expected:
        raise ConflictError(
            _("This is billed in %(expected)s; an amount in %(given)s cannot be used.")
            % {"expected": expected, "given": given.upper()},
            field=field,
            extra={"currency": expected},
        )


def ledger_add(
    *,
    patient,
    kind,
    amount,
    currency,
    description,
    invoice=None,
    payment=None,
    refund=None,
    at=None,
):
    if amount == 0:
        return None
    return LedgerEntry.objects.create(
        patient=patient,
        kind=kind,
        amount=amount,
        currency=currency,
        description=str(description)[:200],
        invoice=invoice,
        payment=payment,
        refund=refund,
        at=at or timezone.now(),
    )


def _sum(queryset, field="amount"):
    return queryset.aggregate(s=Coalesce(Sum(field), ZERO))["s"]


def invoice_allocated(invoice):
    return _sum(Allocation.objects.filter(invoice=invoice))


def invoice_due(invoice):
    """What is still to pay on an issued invoice: total less credit notes and payments."""
    if invoice.status != Invoice.Status.ISSUED or invoice.kind != Invoice.Kind.INVOICE:
        return ZERO
    return invoice.total - invoice_allocated(invoice)


def payment_refunded(payment):
    return _sum(Refund.objects.filter(payment=payment))


def payment_unallocated(payment):
    """What is left of a payment for account credit or a refund."""
    return (
        payment.amount
        - payment_refunded(payment)
        - _sum(Allocation.objects.filter(payment=payment))
    )


def _subtotal(model, **filters):
    return Coalesce(
        Subquery(
            model.objects.filter(payment=OuterRef("pk"), **filters)
            .values("payment")
            .annotate(s=Sum("amount"))
            .values("s"),
            output_field=DecimalField(**MONEY),
        ),
        ZERO,
    )


def with_unallocated(payments):
    """Annotate ``refunded``, ``allocated`` and ``unallocated`` on a payment queryset
    (subqueries: still one query)."""
    return payments.annotate(refunded=_subtotal(Refund), allocated=_subtotal(Allocation)).annotate(
        unallocated=F("amount") - F("refunded") - F("allocated")
    )


def payments_with_credit(patient, *, include_package=False, for_update=False):
    """The patient's payments with something unallocated, oldest first (deposits for a
    course are picked by the caller): the account credit and where it came from."""
    payments = Payment.objects.filter(patient=patient)
    if not include_package:
        payments = payments.exclude(method="package")
    return list(with_unallocated(payments).filter(unallocated__gt=0).order_by("received_at", "id"))


def account_credit(patient):
    """The patient's account credit: money paid and neither applied nor refunded."""
    return sum((p.unallocated for p in payments_with_credit(patient)), ZERO)


def allocate(*, invoice, amount, source, actor, payment=None, credit_note=None, at=None):
    return Allocation.objects.create(
        invoice=invoice,
        payment=payment,
        credit_note=credit_note,
        source=source,
        amount=amount,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=at or timezone.now(),
    )


def next_number(*, location, series, year):
    """The next number of a series at a location in a year. Call inside the issuing
    transaction: the counter row stays locked until it commits, so a concurrent issue waits
    and then takes the following number; a rollback gives the number back. Numbers are
    gapless and never repeat."""
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(location=location, series=series, year=year)], ignore_conflicts=True
    )
    counter = InvoiceSequence.objects.select_for_update().get(
        location=location, series=series, year=year
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def format_number(*, location, series, year, sequence):
    code = location.code.upper()
    if series == SERIES_CREDIT_NOTE:
        return f"{code}-CN-{year}-{sequence:06d}"
    return f"{code}-{year}-{sequence:06d}"


def actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
