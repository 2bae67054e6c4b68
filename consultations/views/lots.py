"""The product lots pages and the lot recall: managers and practitioners keep the lots (only
managers change the stock); only managers recall a lot (the page and its CSV export)."""

import csv
import re
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import audit
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.permissions import clinician_required, manager_required
from consultations.forms.lots import LotForm, RecallSearchForm
from consultations.models import ProductLot
from consultations.selectors.lots import (
    can_change_stock,
    lot_recall,
    lots_with_number,
    products_with_lots,
)
from consultations.services.lots import lot_add, lot_set_in_stock


@clinician_required
@require_http_methods(["GET", "POST"])
def lot_list(request):
    """Every product with its lots (expiry, in stock, expired), and the form to register a
    delivered lot. A duplicate lot number is refused at the field (409)."""
    form = LotForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                lot = lot_add(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                add_service_error(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Lot %(lot)s of %(product)s is registered.")
                    % {"lot": lot.lot_number, "product": lot.product},
                )
                return redirect(reverse("lot_list") + f"#lot-{lot.pk}")
    return render(
        request,
        "consultations/lots/list.html",
        {
            "products": products_with_lots(request.user),
            "form": form,
            "today": timezone.localdate(),
            "can_change_stock": can_change_stock(request.user),
        },
        status=status,
    )


@manager_required
@require_POST
def lot_stock(request, pk):
    """Take a lot off the list offered for new sessions (used up, recalled) or put it back."""
    lot = get_object_or_404(ProductLot.objects.select_related("product"), pk=pk)
    in_stock = request.POST.get("in_stock") == "1"
    lot_set_in_stock(actor=request.user, lot=lot, in_stock=in_stock)
    if in_stock:
        text = _("Lot %(lot)s of %(product)s is back in stock.")
    else:
        text = _("Lot %(lot)s of %(product)s is out of stock: it is no longer offered.")
    messages.success(request, text % {"lot": lot.lot_number, "product": lot.product})
    return redirect(reverse("lot_list") + f"#lot-{lot.pk}")


@dataclass
class RecallLine:
    """One treated area that used the lot, as the recall page and the CSV show it."""

    patient: object
    session_at: object  # aware, in the location's zone
    appointment: object
    record: object
    product: object
    lot: object
    area: str
    volume_ml: object
    practitioner: object


def _recall_lines(rows):
    lines = []
    for row in rows:
        treated, appointment = row.treated_area, row.appointment
        lines.append(
            RecallLine(
                patient=row.patient,
                session_at=timezone.localtime(appointment.starts_at, appointment.location.zone),
                appointment=appointment,
                record=row.record,
                product=treated.product,
                lot=treated.lot,
                area=treated.get_area_display(),
                volume_ml=treated.volume_ml,
                practitioner=row.record.practitioner,
            )
        )
    return lines


@manager_required
@require_GET
def lot_recall_page(request):
    """Search a lot number: every patient and session that received it, with contact details
    to call them. The search is audited with the patients it found."""
    form = RecallSearchForm(request.GET or None)
    lines, lots, lot_number = None, [], ""
    if form.is_bound and form.is_valid():
        lot_number = form.cleaned_data["lot"]
        lines = _recall_lines(lot_recall(request.user, lot_number))
        lots = lots_with_number(request.user, lot_number)
    return render(
        request,
        "consultations/lots/recall.html",
        {
            "form": form,
            "lines": lines,
            "lots": lots,
            "lot_number": lot_number,
            "patient_count": len({line.patient.pk for line in lines or []}),
        },
        status=400 if form.errors else 200,
    )


RECALL_COLUMNS = [
    "Patient",
    "Date of birth",
    "Phone",
    "Email",
    "Session date",
    "Session status",
    "Record",
    "Product",
    "Lot",
    "Lot expiry",
    "Area",
    "Volume (ml)",
    "Practitioner",
]


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such
# cells get a leading apostrophe, which the spreadsheet shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(line):
    return [
        line.patient.full_name,
        line.patient.date_of_birth.isoformat(),
        line.patient.mobile_phone or "",
        line.patient.email,
        line.session_at.strftime("%Y-%m-%d %H:%M"),
        line.appointment.get_status_display(),
        line.record.get_status_display(),
        line.product.name,
        line.lot.lot_number,
        line.lot.expires_on.isoformat(),
        line.area,
        line.volume_ml,
        str(line.practitioner),
    ]


@manager_required
@require_GET
def lot_recall_csv(request):
    """The recall as a CSV file (the same search as the page), formula-safe cells."""
    form = RecallSearchForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            _("Enter a lot number."), status=400, content_type="text/plain; charset=utf-8"
        )
    lot_number = form.cleaned_data["lot"]
    lines = _recall_lines(lot_recall(request.user, lot_number))
    audit.record(
        actor=request.user,
        action="lot.recall_exported",
        detail={"lot": lot_number, "rows": len(lines)},
    )
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", lot_number).strip("._") or "lot"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lot-recall-{safe_name}.csv"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # so that spreadsheets read the names' accents as UTF-8
    writer = csv.writer(response)
    writer.writerow(RECALL_COLUMNS)
    for line in lines:
        writer.writerow([csv_safe(value) for value in _csv_row(line)])
    return response
