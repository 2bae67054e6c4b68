"""Drafting invoices: from a completed visit (what was done, or one session drawn from the
course's package), a blank one, and the fee of a missed visit; the helpers that lock and total
a draft."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError

from ..models import (
    Invoice,
    InvoiceLine,
    Package,
    PackageDraw,
)
from ..money import ZERO, next_share
from ..pricing import DoneArea, PriceBook, make_line, price_list_in_force, visit_lines
from .common import (
    actor_or_none,
    clinic_currency,
    lock_account,
)

logger = logging.getLogger(__name__)
Kind = InvoiceLine.Kind
Purpose = Invoice.Purpose
# Lines a package session replaces (the visit's own price); extras and products stay.
COVERED_BY_PACKAGE = {Kind.SESSION, Kind.AREA, Kind.ADDITIONAL_AREA}


def _not_draft_error(invoice):
    if invoice.status == Invoice.Status.ISSUED:
        return ConflictError(
            _("Invoice %(number)s is issued and cannot be changed; correct it with a credit note.")
            % {"number": invoice.number},
            extra={"status": invoice.status, "id": invoice.pk},
        )
    return ConflictError(
        _("This invoice is void and cannot be changed."),
        extra={"status": invoice.status, "id": invoice.pk},
    )


def _locked(invoice):
    """Lock the patient's account, then the invoice (the billing lock order)."""
    lock_account(invoice.patient)
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("patient", "location", "price_list__tax_rate", "appointment")
        .get(pk=invoice.pk)
    )


def _locked_draft(invoice):
    invoice = _locked(invoice)
    if invoice.status != Invoice.Status.DRAFT:
        raise _not_draft_error(invoice)
    return invoice


def _set_totals(invoice):
    lines = list(invoice.lines.all())
    invoice.subtotal = sum((line.net for line in lines), ZERO)
    invoice.tax_total = sum((line.tax for line in lines), ZERO)
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])
    return lines


def _write_lines(invoice, lines):
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=position,
            **{k: v for k, v in line.items() if k != "is_extra"},
        )
        for position, line in enumerate(lines, start=1)
    )
    return _set_totals(invoice)


def _local_day(appointment):
    return timezone.localtime(appointment.starts_at, appointment.location.zone).date()


# --- Packages: drawing a session --------------------------------------------------------------


def package_for_appointment(appointment):
    """The package a visit draws from: the one it already drew from, else the course's active
    package, else the patient's active package for this type not yet tied to a course."""
    draw = PackageDraw.objects.filter(appointment=appointment, reversed_at__isnull=True).first()
    if draw is not None:
        return draw.package
    if appointment.appointment_type.kind == "consultation":
        return None
    packages = Package.objects.filter(patient_id=appointment.patient_id, status="active")
    if appointment.course_id:
        found = packages.filter(course_id=appointment.course_id).first()
        if found is not None:
            return found
    return (
        packages.filter(course__isnull=True, appointment_type_id=appointment.appointment_type_id)
        .order_by("sold_at", "id")
        .first()
    )


def package_draw(*, actor, package, appointment):
    """Take one session from ``package`` for ``appointment`` (or return the draw it already
    has). Locks the package row: two sessions completed at once cannot both take the last
    one. Refused (409) when the package is used up or cancelled. Call inside a transaction,
    after ``lock_account``."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    existing = package.draws.filter(appointment=appointment, reversed_at__isnull=True).first()
    if existing is not None:
        return existing
    active = list(package.draws.filter(reversed_at__isnull=True))
    if package.status != Package.Status.ACTIVE or len(active) >= package.sessions_total:
        raise ConflictError(
            _("The package “%(name)s” has no sessions left (%(n)s of %(n)s used).")
            % {"name": package.name, "n": package.sessions_total}
            if package.status != Package.Status.CANCELLED
            else _("The package “%(name)s” is cancelled.") % {"name": package.name},
            extra={"package": package.pk},
        )
    value = next_share(
        remaining_value=package.price - sum((d.value for d in active), ZERO),
        remaining_parts=package.sessions_total - len(active),
        currency=package.currency,
    )
    draw = PackageDraw.objects.create(
        package=package, appointment=appointment, value=value, drawn_by=actor_or_none(actor)
    )
    if len(active) + 1 == package.sessions_total:
        package.status = Package.Status.USED
        package.save(update_fields=["status"])
    if package.course_id is None and appointment.course_id:
        package.course_id = appointment.course_id
        package.save(update_fields=["course"])
    audit.record(
        actor=actor,
        action="package.session_drawn",
        target=package,
        patient_id=package.patient_id,
        detail={"appointment": appointment.pk, "value": str(value), "used": len(active) + 1},
    )
    return draw


def package_draw_reverse(*, actor, draw, reason):
    """Give a drawn session back to its package (its invoice was voided or credited)."""
    draw = (
        PackageDraw.objects.select_for_update(of=("self",))
        .select_related("package")
        .get(pk=draw.pk)
    )
    if draw.reversed_at is not None:
        return draw
    draw.reversed_at, draw.reversed_by = timezone.now(), actor_or_none(actor)
    draw.save(update_fields=["reversed_at", "reversed_by"])
    package = Package.objects.select_for_update().get(pk=draw.package_id)
    if package.status == Package.Status.USED:
        package.status = Package.Status.ACTIVE
        package.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="package.session_returned",
        target=package,
        patient_id=package.patient_id,
        detail={"appointment": draw.appointment_id, "reason": reason[:200]},
    )
    return draw


def _package_line(draw, appointment):
    package = draw.package
    used = package.draws.filter(reversed_at__isnull=True, drawn_at__lte=draw.drawn_at).count()
    return make_line(
        kind=Kind.PACKAGE_SESSION,
        description=_("%(type)s, session %(k)s of %(n)s of the package “%(name)s”")
        % {
            "type": appointment.appointment_type.name,
            "k": used,
            "n": package.sessions_total,
            "name": package.name,
        },
        unit_price=draw.value,
        currency=package.currency,
        package=package,
        practitioner=appointment.practitioner,
    )


# --- Drafting -------------------------------------------------------------------------------


def _done_areas(appointment, record=None):
    """What was done: the signed session record's treated areas, else the course's plan."""
    if record is None:
        from consultations.models import SessionRecord

        record = SessionRecord.objects.filter(appointment=appointment, status="signed").first()
    if record is not None:
        return [
            DoneArea(area=a.area, volume_ml=a.volume_ml, is_extra=a.is_extra, product=a.product)
            for a in record.areas.select_related("product").order_by("id")
        ]
    course = appointment.course
    return [DoneArea(area=area) for area in (course.areas if course else [])]


def _consultation_credit_lines(patient, price_list, *, room):
    """Lines crediting the patient's consultation fee against the first session, once: the
    newest issued consultation invoice not credited yet, if the price list says so and the
    credit fits in ``room`` (the invoice total must stay above zero)."""
    if price_list is None or not price_list.consultation_credited:
        return []
    credited = InvoiceLine.objects.filter(
        credits_consultation__isnull=False,
        invoice__status__in=[Invoice.Status.DRAFT, Invoice.Status.ISSUED],
    ).values("credits_consultation")
    consultation = (
        Invoice.objects.filter(
            patient=patient,
            purpose=Purpose.CONSULTATION,
            status=Invoice.Status.ISSUED,
            kind=Invoice.Kind.INVOICE,
            currency=price_list.currency,
        )
        .exclude(pk__in=credited)
        .exclude(credit_notes__status=Invoice.Status.ISSUED)
        .order_by("-issued_at")
        .first()
    )
    if consultation is None:
        return []
    lines = [
        make_line(
            kind=Kind.CONSULTATION_CREDIT,
            description=_("Consultation fee credited (%(number)s)")
            % {"number": consultation.number},
            unit_price=-line.unit_price,
            quantity=line.quantity,
            currency=consultation.currency,
            tax_rate=line.tax_rate,
            tax_included=line.tax_included,
            credits_consultation=consultation,
        )
        for line in consultation.lines.filter(kind=Kind.CONSULTATION)
    ]
    if sum((line["total"] for line in lines), ZERO) + room < 0:
        return []
    return lines


def _visit_lines(appointment, price_list, draw, record):
    session_label = ""
    if appointment.course_id and appointment.session_number:
        session_label = _(", session %(k)s of %(n)s") % {
            "k": appointment.session_number,
            "n": appointment.course.planned_sessions,
        }
    lines = []
    if price_list is not None:
        lines = visit_lines(
            PriceBook(price_list),
            appointment=appointment,
            done_areas=_done_areas(appointment, record),
            practitioner=appointment.practitioner,
            session_label=session_label,
        )
    if draw is not None:
        kept = [
            line for line in lines if line["kind"] not in COVERED_BY_PACKAGE or line.get("is_extra")
        ]
        return [_package_line(draw, appointment), *kept]
    if appointment.course_id and appointment.session_number == 1:
        room = sum((line["total"] for line in lines), ZERO)
        lines += _consultation_credit_lines(appointment.patient, price_list, room=room)
    return lines


def _live_invoice(appointment, purposes):
    return (
        Invoice.objects.select_for_update()
        .filter(
            appointment=appointment,
            kind=Invoice.Kind.INVOICE,
            purpose__in=purposes,
            status__in=[Invoice.Status.DRAFT, Invoice.Status.ISSUED],
        )
        .first()
    )


@transaction.atomic
def invoice_draft_for_appointment(*, actor, appointment, record=None):
    """Create, or bring up to date, the draft invoice of a completed visit from what was
    actually done: the type's price, each area treated at its tier with the additional-area
    rule, billable products, the consultation credit on a course's first session, or one
    session drawn from the course's package instead of the visit's price.

    Front desk and managers, and the completion hooks. An issued invoice is returned as it
    is. Refused (409) for a visit that is not completed, or when no price list is in force
    and no package covers the visit. Locks the patient's account, then the invoice.
    """
    from sessions.models import Appointment

    appointment = Appointment.objects.select_related(
        "appointment_type", "location", "patient", "practitioner", "course"
    ).get(pk=appointment.pk)
    if appointment.status != "completed":
        raise ConflictError(
            _("Only a completed visit can be invoiced; this one is %(status)s.")
            % {"status": appointment.get_status_display().lower()},
            extra={"status": appointment.status},
        )
    lock_account(appointment.patient)
    purpose = (
        Purpose.CONSULTATION
        if appointment.appointment_type.kind == "consultation"
        else Purpose.SESSION
    )
    invoice = _live_invoice(appointment, [Purpose.SESSION, Purpose.CONSULTATION])
    if invoice is not None and invoice.status == Invoice.Status.ISSUED:
        return invoice
    price_list = price_list_in_force(_local_day(appointment))
    package = package_for_appointment(appointment)
    if price_list is None and package is None:
        raise ConflictError(
            _("No price list is in force on %(day)s; the manager sets prices under Prices.")
            % {"day": _local_day(appointment).isoformat()}
        )
    currency = clinic_currency()
    for source in filter(None, [price_list, package]):
        if source.currency != currency:
            raise ConflictError(
                _("The clinic bills in %(clinic)s but the %(what)s is in %(other)s.")
                % {
                    "clinic": currency,
                    "other": source.currency,
                    "what": _("package") if source is package else _("price list"),
                },
                field="currency",
            )
    draw = package_draw(actor=actor, package=package, appointment=appointment) if package else None
    created = invoice is None
    if created:
        invoice = Invoice.objects.create(
            purpose=purpose,
            patient=appointment.patient,
            location=appointment.location,
            appointment=appointment,
            course=appointment.course,
            currency=currency,
            price_list=price_list,
            created_by=actor_or_none(actor),
        )
    else:
        invoice.price_list = price_list
        invoice.save(update_fields=["price_list", "updated_at"])
    _write_lines(invoice, _visit_lines(appointment, price_list, draw, record))
    audit.record(
        actor=actor,
        action="invoice.drafted" if created else "invoice.redrafted",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"appointment": appointment.pk, "total": str(invoice.total)},
    )
    return invoice


def invoice_draft_on_completion(*, actor, appointment, record=None):
    """The completion hooks' entry point: draft the visit's invoice, but never let billing
    stop the clinical record or the schedule. Without prices nothing is drafted (front desk
    drafts from the visit once there are); a failure is logged and audited as
    ``invoice.draft_skipped``, in a savepoint so the caller's transaction goes on."""
    if price_list_in_force(_local_day(appointment)) is None and (
        package_for_appointment(appointment) is None
    ):
        # The clinic has not set prices yet: nothing to draft, nothing went wrong.
        logger.info("No prices in force: appointment %s not drafted", appointment.pk)
        return None
    try:
        with transaction.atomic():
            return invoice_draft_for_appointment(
                actor=actor, appointment=appointment, record=record
            )
    except ApplicationError as exc:
        outcome, reason = audit.Outcome.FAILURE, exc.message
    except Exception as exc:  # noqa: BLE001 - billing must not block the clinical record
        logger.exception("Drafting the invoice of appointment %s failed", appointment.pk)
        outcome, reason = audit.Outcome.FAILURE, type(exc).__name__
    audit.record(
        actor=actor,
        action="invoice.draft_skipped",
        target=appointment,
        patient_id=appointment.patient_id,
        outcome=outcome,
        detail={"reason": str(reason)[:300]},
    )
    return None


@transaction.atomic
def invoice_draft_blank(*, actor, patient, location, purpose=Purpose.OTHER, notes=""):
    """An empty draft for anything else the clinic sells; front desk adds the lines."""
    lock_account(patient)
    price_list = price_list_in_force(timezone.localdate(timezone=location.zone))
    invoice = Invoice.objects.create(
        purpose=purpose,
        patient=patient,
        location=location,
        currency=clinic_currency(),
        price_list=price_list,
        notes=notes,
        created_by=actor_or_none(actor),
    )
    audit.record(actor=actor, action="invoice.drafted", target=invoice, patient_id=patient.pk)
    return invoice


def fee_policy_amount(price_list, purpose):
    if price_list is None:
        return None
    if purpose == Purpose.NO_SHOW_FEE:
        return price_list.no_show_fee
    if purpose == Purpose.LATE_CANCELLATION_FEE:
        return price_list.late_cancellation_fee
    return None


@transaction.atomic
def fee_invoice_draft(*, actor, appointment, purpose):
    """Draft the no-show or late-cancellation fee of a missed visit, when the price list in
    force on its day has one. Front desk reviews it: issue it, or void it to waive the fee.
    Returns the draft, or None when the policy charges nothing."""
    price_list = price_list_in_force(_local_day(appointment))
    amount = fee_policy_amount(price_list, purpose)
    if not amount:
        return None
    if price_list.currency != clinic_currency():
        raise ConflictError(_("The price list's currency is not the clinic's."), field="currency")
    lock_account(appointment.patient)
    if _live_invoice(appointment, [purpose]) is not None:
        return None
    invoice = Invoice.objects.create(
        purpose=purpose,
        patient=appointment.patient,
        location=appointment.location,
        appointment=appointment,
        course=appointment.course,
        currency=price_list.currency,
        price_list=price_list,
        created_by=actor_or_none(actor),
    )
    start = timezone.localtime(appointment.starts_at, appointment.location.zone)
    description = _("%(fee)s: %(type)s on %(when)s") % {
        "fee": Purpose(purpose).label,
        "type": appointment.appointment_type.name,
        "when": start.strftime("%Y-%m-%d %H:%M"),
    }
    from ..pricing import priced_line

    _write_lines(
        invoice,
        [priced_line(price_list, kind=Kind.FEE, description=description, unit_price=amount)],
    )
    audit.record(
        actor=actor,
        action="invoice.fee_drafted",
        target=invoice,
        patient_id=invoice.patient_id,
        detail={"appointment": appointment.pk, "purpose": purpose, "amount": str(amount)},
    )
    return invoice


def fee_invoice_on_status_change(
    *, actor, appointment, to_status, by_patient=None, late=None, now=None
):
    """The status hook's entry point: a no-show, or a cancellation by the patient inside the
    clinic's window (as scheduling judged it when cancelling), drafts the fee the price list
    sets. Never blocks the status change."""
    from clinic.models import ClinicSettings

    if to_status == "no_show":
        purpose = Purpose.NO_SHOW_FEE
    elif to_status == "cancelled":
        if late is None:  # called without scheduling's judgement (a data fix, a test)
            window = timedelta(hours=ClinicSettings.load().cancellation_window_hours)
            late = appointment.starts_at - (now or timezone.now()) < window
        if not (late and by_patient):
            return None
        purpose = Purpose.LATE_CANCELLATION_FEE
    else:
        return None
    try:
        with transaction.atomic():
            return fee_invoice_draft(actor=actor, appointment=appointment, purpose=purpose)
    except Exception as exc:  # noqa: BLE001 - a fee must not block the schedule
        logger.exception("Drafting the fee of appointment %s failed", appointment.pk)
        audit.record(
            actor=actor,
            action="invoice.draft_skipped",
            target=appointment,
            patient_id=appointment.patient_id,
            outcome=audit.Outcome.FAILURE,
            detail={"reason": getattr(exc, "message", type(exc).__name__)[:300]},
        )
        return None
