"""The reports page (managers and front desk) and its CSV exports: daily cash-up, revenue,
outstanding balances and package liabilities."""

import csv
from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from clinic.models import ClinicSettings, Location

from . import reports
from .forms import ReportForm
from .views import desk_required

REPORTS = ["cashup", "revenue", "outstanding", "packages"]


def _csv(filename, header, rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        # A cell starting with = + - @ is read as a formula by spreadsheets: quote it.
        writer.writerow(
            [f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row]
        )
    return response


def _params(request, locations):
    default_zone = locations[0].zone if locations else timezone.get_current_timezone()
    today = timezone.localdate(timezone=default_zone)
    data = {
        "start": request.GET.get("start") or (today - timedelta(days=today.day - 1)).isoformat(),
        "end": request.GET.get("end") or today.isoformat(),
        "location": request.GET.get("location", ""),
    }
    form = ReportForm(data, locations=locations)
    if not form.is_valid():
        return form, today, today, None, default_zone
    location = next((x for x in locations if str(x.pk) == form.cleaned_data["location"]), None)
    zone = location.zone if location else default_zone
    return form, form.cleaned_data["start"], form.cleaned_data["end"], location, zone


@require_GET
@desk_required
def report_page(request):
    report = request.GET.get("report", "cashup")
    if report not in REPORTS:
        report = "cashup"
    locations = list(Location.objects.filter(is_active=True))
    form, start, end, location, zone = _params(request, locations)
    if report == "cashup":
        form.fields["end"].label = _("Day")
    export = request.GET.get("export") == "csv"
    context = {"report": report, "form": form, "currency": ClinicSettings.load().currency}
    if report == "cashup":
        day = end
        data = reports.cash_up(request.user, day=day, zone=zone, location=location)
        if export:
            return _csv(
                f"cash-up-{day}",
                ["who", "method", "received", "refunded", "net"],
                [*data.by_user, *[("All", m, r, b, n) for m, r, b, n, _c in data.by_method]],
            )
        context["cashup"] = data
    elif report == "revenue":
        data = reports.revenue(request.user, start=start, end=end, zone=zone, location=location)
        if export:
            return _csv(
                f"revenue-{start}-{end}",
                ["section", "key", "net", "tax", "gross", "package sessions"],
                [("day", d, n, t, g, "") for d, n, t, g in data.by_day]
                + [("practitioner", p, n, "", "", pkg) for p, n, pkg in data.by_practitioner]
                + [("area", a, n, "", "", "") for a, n in data.by_area],
            )
        context["revenue"] = data
    elif report == "outstanding":
        rows = reports.outstanding_balances(request.user)
        if export:
            return _csv(
                "outstanding-balances",
                ["patient id", "patient", "balance", "currency", "unpaid invoices", "oldest"],
                [
                    (
                        r["patient_id"],
                        r["name"],
                        r["balance"],
                        r["currency"],
                        r["unpaid_count"],
                        r["oldest"].date().isoformat() if r["oldest"] else "",
                    )
                    for r in rows
                ],
            )
        context["outstanding"] = rows
    else:
        packages = reports.package_liabilities(request.user)
        if export:
            return _csv(
                "package-liabilities",
                ["package", "patient", "sessions", "used", "left", "price", "value left", "paid"],
                [
                    (
                        p.name,
                        p.patient.full_name,
                        p.sessions_total,
                        p.used,
                        p.remaining,
                        p.price,
                        p.remaining_value,
                        p.paid,
                    )
                    for p in packages
                ],
            )
        context["packages"] = packages
        context["liability_total"] = sum(p.remaining_value for p in packages)
        context["sessions_left"] = sum(p.remaining for p in packages)
    return render(request, "billing/reports.html", context)
