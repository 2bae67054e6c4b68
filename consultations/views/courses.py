"""The clinical side of a course (every session with what was done, photos and the trend of
the assessment values) and the "review before next session" flag.

Who: the course view is for practitioners and managers (404 for anyone else, like every
clinical read); a practitioner clears the review flag."""

from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinic.areas import BodyArea
from clinic.errors import ApplicationError
from clinic.models import Practitioner
from clinic.permissions import role_required
from clinic.roles import Role
from consultations.selectors.courses import course_clinical_view
from sessions.models import AppointmentStatus
from sessions.selectors import course_get_for_user
from sessions.services import course_clear_review

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


# --- Lot recall --------------------------------------------------------------------------------
