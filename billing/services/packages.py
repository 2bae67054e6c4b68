"""Packages: a course sold as N sessions for a total price, paid up front or in instalments
through the package invoice; each completed session of the course draws one session."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError

from ..models import Invoice, InvoiceLine, Package
from ..money import ZERO
from ..pricing import make_line, price_list_in_force
from .common import clinic_currency, lock_account, money_amount
from .drafting import _consultation_credit_lines, _write_lines
from .invoices import credit_note_issue, invoice_issue

MAX_PACKAGE_SESSIONS = 50


@transaction.atomic
def package_sell(
    *, actor, patient, location, appointment_type, sessions, price, course=None, name="", now=None
):
    """Sell a package (front desk, manager): the package and its invoice, issued at once so
    the patient can pay it in full or in instalments. A deposit taken for the course is
    applied to it; so is the consultation fee when the price list credits it and the
    course's first session has not been invoiced yet. Price is what the patient pays, tax
    included."""
    if course is not None:
        if course.patient_id != patient.pk:
            raise ApplicationError(_("That course is another patient's."), field="course")
        appointment_type = course.appointment_type
        sessions = sessions or course.planned_sessions
    if appointment_type is None:
        raise ApplicationError(_("Choose the type of session."), field="appointment_type")
    try:
        sessions = int(sessions)
    except (TypeError, ValueError):
        raise ApplicationError(_("Enter the number of sessions."), field="sessions") from None
    if not 1 <= sessions <= MAX_PACKAGE_SESSIONS:
        raise ApplicationError(
            _("A package has between 1 and %(max)s sessions.") % {"max": MAX_PACKAGE_SESSIONS},
            field="sessions",
        )
    currency = clinic_currency()
    price = money_amount(price, currency, field="price")
    lock_account(patient)
    if course is not None and Package.objects.filter(course=course, status="active").exists():
        raise ConflictError(
            _("This course already has an active package."),
            field="course",
            extra={"course": course.pk},
        )
    name = (name or "").strip()[:120] or _("%(n)s × %(type)s") % {
        "n": sessions,
        "type": appointment_type.name,
    }
    price_list = price_list_in_force(timezone.localdate(timezone=location.zone))
    invoice = Invoice.objects.create(
        purpose=Invoice.Purpose.PACKAGE,
        patient=patient,
        location=location,
        course=course,
        currency=currency,
        price_list=price_list,
        created_by=actor,
    )
    lines = [
        make_line(
            kind=InvoiceLine.Kind.PACKAGE,
            description=_("Package “%(name)s”: %(n)s sessions") % {"name": name, "n": sessions},
            unit_price=price,
            currency=currency,
            tax_rate=price_list.tax_percent if price_list else ZERO,
            tax_included=True,
        )
    ]
    if course is not None and not course.appointments.filter(invoices__status="issued").exists():
        lines += _consultation_credit_lines(patient, price_list, room=price)
    _write_lines(invoice, lines)
    package = Package.objects.create(
        patient=patient,
        course=course,
        appointment_type=appointment_type,
        name=name,
        sessions_total=sessions,
        price=price,
        currency=currency,
        invoice=invoice,
        sold_by=actor,
        sold_at=now or timezone.now(),
    )
    InvoiceLine.objects.filter(invoice=invoice, kind=InvoiceLine.Kind.PACKAGE).update(
        package=package
    )
    package.invoice = invoice_issue(actor=actor, invoice=invoice, now=now)
    audit.record(
        actor=actor,
        action="package.sold",
        target=package,
        patient_id=patient.pk,
        detail={"sessions": sessions, "price": str(price), "invoice": invoice.number},
    )
    return package


@transaction.atomic
def package_cancel(*, actor, package, reason, now=None):
    """Stop a package (front desk, manager): a credit note for the sessions not delivered
    (the price less the value of the sessions drawn) on its invoice; what the patient paid
    beyond that becomes account credit, to refund or to use."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for cancelling the package."), field="reason")
    lock_account(package.patient)
    package = (
        Package.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=package.pk)
    )
    if package.status != Package.Status.ACTIVE:
        raise ConflictError(
            _("Only an active package can be cancelled."), extra={"status": package.status}
        )
    drawn = package.draws.filter(reversed_at__isnull=True)
    unused = package.sessions_total - drawn.count()
    remaining = package.price - sum((d.value for d in drawn), ZERO)
    sale_line = package.invoice.lines.filter(kind=InvoiceLine.Kind.PACKAGE).first()
    line = make_line(
        kind=InvoiceLine.Kind.PACKAGE,
        description=_("Unused sessions of the package “%(name)s”: %(k)s of %(n)s")
        % {"name": package.name, "k": unused, "n": package.sessions_total},
        unit_price=remaining,
        currency=package.currency,
        tax_rate=sale_line.tax_rate if sale_line else ZERO,
        tax_included=True,
        package_id=package.pk,
        credited_line=sale_line,
    )
    note = credit_note_issue(
        actor=actor, invoice=package.invoice, reason=reason, lines=[line], now=now
    )
    package.refresh_from_db()
    if package.status != Package.Status.CANCELLED:
        package.status = Package.Status.CANCELLED
        package.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="package.cancelled",
        target=package,
        patient_id=package.patient_id,
        detail={"credit_note": note.number, "unused": unused, "reason": reason[:200]},
    )
    return note


@transaction.atomic
def package_link_course(*, actor, course):
    """A course booked for a patient who bought a package of that type without a course:
    tie the package to the course so its sessions draw from it."""
    package = (
        Package.objects.select_for_update()
        .filter(
            patient_id=course.patient_id,
            appointment_type_id=course.appointment_type_id,
            course__isnull=True,
            status=Package.Status.ACTIVE,
        )
        .order_by("sold_at", "id")
        .first()
    )
    if package is None or Package.objects.filter(course=course, status="active").exists():
        return None
    package.course = course
    package.save(update_fields=["course"])
    audit.record(
        actor=actor,
        action="package.linked_to_course",
        target=package,
        patient_id=package.patient_id,
        detail={"course": course.pk},
    )
    return package
