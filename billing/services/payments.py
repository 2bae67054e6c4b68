"""Payments, account credit, deposits and refunds. Every function is one transaction that
locks the patient's billing account first, writes the ledger and audits itself."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError

from ..models import MONEY_METHODS, Allocation, Invoice, LedgerEntry, Payment, PaymentMethod, Refund
from ..money import ZERO, format_money
from .common import (
    actor_or_none,
    allocate,
    check_currency,
    clinic_currency,
    invoice_allocated,
    ledger_add,
    lock_account,
    money_amount,
    payments_with_credit,
    with_unallocated,
)


def _payable(invoice):
    """Lock and return an issued invoice that still has something to pay."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("patient", "location")
        .get(pk=invoice.pk)
    )
    if invoice.kind != Invoice.Kind.INVOICE:
        raise ConflictError(_("A credit note is not paid; it is set against its invoice."))
    if invoice.status == Invoice.Status.DRAFT:
        raise ConflictError(
            _("Issue the invoice before taking payment for it."), extra={"status": "draft"}
        )
    if invoice.status == Invoice.Status.VOID:
        raise ConflictError(_("This invoice is void; it cannot be paid."), extra={"status": "void"})
    return invoice


def _clean_reference(method, reference):
    reference = (reference or "").strip()[:80]
    if method == PaymentMethod.CARD and not reference:
        raise ApplicationError(
            _("Type the card terminal's transaction reference."), field="reference"
        )
    return reference


@transaction.atomic
def payment_take(*, actor, invoice, method, amount, reference="", currency=None, note="", now=None):
    """Take a payment for an issued invoice (front desk, manager): cash, card with the
    terminal's reference, or bank transfer; ``account_credit`` applies the patient's credit
    instead (``account_credit_apply``). Partial payments are fine; an overpayment is kept as
    the patient's account credit. Returns the payment with ``applied`` and ``to_credit``.
    """
    if method == PaymentMethod.ACCOUNT_CREDIT:
        return account_credit_apply(actor=actor, invoice=invoice, amount=amount, now=now)
    if method not in MONEY_METHODS:
        raise ApplicationError(
            _("Package credit is used by itself when a package session is invoiced."),
            field="method",
        )
    now = now or timezone.now()
    check_currency(currency, invoice.currency)
    amount = money_amount(amount, invoice.currency)
    reference = _clean_reference(method, reference)
    lock_account(invoice.patient)
    invoice = _payable(invoice)
    due = invoice.total - invoice_allocated(invoice)
    if due <= 0:
        raise ConflictError(
            _(
                "Invoice %(number)s is already paid. Take a deposit on the patient's account "
                "instead."
            )
            % {"number": invoice.number},
            extra={"id": invoice.pk, "due": str(due)},
        )
    payment = Payment(
        patient=invoice.patient,
        location=invoice.location,
        method=method,
        amount=amount,
        currency=invoice.currency,
        reference=reference,
        note=(note or "").strip()[:200],
        invoice=invoice,
        received_by=actor,
        received_at=now,
    )
    payment.full_clean(exclude=["patient", "location", "invoice", "received_by"])
    payment.save()
    ledger_add(
        patient=invoice.patient,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=-amount,
        currency=invoice.currency,
        description=_("%(method)s for %(number)s")
        % {"method": payment.get_method_display(), "number": invoice.number},
        invoice=invoice,
        payment=payment,
        at=now,
    )
    payment.applied = min(amount, due)
    payment.to_credit = amount - payment.applied
    allocate(
        invoice=invoice,
        amount=payment.applied,
        source="payment",
        actor=actor,
        payment=payment,
        at=now,
    )
    audit.record(
        actor=actor,
        action="payment.taken",
        target=payment,
        patient_id=invoice.patient_id,
        detail={
            "invoice": invoice.number,
            "method": method,
            "amount": str(amount),
            "to_credit": str(payment.to_credit),
        },
    )
    return payment


@transaction.atomic
def account_credit_apply(*, actor, invoice, amount=None, now=None):
    """Pay an issued invoice from the patient's account credit (overpayments, deposits,
    money released by a credit note), oldest credit first. ``amount`` defaults to as much as
    the credit and the invoice allow. Returns a stand-in payment object with ``applied``."""
    now = now or timezone.now()
    lock_account(invoice.patient)
    invoice = _payable(invoice)
    due = invoice.total - invoice_allocated(invoice)
    sources = payments_with_credit(invoice.patient)
    available = sum((p.unallocated for p in sources), ZERO)
    if amount in (None, ""):
        amount = min(due, available)
        if amount <= 0:
            raise ConflictError(_("There is no account credit to use, or nothing left to pay."))
    amount = money_amount(amount, invoice.currency)
    if amount > available:
        raise ConflictError(
            _("The patient has only %(credit)s of account credit.")
            % {"credit": format_money(available, invoice.currency)},
            field="amount",
            extra={"account_credit": str(available)},
        )
    if amount > due:
        raise ConflictError(
            _("Only %(due)s is left to pay on this invoice.")
            % {"due": format_money(due, invoice.currency)},
            field="amount",
            extra={"due": str(due)},
        )
    left = amount
    for source in sources:
        if left <= 0:
            break
        part = min(source.unallocated, left)
        allocate(
            invoice=invoice,
            amount=part,
            source="account_credit",
            actor=actor,
            payment=source,
            at=now,
        )
        left -= part
    audit.record(
        actor=actor,
        action="payment.account_credit_applied",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"amount": str(amount)},
    )
    result = Payment(
        patient=invoice.patient,
        method=PaymentMethod.ACCOUNT_CREDIT,
        amount=amount,
        currency=invoice.currency,
        invoice=invoice,
        received_at=now,
    )
    result.applied, result.to_credit = amount, ZERO
    return result


@transaction.atomic
def deposit_take(
    *,
    actor,
    patient,
    location,
    method,
    amount,
    reference="",
    course=None,
    appointment=None,
    currency=None,
    note="",
    now=None,
):
    """A deposit at booking (front desk, manager): money held as the patient's account credit
    and applied to the first invoice issued for the course or the visit."""
    if course is None and appointment is None:
        raise ApplicationError(_("Say which course or visit the deposit is for."), field="course")
    for thing in filter(None, [course, appointment]):
        if thing.patient_id != patient.pk:
            raise ApplicationError(_("That course or visit is another patient's."), field="course")
    if method not in MONEY_METHODS:
        raise ApplicationError(_("Take a deposit in cash, by card or by transfer."), field="method")
    now = now or timezone.now()
    billed_in = clinic_currency()
    check_currency(currency, billed_in)
    amount = money_amount(amount, billed_in)
    reference = _clean_reference(method, reference)
    lock_account(patient)
    payment = Payment.objects.create(
        patient=patient,
        location=location,
        method=method,
        purpose=Payment.Purpose.DEPOSIT,
        amount=amount,
        currency=billed_in,
        reference=reference,
        note=(note or "").strip()[:200],
        course=course,
        appointment=appointment,
        received_by=actor,
        received_at=now,
    )
    ledger_add(
        patient=patient,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=-amount,
        currency=billed_in,
        description=_("Deposit (%(method)s)") % {"method": payment.get_method_display()},
        payment=payment,
        at=now,
    )
    audit.record(
        actor=actor,
        action="payment.deposit_taken",
        target=payment,
        patient_id=patient.pk,
        detail={
            "amount": str(amount),
            "method": method,
            "course": getattr(course, "pk", None),
            "appointment": getattr(appointment, "pk", None),
        },
    )
    return payment


@transaction.atomic
def refund_issue(*, actor, payment, amount, reason, reference="", now=None):
    """Give money back to the method it came by (front desk, manager). At most what is left
    of the payment after earlier refunds. Unapplied money (account credit) is refunded first;
    beyond that the payment is taken off the invoices it paid, which are then due again."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for the refund."), field="reason")
    now = now or timezone.now()
    lock_account(payment.patient)
    payment = with_unallocated(Payment.objects.select_related("patient", "location")).get(
        pk=payment.pk
    )
    if payment.method not in MONEY_METHODS:
        raise ConflictError(
            _(
                "Package credit is not refunded: credit the session's invoice and the session "
                "goes back to the package."
            ),
            field="payment",
        )
    amount = money_amount(amount, payment.currency)
    refundable = payment.amount - payment.refunded
    if amount > refundable:
        raise ConflictError(
            _("At most %(left)s of this payment can be refunded.")
            % {"left": format_money(refundable, payment.currency)},
            field="amount",
            extra={"refundable": str(refundable)},
        )
    to_release = amount - max(payment.unallocated, ZERO)
    if to_release > 0:
        _release_from_invoices(actor=actor, payment=payment, amount=to_release, now=now)
    refund = Refund.objects.create(
        payment=payment,
        location=payment.location,
        amount=amount,
        method=payment.method,
        reference=(reference or "").strip()[:80],
        reason=reason[:300],
        refunded_by=actor_or_none(actor),
        refunded_at=now,
    )
    ledger_add(
        patient=payment.patient,
        kind=LedgerEntry.Kind.REFUND,
        amount=amount,
        currency=payment.currency,
        description=_("Refund (%(method)s)") % {"method": payment.get_method_display()},
        invoice=payment.invoice,
        payment=payment,
        refund=refund,
        at=now,
    )
    audit.record(
        actor=actor,
        action="payment.refunded",
        target=payment,
        patient_id=payment.patient_id,
        detail={"amount": str(amount), "reason": reason[:200]},
    )
    return refund


def _release_from_invoices(*, actor, payment, amount, now):
    """Take ``amount`` of the payment back off the invoices it was applied to, newest first."""
    per_invoice = {}
    for allocation in Allocation.objects.filter(payment=payment).order_by("-created_at", "-id"):
        per_invoice[allocation.invoice_id] = per_invoice.get(allocation.invoice_id, ZERO) + (
            allocation.amount
        )
    left = amount
    for invoice in Invoice.objects.select_for_update().filter(pk__in=per_invoice).order_by("-id"):
        if left <= 0:
            break
        part = min(per_invoice[invoice.pk], left)
        if part <= 0:
            continue
        allocate(
            invoice=invoice, amount=-part, source="release", actor=actor, payment=payment, at=now
        )
        left -= part
