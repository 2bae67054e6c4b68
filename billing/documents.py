"""The printable documents: an invoice (or credit note) with the clinic's details, its lines,
the tax per rate and what paid it; and the receipt of one payment. One context for the HTML
print view, the PDF and the emailed copy."""

from dataclasses import dataclass

from django.utils import timezone

from clinic.models import ClinicSettings

from .money import ZERO


@dataclass
class Document:
    title: str
    number: str
    kind: str  # "invoice", "credit_note" or "receipt"
    clinic: ClinicSettings
    location: object
    patient: object
    issued_on: object
    currency: str
    lines: list
    tax_bands: list
    subtotal: object
    tax_total: object
    total: object
    paid: object = ZERO
    due: object = ZERO
    payments: list = None
    refunds: list = None
    credit_notes: list = None
    credited_invoice: object = None
    notes: str = ""
    reason: str = ""
    state: str = ""
    draft: bool = False
    receipt_payment: object = None
    applied: list = None

    @property
    def has_tax(self):
        return any(band.rate for band in self.tax_bands) or self.tax_total


def _local(when, location):
    return timezone.localtime(when, location.zone) if when else None


def invoice_document(detail):
    """From ``selectors.invoice_detail``."""
    invoice = detail.invoice
    credit_note = invoice.kind == "credit_note"
    if credit_note:
        title = "Credit note"
    elif invoice.status == "draft":
        title = "Draft invoice"
    else:
        title = "Invoice"
    money_payments = [
        allocation for allocation in detail.allocations if allocation.source != "credit_note"
    ]
    return Document(
        title=title,
        number=invoice.number or "",
        kind="credit_note" if credit_note else "invoice",
        clinic=ClinicSettings.load(),
        location=invoice.location,
        patient=invoice.patient,
        issued_on=_local(invoice.issued_at or invoice.created_at, invoice.location),
        currency=invoice.currency,
        lines=detail.lines,
        tax_bands=detail.tax_bands,
        subtotal=invoice.subtotal,
        tax_total=invoice.tax_total,
        total=invoice.total,
        paid=invoice.paid,
        due=invoice.due,
        payments=money_payments,
        refunds=detail.refunds,
        credit_notes=[cn for cn in detail.credit_notes if cn.status == "issued"],
        credited_invoice=invoice.credited_invoice,
        notes=invoice.notes,
        reason=invoice.reason,
        state=invoice.state,
        draft=invoice.status == "draft",
    )


def receipt_document(payment, allocations):
    """The receipt of one payment: how much, how, when, who took it, and which invoices it
    paid (the rest is account credit)."""
    applied = [a for a in allocations if a.amount > 0]
    return Document(
        title="Receipt",
        number=f"R-{payment.pk:06d}",
        kind="receipt",
        clinic=ClinicSettings.load(),
        location=payment.location,
        patient=payment.patient,
        issued_on=_local(payment.received_at, payment.location),
        currency=payment.currency,
        lines=[],
        tax_bands=[],
        subtotal=payment.amount,
        tax_total=ZERO,
        total=payment.amount,
        receipt_payment=payment,
        applied=applied,
        refunds=list(payment.refunds.all()),
    )
