"""Every read of billing that a page or the API uses, scoped to what the user may see and
costing a fixed number of queries. Front desk and managers see every patient's billing; a
patient sees only their own issued documents; practitioners only whether a visit is paid."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from clinic import audit
from clinic.models import ClinicSettings
from clinic.roles import DESK_ROLES, Role
from patients.selectors import patient_for_portal_user

from .models import (
    MONEY,
    Allocation,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Package,
    PackageDraw,
    Payment,
    Refund,
)
from .money import ZERO, tax_breakdown
from .services.common import with_unallocated

_MONEY = DecimalField(**MONEY)


def can_bill(user):
    return user.is_authenticated and user.is_active and user.role in DESK_ROLES


def is_patient(user):
    return user.is_authenticated and user.is_active and user.role == Role.PATIENT


def _allocated(**filters):
    return Coalesce(
        Subquery(
            Allocation.objects.filter(invoice=OuterRef("pk"), **filters)
            .values("invoice")
            .annotate(s=Sum("amount"))
            .values("s"),
            output_field=_MONEY,
        ),
        Value(ZERO, output_field=_MONEY),
    )


def with_amounts(invoices):
    """Annotate ``credited``, ``paid`` and ``due`` (one query with subqueries). ``due`` is
    zero for drafts, void invoices and credit notes."""
    return invoices.annotate(
        allocated=_allocated(),
        credited=_allocated(source=Allocation.Source.CREDIT_NOTE),
    ).annotate(
        paid=ExpressionWrapper(F("allocated") - F("credited"), output_field=_MONEY),
        due_raw=ExpressionWrapper(F("total") - F("allocated"), output_field=_MONEY),
    )


def _due(invoice):
    if invoice.status != Invoice.Status.ISSUED or invoice.kind != Invoice.Kind.INVOICE:
        return ZERO
    return invoice.due_raw


def invoice_state(invoice):
    """'draft', 'void', 'credit_note', 'paid', 'part_paid', 'unpaid' or 'credited'."""
    if invoice.status != Invoice.Status.ISSUED:
        return invoice.status
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return "credit_note"
    if invoice.credited and invoice.credited >= invoice.total:
        return "credited"
    if invoice.due_raw <= 0:
        return "paid"
    return "part_paid" if invoice.paid > 0 else "unpaid"


def decorate(invoices):
    invoices = list(invoices)
    for invoice in invoices:
        invoice.due = _due(invoice)
        invoice.state = invoice_state(invoice)
    return invoices


def invoice_queryset_for_user(user):
    """Front desk and managers: every invoice. A patient: their own issued ones (never a
    draft or a void one). Anyone else: none."""
    base = Invoice.objects.select_related("patient", "location", "credited_invoice")
    if can_bill(user):
        return base
    if is_patient(user):
        return base.filter(
            patient__portal_user=user, patient__is_active=True, status=Invoice.Status.ISSUED
        )
    return base.none()


def invoice_list(
    user,
    *,
    status=None,
    kind=None,
    purpose=None,
    patient=None,
    location=None,
    issued_from=None,
    issued_to=None,
    unpaid=False,
    search="",
):
    """Invoices for the list page and the API, newest first, with their amounts."""
    invoices = with_amounts(invoice_queryset_for_user(user))
    if status:
        invoices = invoices.filter(status=status)
    if kind:
        invoices = invoices.filter(kind=kind)
    if purpose:
        invoices = invoices.filter(purpose=purpose)
    if patient is not None:
        invoices = invoices.filter(patient=patient)
    if location is not None:
        invoices = invoices.filter(location=location)
    if issued_from:
        invoices = invoices.filter(issued_at__date__gte=issued_from)
    if issued_to:
        invoices = invoices.filter(issued_at__date__lte=issued_to)
    if unpaid:
        invoices = invoices.filter(
            status=Invoice.Status.ISSUED, kind=Invoice.Kind.INVOICE, due_raw__gt=0
        )
    search = (search or "").strip()
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(patient__search_name__contains=search.lower())
            | Q(patient__email__icontains=search)
        )
    return invoices.order_by(F("issued_at").desc(nulls_first=True), "-created_at", "-id")


def invoice_get_for_user(user, pk, *, audit_read=True):
    """One invoice (with amounts) the user may see, else 404. Records the read."""
    try:
        invoice = with_amounts(invoice_queryset_for_user(user)).get(pk=pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    decorate([invoice])
    if audit_read:
        audit.record(
            actor=user, action="invoice.viewed", target=invoice, patient_id=invoice.patient_id
        )
    return invoice


@dataclass
class InvoiceDetail:
    invoice: Invoice
    lines: list
    tax_bands: list
    allocations: list
    payments: list
    refunds: list
    credit_notes: list
    account_credit: Decimal = ZERO
    package: object = None
    draw: object = None


def invoice_detail(user, pk):
    """Everything the invoice page, the print view and the receipt show: lines, tax per
    rate, what paid it (payments, account credit, deposits, credit notes), refunds, credit
    notes; and for staff the patient's account credit. A fixed number of queries."""
    invoice = invoice_get_for_user(user, pk)
    detail = _detail(invoice)
    if can_bill(user) and invoice.kind == Invoice.Kind.INVOICE:
        detail.account_credit = account_credit_of(invoice.patient_id)
    return detail


def invoice_detail_unscoped(pk):
    """The same for the system itself (the email task): no user, no access check."""
    invoice = with_amounts(
        Invoice.objects.select_related("patient", "location", "credited_invoice")
    ).get(pk=pk)
    decorate([invoice])
    return _detail(invoice)


def _detail(invoice):
    lines = list(
        invoice.lines.select_related("practitioner", "product", "package").order_by(
            "position", "id"
        )
    )
    allocations = list(
        Allocation.objects.filter(invoice=invoice)
        .select_related("payment__received_by", "credit_note", "created_by")
        .order_by("created_at", "id")
    )
    payments = list(
        with_unallocated(
            Payment.objects.filter(Q(invoice=invoice) | Q(allocations__invoice=invoice)).distinct()
        )
        .select_related("received_by")
        .order_by("received_at", "id")
    )
    refunds = list(
        Refund.objects.filter(payment__in=[p.pk for p in payments])
        .select_related("refunded_by", "payment")
        .order_by("refunded_at", "id")
    )
    credit_notes = decorate(
        with_amounts(
            Invoice.objects.filter(credited_invoice=invoice).prefetch_related("lines")
        ).order_by("issued_at", "id")
    )
    detail = InvoiceDetail(
        invoice=invoice,
        lines=lines,
        tax_bands=tax_breakdown(lines),
        allocations=allocations,
        payments=payments,
        refunds=refunds,
        credit_notes=credit_notes,
    )
    if invoice.appointment_id:
        detail.draw = (
            PackageDraw.objects.filter(appointment_id=invoice.appointment_id, reversed_at=None)
            .select_related("package")
            .first()
        )
    return detail


def account_credit_of(patient_id):
    found = (
        with_unallocated(Payment.objects.filter(patient_id=patient_id).exclude(method="package"))
        .filter(unallocated__gt=0)
        .aggregate(s=Sum("unallocated"))["s"]
    )
    return found or ZERO


def invoice_for_appointment(user, appointment_id):
    """The visit's live invoice (draft or issued), or None. Front desk and managers."""
    if not can_bill(user):
        raise Http404
    return (
        Invoice.objects.filter(
            appointment_id=appointment_id,
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.DRAFT, Invoice.Status.ISSUED],
            purpose__in=[Invoice.Purpose.SESSION, Invoice.Purpose.CONSULTATION],
        )
        .order_by("id")
        .first()
    )


def fee_invoices_for_appointment(appointment_id):
    return list(
        Invoice.objects.filter(
            appointment_id=appointment_id,
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.DRAFT, Invoice.Status.ISSUED],
            purpose__in=[Invoice.Purpose.NO_SHOW_FEE, Invoice.Purpose.LATE_CANCELLATION_FEE],
        )
    )


PAYMENT_STATE_LABELS = {
    "paid": "Paid",
    "part_paid": "Part paid",
    "unpaid": "Unpaid",
    "draft": "Not invoiced yet",
    "credited": "Credited",
}


def appointment_payment_states(user, appointment_ids):
    """For a day list: ``{appointment id: state}`` with state 'paid', 'part_paid', 'unpaid',
    'draft' (invoice not issued yet) or 'credited', for visits that have an invoice. One
    query. Staff only (practitioners see whether their sessions are paid)."""
    if not (can_bill(user) or (user.is_authenticated and user.role == Role.PRACTITIONER)):
        return {}
    ids = [pk for pk in appointment_ids if pk is not None]
    if not ids:
        return {}
    invoices = with_amounts(
        Invoice.objects.filter(
            appointment_id__in=ids,
            kind=Invoice.Kind.INVOICE,
            status__in=[Invoice.Status.DRAFT, Invoice.Status.ISSUED],
            purpose__in=[Invoice.Purpose.SESSION, Invoice.Purpose.CONSULTATION],
        )
    )
    return {invoice.appointment_id: invoice_state(invoice) for invoice in invoices}


# --- Packages -------------------------------------------------------------------------------


def with_package_use(packages):
    """Annotate ``used`` (sessions drawn), ``drawn_value``, ``remaining`` and
    ``remaining_value``."""
    draws = PackageDraw.objects.filter(package=OuterRef("pk"), reversed_at__isnull=True)
    return packages.annotate(
        used=Coalesce(
            Subquery(
                draws.values("package").annotate(n=Count("id")).values("n"),
            ),
            Value(0),
        ),
        drawn_value=Coalesce(
            Subquery(
                draws.values("package").annotate(s=Sum("value")).values("s"),
                output_field=_MONEY,
            ),
            Value(ZERO, output_field=_MONEY),
        ),
    ).annotate(
        remaining=F("sessions_total") - F("used"),
        remaining_value=ExpressionWrapper(F("price") - F("drawn_value"), output_field=_MONEY),
    )


def package_queryset_for_user(user):
    base = with_package_use(
        Package.objects.select_related("patient", "course", "appointment_type", "invoice")
    )
    if can_bill(user):
        return base
    if is_patient(user):
        return base.filter(patient__portal_user=user, patient__is_active=True)
    return base.none()


def package_get_for_user(user, pk):
    try:
        package = package_queryset_for_user(user).get(pk=pk)
    except (Package.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    audit.record(actor=user, action="package.viewed", target=package, patient_id=package.patient_id)
    return package


def payment_queryset_for_user(user):
    base = with_unallocated(
        Payment.objects.select_related("patient", "invoice", "received_by", "location")
    )
    if can_bill(user):
        return base
    if is_patient(user):
        return base.filter(patient__portal_user=user, patient__is_active=True)
    return base.none()


def payment_get_for_user(user, pk):
    try:
        payment = payment_queryset_for_user(user).get(pk=pk)
    except (Payment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    audit.record(actor=user, action="payment.viewed", target=payment, patient_id=payment.patient_id)
    return payment


# --- The patient's account ---------------------------------------------------------------------


@dataclass
class Account:
    patient: object
    entries: list
    balance: Decimal
    account_credit: Decimal
    invoices: list
    payments: list
    packages: list
    currency: str = ""
    deposits: list = field(default_factory=list)

    @property
    def owes(self):
        return self.balance > 0


def patient_account(user, patient, *, audit_read=True):
    """The patient ledger: every entry with the running balance (the balance is the sum of
    the entries), invoices with what is due, payments with what is left of them, packages
    with sessions left. Front desk and managers for any patient; a patient for themselves.
    Seven queries whatever the history."""
    if not (can_bill(user) or (is_patient(user) and patient.portal_user_id == user.pk)):
        raise Http404
    entries = list(
        LedgerEntry.objects.filter(patient=patient).select_related("invoice").order_by("at", "id")
    )
    running = ZERO
    for entry in entries:
        running += entry.amount
        entry.balance_after = running
    invoices = invoice_queryset_for_user(user).filter(patient=patient)
    if is_patient(user):
        invoices = invoices.filter(status=Invoice.Status.ISSUED)
    invoices = decorate(with_amounts(invoices).order_by("-created_at", "-id"))
    payments = list(
        payment_queryset_for_user(user)
        .filter(patient=patient)
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("refunded_at")))
        .order_by("-received_at", "-id")
    )
    packages = list(package_queryset_for_user(user).filter(patient=patient))
    credit = sum(
        (p.unallocated for p in payments if p.method != "package" and p.unallocated > 0), ZERO
    )
    if audit_read:
        audit.record(
            actor=user, action="billing.account_viewed", target=patient, patient_id=patient.pk
        )
    currency = entries[-1].currency if entries else ""
    return Account(
        patient=patient,
        entries=entries,
        balance=running,
        account_credit=credit,
        invoices=invoices,
        payments=payments,
        packages=packages,
        currency=currency,
        deposits=[p for p in payments if p.purpose == "deposit"],
    )


def ledger_balance(patient_id):
    return LedgerEntry.objects.filter(patient_id=patient_id).aggregate(s=Sum("amount"))["s"] or ZERO


def portal_account(user):
    """The logged-in patient's own account (404 when the login has no patient record)."""
    patient = patient_for_portal_user(user)
    return patient_account(user, patient)


def chart_billing_panel(user, patient):
    """The chart's billing panel: balance, account credit, the latest invoices and the
    packages. Front desk and managers only (practitioners and patients get nothing)."""
    if not can_bill(user):
        return None
    invoices = decorate(
        with_amounts(Invoice.objects.filter(patient=patient).exclude(status="void"))
        .select_related("location")
        .order_by("-created_at", "-id")[:5]
    )
    packages = list(with_package_use(Package.objects.filter(patient=patient, status="active")))
    return {
        "template": "billing/partials/chart_panel.html",
        "patient": patient,
        "balance": ledger_balance(patient.pk),
        "account_credit": account_credit_of(patient.pk),
        "invoices": invoices,
        "packages": packages,
        "currency": ClinicSettings.load().currency,
    }


def lines_of(invoice_ids):
    return list(
        InvoiceLine.objects.filter(invoice_id__in=invoice_ids).order_by("invoice_id", "position")
    )


def signed_record_exists(appointment) -> bool:
    """Whether the visit's session record is signed (its invoice is drafted from the record)."""
    from consultations.models import SessionRecord

    return SessionRecord.objects.filter(
        appointment_id=appointment.pk, status=SessionRecord.Status.SIGNED
    ).exists()
