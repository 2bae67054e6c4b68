"""Invoices and credit notes after drafting: editing a draft, voiding it, issuing it with its
gapless number, and crediting an issued invoice."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError

from ..models import (
    AreaTier,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Package,
    PackageDraw,
    Payment,
    PaymentMethod,
    Refund,
)
from ..money import ZERO, line_amounts
from ..pricing import PriceBook, make_line
from .common import (
    SERIES_CREDIT_NOTE,
    SERIES_INVOICE,
    actor_or_none,
    allocate,
    clinic_currency,
    format_number,
    invoice_allocated,
    ledger_add,
    money_amount,
    next_number,
    with_unallocated,
)
from .drafting import (
    _locked,
    _locked_draft,
    _set_totals,
    _write_lines,
    package_draw_reverse,
)

Kind = InvoiceLine.Kind
Purpose = Invoice.Purpose


# --- Editing a draft ---------------------------------------------------------------------------


def _line_prices(invoice):
    price_list = invoice.price_list
    if price_list is None:
        return {"tax_rate": ZERO, "tax_included": False}
    return {"tax_rate": price_list.tax_percent, "tax_included": price_list.prices_include_tax}


def _checked_line_values(invoice, *, quantity, unit_price, discount):
    currency = invoice.currency
    unit_price = money_amount(unit_price, currency, field="unit_price")
    try:
        quantity = Decimal(str(quantity))
    except Exception:  # noqa: BLE001
        raise ApplicationError(_("Enter a quantity."), field="quantity") from None
    if not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
        raise ApplicationError(
            _("The quantity must be more than zero, with at most 2 decimals."), field="quantity"
        )
    if quantity >= 1_000_000:
        raise ApplicationError(_("This quantity is too large."), field="quantity")
    discount = money_amount(discount or 0, currency, field="discount", allow_zero=True)
    if discount > quantity * unit_price:
        raise ApplicationError(
            _("The discount cannot be more than the line's amount."), field="discount"
        )
    return quantity, unit_price, discount


@transaction.atomic
def invoice_line_add(
    *, actor, invoice, description, unit_price, quantity=1, discount=0, kind=Kind.OTHER
):
    """Add a line to a draft (front desk, manager). Price and quantity above zero."""
    invoice = _locked_draft(invoice)
    description = (description or "").strip()
    if not description:
        raise ApplicationError(_("Describe what is charged."), field="description")
    quantity, unit_price, discount = _checked_line_values(
        invoice, quantity=quantity, unit_price=unit_price, discount=discount
    )
    position = invoice.lines.count() + 1
    values = make_line(
        kind=kind,
        description=description,
        unit_price=unit_price,
        quantity=quantity,
        discount=discount,
        currency=invoice.currency,
        **_line_prices(invoice),
    )
    line = InvoiceLine.objects.create(invoice=invoice, position=position, **values)
    _set_totals(invoice)
    audit.record(
        actor=actor,
        action="invoice.line_added",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"line": line.pk, "total": str(line.total)},
    )
    return line


@transaction.atomic
def invoice_line_update(*, actor, line, unit_price=None, quantity=None, discount=None, tier=None):
    """Change a draft line's price, quantity, discount or (for an area) its tier, which
    reprices it from the invoice's price list."""
    invoice = _locked_draft(line.invoice)
    line = InvoiceLine.objects.select_for_update().get(pk=line.pk, invoice=invoice)
    if line.kind in (Kind.PACKAGE_SESSION, Kind.CONSULTATION_CREDIT):
        raise ConflictError(
            _("This line comes from a package or a credit and cannot be edited; remove it.")
        )
    if tier and tier != line.tier:
        if line.kind not in (Kind.AREA, Kind.ADDITIONAL_AREA) or tier not in AreaTier.values:
            raise ApplicationError(_("Choose a tier for an area line."), field="tier")
        if unit_price is None and line.kind == Kind.AREA and invoice.price_list_id:
            found, _tier = PriceBook(invoice.price_list).area_price(line.area, tier)
            if found is None or _tier != tier:
                raise ApplicationError(
                    _("The price list has no %(tier)s price for this area; type the price.")
                    % {"tier": AreaTier(tier).label.lower()},
                    field="tier",
                )
            unit_price = found
        line.description = line.description.replace(
            f"({AreaTier(line.tier).label.lower()})" if line.tier else "",
            f"({AreaTier(tier).label.lower()})",
        )[:200]
        line.tier = tier
    quantity, unit_price, discount = _checked_line_values(
        invoice,
        quantity=line.quantity if quantity is None else quantity,
        unit_price=line.unit_price if unit_price is None else unit_price,
        discount=line.discount if discount is None else discount,
    )
    amounts = line_amounts(
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        tax_rate=line.tax_rate,
        tax_included=line.tax_included,
        currency=invoice.currency,
    )
    line.quantity, line.unit_price, line.discount = quantity, unit_price, discount
    line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total
    line.save()
    _set_totals(invoice)
    audit.record(
        actor=actor,
        action="invoice.line_changed",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"line": line.pk, "total": str(line.total)},
    )
    return line


@transaction.atomic
def invoice_line_remove(*, actor, line):
    invoice = _locked_draft(line.invoice)
    line = InvoiceLine.objects.get(pk=line.pk, invoice=invoice)
    if line.kind == Kind.PACKAGE_SESSION:
        raise ConflictError(
            _(
                "The session drawn from the package stays on the invoice; void the draft to give "
                "the session back to the package."
            )
        )
    line.delete()
    _set_totals(invoice)
    audit.record(
        actor=actor,
        action="invoice.line_removed",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"line": line.description[:100]},
    )


@transaction.atomic
def invoice_update_notes(*, actor, invoice, notes):
    invoice = _locked_draft(invoice)
    invoice.notes = (notes or "").strip()[:2000]
    invoice.save(update_fields=["notes", "updated_at"])
    audit.record(
        actor=actor, action="invoice.notes_changed", target=invoice, patient_id=invoice.patient_id
    )
    return invoice


@transaction.atomic
def invoice_void(*, actor, invoice, reason):
    """Discard a draft (a fee waived, a visit not to be charged). Issued invoices are never
    voided: they are credited. A session drawn from a package goes back to it."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for voiding this draft."), field="reason")
    invoice = _locked_draft(invoice)
    if invoice.appointment_id:
        for draw in PackageDraw.objects.filter(
            appointment_id=invoice.appointment_id, reversed_at__isnull=True
        ):
            package_draw_reverse(actor=actor, draw=draw, reason=reason)
    invoice.status = Invoice.Status.VOID
    invoice.reason = reason[:300]
    invoice.voided_at, invoice.voided_by = timezone.now(), actor_or_none(actor)
    invoice.save(update_fields=["status", "reason", "voided_at", "voided_by", "updated_at"])
    audit.record(
        actor=actor,
        action="invoice.voided",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"reason": reason[:300]},
    )
    return invoice


# --- Issuing ------------------------------------------------------------------------------------


def _check_issuable(invoice, lines):
    if not lines:
        raise ApplicationError(_("Add at least one line before issuing."))
    unpriced = [
        line
        for line in lines
        if line.unit_price <= 0
        and line.kind not in (Kind.CONSULTATION_CREDIT,)
        and not (line.kind == Kind.PACKAGE_SESSION and line.unit_price == 0)
    ]
    if unpriced:
        raise ApplicationError(
            _("“%(line)s” has no price; type its price before issuing.")
            % {"line": unpriced[0].description},
            extra={"line": unpriced[0].pk},
        )
    if invoice.total < 0:
        raise ApplicationError(_("An invoice cannot come to less than zero."))
    currency = clinic_currency()
    if invoice.currency != currency:
        raise ConflictError(
            _(
                "The clinic now bills in %(clinic)s and this draft is in %(currency)s; void it "
                "and draft it again."
            )
            % {"clinic": currency, "currency": invoice.currency},
            field="currency",
        )


def _number(invoice, series, now):
    year = timezone.localtime(now, invoice.location.zone).year
    sequence = next_number(location=invoice.location, series=series, year=year)
    invoice.series, invoice.year, invoice.sequence = series, year, sequence
    invoice.number = format_number(
        location=invoice.location, series=series, year=year, sequence=sequence
    )


def _settle_package_sessions(*, actor, invoice, lines, now):
    """Pay each package session on the invoice with its value from the package."""
    for line in lines:
        if line.kind != Kind.PACKAGE_SESSION or line.total <= 0:
            continue
        draw = PackageDraw.objects.get(
            package=line.package, appointment=invoice.appointment, reversed_at__isnull=True
        )
        payment = Payment.objects.create(
            patient=invoice.patient,
            location=invoice.location,
            method=PaymentMethod.PACKAGE,
            amount=line.total,
            currency=invoice.currency,
            invoice=invoice,
            package_draw=draw,
            received_by=actor,
            received_at=now,
            note=line.description[:200],
        )
        ledger_add(
            patient=invoice.patient,
            kind=LedgerEntry.Kind.PAYMENT,
            amount=-payment.amount,
            currency=invoice.currency,
            description=_("Package credit for %(number)s") % {"number": invoice.number},
            invoice=invoice,
            payment=payment,
            at=now,
        )
        allocate(
            invoice=invoice,
            amount=payment.amount,
            source="payment",
            actor=actor,
            payment=payment,
            at=now,
        )


def _apply_deposits(*, actor, invoice, now):
    """Deposits taken for this course or visit pay the first invoice issued for it."""
    from django.db.models import Q

    if not (invoice.course_id or invoice.appointment_id):
        return
    match = Q(appointment_id=invoice.appointment_id) if invoice.appointment_id else Q(pk=None)
    if invoice.course_id:
        match |= Q(course_id=invoice.course_id)
    deposits = with_unallocated(
        Payment.objects.filter(patient=invoice.patient, purpose=Payment.Purpose.DEPOSIT).filter(
            match
        )
    ).order_by("received_at", "id")
    due = invoice.total - invoice_allocated(invoice)
    for deposit in deposits:
        if due <= 0:
            break
        if deposit.unallocated <= 0:
            continue
        amount = min(deposit.unallocated, due)
        allocate(
            invoice=invoice, amount=amount, source="deposit", actor=actor, payment=deposit, at=now
        )
        due -= amount


@transaction.atomic
def invoice_issue(*, actor, invoice, now=None):
    """Issue a draft: check it, give it the next number of its location and year, freeze it,
    put it on the patient's ledger, settle package sessions from the package and apply the
    deposits taken for its course or visit. Front desk and managers.

    Locks the account, the invoice, then the location's counter for the year, and holds the
    counter until commit: concurrent issues get consecutive numbers, none skipped or repeated.
    """
    now = now or timezone.now()
    invoice = _locked_draft(invoice)
    lines = list(invoice.lines.select_related("package"))
    _check_issuable(invoice, lines)
    _number(invoice, SERIES_INVOICE, now)
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at, invoice.issued_by = now, actor_or_none(actor)
    invoice.full_clean(exclude=["patient", "location", "appointment", "course", "price_list"])
    invoice.save()
    ledger_add(
        patient=invoice.patient,
        kind=LedgerEntry.Kind.INVOICE,
        amount=invoice.total,
        currency=invoice.currency,
        description=_("Invoice %(number)s") % {"number": invoice.number},
        invoice=invoice,
        at=now,
    )
    _settle_package_sessions(actor=actor, invoice=invoice, lines=lines, now=now)
    _apply_deposits(actor=actor, invoice=invoice, now=now)
    audit.record(
        actor=actor,
        action="invoice.issued",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"number": invoice.number, "total": str(invoice.total)},
    )
    return invoice


# --- Credit notes ---------------------------------------------------------------------------


def _credited_line_ids(invoice):
    return set(
        InvoiceLine.objects.filter(
            credited_line__invoice=invoice,
            invoice__status=Invoice.Status.ISSUED,
            invoice__kind=Invoice.Kind.CREDIT_NOTE,
        ).values_list("credited_line_id", flat=True)
    )


def _release_overpaid(*, actor, invoice, now):
    """After a credit, payments on the invoice beyond what is left to pay go back to the
    patient's account credit (newest first); a package credit goes back to its package."""
    from ..models import Allocation

    excess = invoice_allocated(invoice) - invoice.total
    if excess <= 0:
        return
    by_payment = {}
    for allocation in Allocation.objects.filter(invoice=invoice, payment__isnull=False).order_by(
        "-created_at", "-id"
    ):
        by_payment.setdefault(allocation.payment_id, ZERO)
        by_payment[allocation.payment_id] += allocation.amount
    for payment in Payment.objects.filter(pk__in=by_payment).order_by("-received_at", "-id"):
        if excess <= 0:
            break
        amount = min(by_payment[payment.pk], excess)
        if amount <= 0:
            continue
        allocate(
            invoice=invoice, amount=-amount, source="release", actor=actor, payment=payment, at=now
        )
        excess -= amount
        if payment.method == PaymentMethod.PACKAGE:
            _return_to_package(actor=actor, payment=payment, amount=amount, now=now)


def _return_to_package(*, actor, payment, amount, now):
    refund = Refund.objects.create(
        payment=payment,
        location=payment.location,
        amount=amount,
        method=PaymentMethod.PACKAGE,
        reason=_("Session returned to the package"),
        refunded_by=actor_or_none(actor),
        refunded_at=now,
    )
    ledger_add(
        patient=payment.patient,
        kind=LedgerEntry.Kind.REFUND,
        amount=amount,
        currency=payment.currency,
        description=_("Session returned to the package"),
        payment=payment,
        refund=refund,
        at=now,
    )
    package_draw_reverse(actor=actor, draw=payment.package_draw, reason="credited")


@transaction.atomic
def credit_note_issue(*, actor, invoice, reason, line_ids=None, lines=None, now=None):
    """Correct an issued invoice: a credit note (numbered in the location's credit-note
    series) reversing some or all of its lines, each in full. The credit is set against the
    invoice; what the patient had already paid beyond the new total becomes account credit
    (refundable). A package session credited goes back to the package. Front desk and
    managers; ``lines`` (line dicts) is for the package service's custom credit.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for the credit note."), field="reason")
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status != Invoice.Status.ISSUED:
        raise ConflictError(
            _("Only an issued invoice can be credited."),
            extra={"status": invoice.status, "id": invoice.pk},
        )
    if lines is None:
        already = _credited_line_ids(invoice)
        candidates = [line for line in invoice.lines.all() if line.pk not in already]
        if line_ids:
            wanted = {int(pk) for pk in line_ids}
            unknown = wanted - {line.pk for line in invoice.lines.all()}
            if unknown:
                raise ApplicationError(_("Those lines are not on this invoice."), field="lines")
            if wanted & already:
                raise ConflictError(_("A line chosen has already been credited."), field="lines")
            candidates = [line for line in candidates if line.pk in wanted]
        if not candidates:
            raise ConflictError(_("Everything on this invoice has already been credited."))
        lines = [_reversing_line(line) for line in candidates]
    total = sum((line["total"] for line in lines), ZERO)
    credited_before = sum(
        (cn.total for cn in invoice.credit_notes.filter(status=Invoice.Status.ISSUED)), ZERO
    )
    if total <= 0 or credited_before + total > invoice.total:
        raise ConflictError(
            _("A credit note cannot credit more than what is left of the invoice."),
            extra={"id": invoice.pk},
        )
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE,
        purpose=invoice.purpose,
        patient=invoice.patient,
        location=invoice.location,
        appointment=invoice.appointment,
        course=invoice.course,
        credited_invoice=invoice,
        price_list=invoice.price_list,
        currency=invoice.currency,
        reason=reason[:300],
        created_by=actor_or_none(actor),
    )
    _write_lines(note, lines)
    _number(note, SERIES_CREDIT_NOTE, now)
    note.status = Invoice.Status.ISSUED
    note.issued_at, note.issued_by = now, actor_or_none(actor)
    note.save()
    ledger_add(
        patient=invoice.patient,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=-note.total,
        currency=note.currency,
        description=_("Credit note %(number)s for %(invoice)s")
        % {"number": note.number, "invoice": invoice.number},
        invoice=note,
        at=now,
    )
    allocate(
        invoice=invoice,
        amount=note.total,
        source="credit_note",
        actor=actor,
        credit_note=note,
        at=now,
    )
    _release_overpaid(actor=actor, invoice=invoice, now=now)
    if invoice.purpose == Purpose.PACKAGE:
        _cancel_package_if_fully_credited(actor=actor, invoice=invoice)
    audit.record(
        actor=actor,
        action="invoice.credited",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"credit_note": note.number, "total": str(note.total), "reason": reason[:200]},
    )
    return note


def _reversing_line(line):
    return {
        "kind": line.kind,
        "description": line.description,
        "area": line.area,
        "tier": line.tier,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "tax_rate": line.tax_rate,
        "tax_included": line.tax_included,
        "net": line.net,
        "tax": line.tax,
        "total": line.total,
        "practitioner_id": line.practitioner_id,
        "product_id": line.product_id,
        "package_id": line.package_id,
        "credited_line": line,
    }


def _cancel_package_if_fully_credited(*, actor, invoice):
    package = Package.objects.select_for_update().filter(invoice=invoice).first()
    credited = sum(
        (cn.total for cn in invoice.credit_notes.filter(status=Invoice.Status.ISSUED)), ZERO
    )
    if package is not None and credited >= invoice.total and package.status != "cancelled":
        package.status = Package.Status.CANCELLED
        package.save(update_fields=["status"])
        audit.record(
            actor=actor, action="package.cancelled", target=package, patient_id=package.patient_id
        )
