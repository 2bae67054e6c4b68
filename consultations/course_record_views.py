"""The clinical side of a course (every session with what was done, photos and the trend of
the assessment values), the "review before next session" flag, the product lots and the lot
recall.

Who: the course view is for practitioners and managers (404 for anyone else, like every
clinical read); a practitioner clears the review flag; managers and practitioners keep the
lots (only managers change the stock); only managers recall a lot.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import audit
from clinic.areas import BodyArea
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import Practitioner
from clinic.permissions import clinician_required, manager_required, role_required
from clinic.roles import Role
from sessions.models import AppointmentStatus
from sessions.selectors import course_get_for_user
from sessions.services import course_clear_review

from .lot_forms import LotForm, RecallSearchForm
from .lot_selectors import can_change_stock, lots_with_number, products_with_lots
from .models import ProductLot
from .session_selectors import course_clinical_view, lot_recall
from .session_services import lot_add, lot_set_in_stock

# --- The course view ---------------------------------------------------------------------------

NOT_COUNTED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


@dataclass
class TrendTable:
    """One chart's values as a table (for screen readers and for reading exact values): a
    column per series, a row per date, ``None`` where a series has no value that day."""

    title: str
    unit: str
    columns: list
    rows: list = field(default_factory=list)  # [(date, [value or None, ...])]


def _trend_table(title, unit, series):
    days = sorted({day for s in series for day, _value in s.points})
    by_series = [dict(s.points) for s in series]
    rows = [(date.fromisoformat(day), [values.get(day) for values in by_series]) for day in days]
    return TrendTable(title=title, unit=unit, columns=[s.label for s in series], rows=rows)


def _series_json(series):
    return {
        "key": series.key,
        "label": str(series.label),
        "unit": series.unit,
        "points": [[day, value] for day, value in series.points],
    }


def _chart_data(trends):
    """What ``course_chart.js`` draws: three charts of series of [ISO date, value]."""
    weight = [trends["weight"]] if trends["weight"] else []
    return {
        "grades": [_series_json(s) for s in trends["grades"]],
        "circumferences": [_series_json(s) for s in trends["circumferences"]],
        "weight": [_series_json(s) for s in weight],
    }


def _trend_tables(trends):
    tables = []
    if trends["grades"]:
        tables.append(_trend_table(_("Grade per area"), _("grade 0-3"), trends["grades"]))
    if trends["circumferences"]:
        tables.append(_trend_table(_("Circumference per area"), "cm", trends["circumferences"]))
    if trends["weight"]:
        tables.append(_trend_table(_("Weight"), "kg", [trends["weight"]]))
    return tables


def _attach_practitioners(course, sessions):
    """Each appointment's practitioner: the course's own (already loaded) or, for sessions a
    colleague took, one query for all of them."""
    others = {
        s.appointment.practitioner_id
        for s in sessions
        if s.appointment.practitioner_id != course.practitioner_id
    }
    found = Practitioner.objects.in_bulk(others) if others else {}
    found[course.practitioner_id] = course.practitioner
    for s in sessions:
        s.appointment.practitioner = found[s.appointment.practitioner_id]


def _split_photos(sessions):
    for s in sessions:
        s.before = [p for p in s.photos if p.moment == "before"]
        s.after = [p for p in s.photos if p.moment != "before"]
        s.counted = s.appointment.status not in NOT_COUNTED


def _area_labels(course, plan):
    if plan is None:
        return course.area_labels()
    return [BodyArea(a).label if a in BodyArea.values else a for a in plan.areas]


@require_GET
def course_clinical(request, pk):
    """A course's clinical record: each session (k of N, date at the clinic, status, who,
    areas with product, lot, volume and points, side effects, adverse events, tolerance,
    photos), the progress and the chart of the assessment values. A fixed number of queries
    whatever the number of sessions; 404 for anyone but practitioners and managers."""
    view = course_clinical_view(request.user, pk)
    course, sessions = view["course"], view["sessions"]
    _attach_practitioners(course, sessions)
    _split_photos(sessions)
    return render(
        request,
        "consultations/course_record.html",
        {
            **view,
            "patient": course.patient,
            "area_labels": _area_labels(course, view["plan"]),
            "chart_data": _chart_data(view["trends"]),
            "trend_tables": _trend_tables(view["trends"]),
            "has_trends": bool(
                view["trends"]["grades"]
                or view["trends"]["circumferences"]
                or view["trends"]["weight"]
            ),
            "can_clear_review": request.user.role == Role.PRACTITIONER,
        },
    )


# --- Review before next session ----------------------------------------------------------------


def _back(request, default):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@role_required(Role.PRACTITIONER)
@require_POST
def course_review_clear(request, pk):
    """A practitioner has reviewed the course after a severe adverse event: the flag goes
    and the next session may go ahead."""
    course = course_get_for_user(request.user, pk)
    try:
        course_clear_review(
            actor=request.user, course=course, note=request.POST.get("note", "")[:300]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Marked as reviewed: the next session may go ahead."))
    return _back(request, reverse("treatment_sessions:course_detail", args=[course.pk]))


# --- Product lots ------------------------------------------------------------------------------


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


# --- Lot recall --------------------------------------------------------------------------------


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
