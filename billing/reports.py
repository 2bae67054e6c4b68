"""The reports for managers and front desk (selectors: read only, a fixed number of queries
each): the daily cash-up, revenue by day, practitioner and area, outstanding balances and
package liabilities. Each returns rows that the page shows and the CSV export writes."""

from dataclasses import dataclass
from datetime import time, timedelta

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.http import Http404

from clinic import audit
from clinic.areas import BodyArea
from clinic.lib.timezones import at_local

from .models import (
    MONEY_METHODS,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Package,
    Payment,
    PaymentMethod,
    Refund,
)
from .money import ZERO
from .selectors import can_bill, with_amounts, with_package_use


def _bounds(start, end, zone):
    """[start 00:00, end + 1 day 00:00) in the zone, as aware datetimes."""
    return at_local(start, time(0), zone), at_local(end + timedelta(days=1), time(0), zone)


def _guard(user, name, **detail):
    if not can_bill(user):
        raise Http404
    audit.record(actor=user, action=f"report.{name}", detail={k: str(v) for k, v in detail.items()})


@dataclass
class CashUp:
    day: object
    by_method: list  # (method label, received, refunded, net, count)
    by_user: list  # (user, method label, received, refunded, net)
    total_received: object
    total_refunded: object
    package_credit: object
    payments: list

    @property
    def total_net(self):
        return self.total_received - self.total_refunded


def cash_up(user, *, day, zone, location=None):
    """Money taken and given back on a local day, by method and by who took it."""
    _guard(user, "cash_up", day=day, location=getattr(location, "pk", ""))
    start, end = _bounds(day, day, zone)
    payments = Payment.objects.filter(received_at__gte=start, received_at__lt=end)
    refunds = Refund.objects.filter(refunded_at__gte=start, refunded_at__lt=end)
    if location is not None:
        payments, refunds = payments.filter(location=location), refunds.filter(location=location)
    money = payments.filter(method__in=MONEY_METHODS)
    received = {
        r["method"]: (r["s"], r["n"])
        for r in money.values("method").annotate(s=Sum("amount"), n=Count("id"))
    }
    refunded = {
        r["method"]: r["s"]
        for r in refunds.filter(method__in=MONEY_METHODS).values("method").annotate(s=Sum("amount"))
    }
    by_method = []
    for method in MONEY_METHODS:
        got, count = received.get(method, (ZERO, 0))
        back = refunded.get(method, ZERO)
        by_method.append((method.label, got, back, got - back, count))
    per_user = {}
    for r in money.values("received_by__full_name", "received_by__email", "method").annotate(
        s=Sum("amount")
    ):
        key = (r["received_by__full_name"] or r["received_by__email"], r["method"])
        per_user[key] = [r["s"], ZERO]
    for r in (
        refunds.filter(method__in=MONEY_METHODS)
        .values("refunded_by__full_name", "refunded_by__email", "method")
        .annotate(s=Sum("amount"))
    ):
        key = (r["refunded_by__full_name"] or r["refunded_by__email"] or "—", r["method"])
        per_user.setdefault(key, [ZERO, ZERO])[1] = r["s"]
    by_user = [
        (who, PaymentMethod(method).label, got, back, got - back)
        for (who, method), (got, back) in sorted(per_user.items())
    ]
    return CashUp(
        day=day,
        by_method=by_method,
        by_user=by_user,
        total_received=sum((row[1] for row in by_method), ZERO),
        total_refunded=sum((row[2] for row in by_method), ZERO),
        package_credit=payments.filter(method=PaymentMethod.PACKAGE).aggregate(s=Sum("amount"))["s"]
        or ZERO,
        payments=list(
            money.select_related("patient", "invoice", "received_by").order_by("received_at")
        ),
    )


@dataclass
class Revenue:
    by_day: list  # (day, net, tax, gross)
    by_practitioner: list  # (name, invoiced net, package sessions value)
    by_area: list  # (area label, net)
    total_net: object
    total_tax: object


def _signed_lines(start, end, location):
    """Lines of invoices and credit notes issued in the range, credit notes negative."""
    lines = InvoiceLine.objects.filter(
        invoice__status=Invoice.Status.ISSUED,
        invoice__issued_at__gte=start,
        invoice__issued_at__lt=end,
    )
    if location is not None:
        lines = lines.filter(invoice__location=location)
    return lines


def revenue(user, *, start, end, zone, location=None):
    """Revenue by day (net, tax, gross of invoices less credit notes, by issue date),
    by practitioner and by treated area (net). Sessions taken from a package are not sold
    again: they show beside the practitioner as the package value delivered."""
    _guard(user, "revenue", start=start, end=end, location=getattr(location, "pk", ""))
    since, until = _bounds(start, end, zone)
    lines = _signed_lines(since, until, location)
    sold = lines.exclude(kind=InvoiceLine.Kind.PACKAGE_SESSION)
    sign_in, sign_out = Q(invoice__kind="invoice"), Q(invoice__kind="credit_note")

    def signed(field):
        return Sum(field, filter=sign_in, default=ZERO) - Sum(field, filter=sign_out, default=ZERO)

    by_day = [
        (r["day"], r["net"], r["tax"], r["net"] + r["tax"])
        for r in sold.annotate(day=TruncDate("invoice__issued_at", tzinfo=zone))
        .values("day")
        .annotate(net=signed("net"), tax=signed("tax"))
        .order_by("day")
    ]
    practitioners = {}
    for r in sold.values("practitioner__title", "practitioner__display_name").annotate(
        net=signed("net")
    ):
        name = f"{r['practitioner__title'] or ''} {r['practitioner__display_name'] or ''}".strip()
        practitioners.setdefault(name, [ZERO, ZERO])[0] += r["net"]
    for r in (
        lines.filter(kind=InvoiceLine.Kind.PACKAGE_SESSION)
        .values("practitioner__title", "practitioner__display_name")
        .annotate(net=signed("net"))
    ):
        name = f"{r['practitioner__title'] or ''} {r['practitioner__display_name'] or ''}".strip()
        practitioners.setdefault(name, [ZERO, ZERO])[1] += r["net"]
    by_practitioner = sorted(
        ((name or "—", net, package) for name, (net, package) in practitioners.items()),
        key=lambda row: (row[0] == "—", row[0]),
    )
    by_area = [
        (BodyArea(r["area"]).label, r["net"])
        for r in sold.exclude(area="").values("area").annotate(net=signed("net")).order_by("area")
    ]
    return Revenue(
        by_day=by_day,
        by_practitioner=by_practitioner,
        by_area=by_area,
        total_net=sum((row[1] for row in by_day), ZERO),
        total_tax=sum((row[2] for row in by_day), ZERO),
    )


def outstanding_balances(user):
    """Patients who owe the clinic (ledger balance above zero), largest first, with their
    oldest unpaid invoice."""
    _guard(user, "outstanding")
    balances = (
        LedgerEntry.objects.values(
            "patient_id", "patient__legal_first_name", "patient__legal_last_name", "currency"
        )
        .annotate(balance=Sum("amount"))
        .filter(balance__gt=0)
        .order_by("-balance", "patient_id")
    )
    rows = list(balances)
    unpaid = (
        with_amounts(
            Invoice.objects.filter(
                patient_id__in=[r["patient_id"] for r in rows],
                status=Invoice.Status.ISSUED,
                kind=Invoice.Kind.INVOICE,
            )
        )
        .filter(due_raw__gt=0)
        .values("patient_id")
        .annotate(oldest=Min("issued_at"), count=Count("id"))
    )
    by_patient = {r["patient_id"]: r for r in unpaid}
    for row in rows:
        found = by_patient.get(row["patient_id"], {})
        row["name"] = f"{row['patient__legal_first_name']} {row['patient__legal_last_name']}"
        row["oldest"], row["unpaid_count"] = found.get("oldest"), found.get("count", 0)
    return rows


def package_liabilities(user):
    """Sessions sold in packages and not yet delivered, with their value (the price less the
    value of the sessions drawn) and what has been paid on the package invoice."""
    _guard(user, "package_liabilities")
    packages = list(
        with_package_use(
            Package.objects.filter(status=Package.Status.ACTIVE).select_related(
                "patient", "appointment_type", "invoice"
            )
        ).order_by("sold_at", "id")
    )
    paid = {
        i.pk: i.allocated - i.credited
        for i in with_amounts(Invoice.objects.filter(pk__in=[p.invoice_id for p in packages]))
    }
    for package in packages:
        package.paid = paid.get(package.invoice_id, ZERO)
    return packages
