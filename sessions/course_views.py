"""Front desk's course pages: book a whole course (propose the dates, adjust them, book all or
none), follow a course's progress, move a session (and every later one), cancel one and add
a replacement at the end, and the list of active courses with those who fell off the cadence.

Managers and front desk act; practitioners may read a course. Every course is reached through
``course_get_for_user``; every write is one service call.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.areas import BodyArea
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.permissions import role_required
from clinic.roles import DESK_ROLES, STAFF_ROLES, Role
from patients.selectors import patient_get_for_user, patient_queryset_for_user, patient_search
from sessions import selectors, services
from sessions.course_forms import (
    CUSTOM,
    FORTNIGHTLY,
    WEEKLY,
    AddSessionForm,
    CancelForm,
    CourseSetupForm,
    MoveForm,
    SessionRowFormSet,
)
from sessions.models import AppointmentType, Course
from sessions.services import local_start

# A practitioner may book the course they just planned at the end of the consultation.
ROWS_PREFIX = "s"
PATIENT_RESULTS = 20


def _when(moment):
    """'Mon 14 Dec 2026, 12:30' for a local datetime."""
    return f"{formats.date_format(moment, 'D j M Y')}, {formats.time_format(moment, 'H:i')}"


def _course_url(course, anchor=""):
    return reverse("treatment_sessions:course_detail", args=[course.pk]) + anchor


# -- book a course ----------------------------------------------------------------------------


@dataclass
class Row:
    """One session on the "Book course" table, as front desk sees it."""

    number: int
    form: object
    start: datetime | None = None
    problem: str = ""
    alternative: datetime | None = None
    moved_from: datetime | None = None
    reason: str = ""

    @property
    def moved(self):
        if self.moved_from is None or self.start is None:
            return False
        return self.start.replace(tzinfo=None) != self.moved_from


def _initial(patient, params=None):
    """Step 1's starting values; a signed consultation's plan passes its own (``type``,
    ``practitioner``, ``sessions``, ``interval_days``, ``areas``) in the query string."""
    choices = selectors.booking_choices()
    types = choices["types"]
    treatment = [t for t in types if t.kind == AppointmentType.Kind.TREATMENT]
    initial = {
        "patient": patient.pk,
        "sessions": 10,
        "first_day": timezone.localdate() + timedelta(days=1),
        "at_time": "12:30",
    }
    if treatment or types:
        initial["appointment_type"] = (treatment or types)[0].pk
    for name, key in (("practitioner", "practitioners"), ("location", "locations")):
        if len(choices[key]) == 1:
            initial[name] = choices[key][0].pk
    return initial | _initial_from_plan(params or {})


def _initial_from_plan(params):
    """Pre-fill from the query string; anything malformed is ignored (the form validates)."""
    initial = {}
    for param, field in (("type", "appointment_type"), ("practitioner", "practitioner")):
        if params.get(param, "").isdigit():
            initial[field] = int(params[param])
    if params.get("sessions", "").isdigit():
        initial["sessions"] = int(params["sessions"])
    interval = params.get("interval_days", "")
    if interval.isdigit():
        days = int(interval)
        named = {7: WEEKLY, 14: FORTNIGHTLY}
        initial["interval"] = named.get(days, CUSTOM)
        if days not in named:
            initial["custom_days"] = days
    areas = [a for a in params.getlist("areas") if a in BodyArea.values] if params else []
    if areas:
        initial["areas"] = areas
    return initial


def _propose_kwargs(form):
    data = form.cleaned_data
    return {
        "patient": data["patient"],
        "practitioner": data["practitioner"],
        "location": data["location"],
        "appointment_type": data["appointment_type"],
        "room": data["room"],
        "interval_days": form.interval_days,
        "allow_outside_hours": data["allow_outside_hours"],
    }


def _rows_from_proposals(proposals, zone):
    """The table's rows, each pre-filled with its proposal, or with the nearest free time
    when the proposal clashed (remembering where it was and why it moved)."""
    rows = []
    for proposal in proposals:
        wanted = proposal.start
        chosen = proposal.alternative or proposal.start
        initial = {}
        if chosen is not None:
            local = timezone.localtime(chosen, zone)
            initial = {"day": local.date(), "at": local.strftime("%H:%M")}
        if proposal.problem and proposal.alternative is not None and wanted is not None:
            wanted_local = timezone.localtime(wanted, zone).replace(tzinfo=None)
            initial["proposed"] = wanted_local.isoformat(timespec="minutes")
            initial["reason"] = proposal.problem[:300]
        rows.append(initial)
    formset = SessionRowFormSet(initial=rows, prefix=ROWS_PREFIX)
    result = []
    for proposal, row_form in zip(proposals, formset.forms, strict=True):
        row = Row(number=proposal.number, form=row_form)
        row.reason = row_form.initial.get("reason", "")
        row.moved_from = _naive(row_form.initial.get("proposed"))
        row.start = proposal.alternative or proposal.start
        if proposal.problem and proposal.alternative is None:
            row.problem = proposal.problem + " " + _("No free time nearby: choose another day.")
        result.append(row)
    return formset, result


def _naive(text):
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _rows_from_post(formset, zone):
    """Front desk's rows as typed, each converted strictly to an instant in the location's
    zone (a time that does not exist or happens twice on a daylight-saving day is refused)."""
    formset.is_valid()
    rows = []
    for number, row_form in enumerate(formset.forms, start=1):
        row = Row(number=number, form=row_form)
        if row_form.is_valid():
            data = row_form.cleaned_data
            row.moved_from = _naive(data.get("proposed"))
            row.reason = data.get("reason", "")
            try:
                row.start = local_start(data["day"], data["at"], zone, field="day")
            except ApplicationError as exc:
                row.problem = exc.message
        rows.append(row)
    return rows


def _check_rows(rows, form):
    """Check every row again as it stands: clashes, hours, the past, and sessions of this
    course on top of each other. Each problem comes with the nearest free time."""
    kwargs = _propose_kwargs(form)
    zone = kwargs["location"].zone
    for row in rows:
        if row.start is None:
            continue
        local = timezone.localtime(row.start, zone)
        try:
            [proposal] = services.course_propose(
                **kwargs, sessions=1, first_day=local.date(), at_time=local.time()
            )
        except ApplicationError as exc:
            row.problem = exc.message
            continue
        row.problem = proposal.problem
        row.alternative = proposal.alternative
    _flag_overlaps(rows, kwargs["appointment_type"])


def _flag_overlaps(rows, appointment_type):
    held = timedelta(
        minutes=appointment_type.duration_minutes + appointment_type.buffer_after_minutes
    )
    placed = sorted((r for r in rows if r.start is not None), key=lambda r: r.start)
    for before, after in zip(placed, placed[1:], strict=False):
        if after.start < before.start + held and not after.problem:
            after.problem = _("Overlaps session %(n)s of this course.") % {"n": before.number}
            after.alternative = None


def _book(request, form, rows):
    """Book every row, all or nothing. Returns the course, or ``None`` with the error put on
    the row it names (or on the form)."""
    data = form.cleaned_data
    # The service books in time order and names a session by its place in that order.
    order = sorted(range(len(rows)), key=lambda i: rows[i].start)
    try:
        return services.course_book(
            actor=request.user,
            patient=data["patient"],
            practitioner=data["practitioner"],
            location=data["location"],
            appointment_type=data["appointment_type"],
            room=data["room"],
            starts=[rows[i].start for i in order],
            interval_days=form.interval_days,
            areas=data["areas"],
            notes=data["notes"],
            allow_outside_hours=data["allow_outside_hours"],
        )
    except ApplicationError as exc:
        _check_rows(rows, form)
        match = re.fullmatch(r"starts\.(\d+)", exc.field or "")
        if match and int(match.group(1)) < len(order):
            row = rows[order[int(match.group(1))]]
            row.problem = exc.message
        else:
            # Step 2 shows the plan's fields hidden: the message goes above the table.
            form.add_error(None, exc.message)
        return None


def _pick_patient(request):
    query = request.GET.get("q", "").strip()
    results = []
    if query:
        results = list(patient_search(request.user, query).filter(is_active=True)[:PATIENT_RESULTS])
    return render(
        request,
        "treatment_sessions/course_pick_patient.html",
        {"query": query, "results": results, "limit": PATIENT_RESULTS},
    )


def _patient_or_404(request, pk):
    try:
        return patient_get_for_user(request.user, int(pk))
    except (TypeError, ValueError):
        raise Http404 from None


@role_required(*DESK_ROLES, Role.PRACTITIONER)
@require_http_methods(["GET", "POST"])
def course_new(request):
    """Book course: step 1 the plan, step 2 the proposed dates to adjust, then book them all
    in one transaction."""
    patients = patient_queryset_for_user(request.user).filter(is_active=True)
    if request.method == "GET":
        if not request.GET.get("patient"):
            return _pick_patient(request)
        patient = _patient_or_404(request, request.GET["patient"])
        if not patient.is_active:
            messages.error(request, _("This patient's record is archived."))
            return _pick_patient(request)
        form = CourseSetupForm(initial=_initial(patient, request.GET), patients=patients)
        return _new_page(request, form, patient=patient)

    form = CourseSetupForm(request.POST, patients=patients)
    action = request.POST.get("action", "propose")
    if not form.is_valid():
        if "patient" in form.errors:
            raise Http404
        return _new_page(request, form, status=400)
    if action == "edit":
        return _new_page(request, form)
    zone = form.cleaned_data["location"].zone
    formset = SessionRowFormSet(request.POST, prefix=ROWS_PREFIX)
    if action == "propose" or not formset.is_bound or formset.total_form_count() == 0:
        return _propose(request, form)
    rows = _rows_from_post(formset, zone)
    if action == "book" and formset.is_valid() and all(r.start for r in rows):
        course = _book(request, form, rows)
        if course is not None:
            messages.success(
                request,
                ngettext(
                    "%(n)s session booked for %(patient)s.",
                    "All %(n)s sessions booked for %(patient)s.",
                    len(rows),
                )
                % {"n": len(rows), "patient": course.patient.full_name},
            )
            return redirect(_course_url(course))
        return _new_page(request, form, formset=formset, rows=rows, status=400, failed=True)
    _check_rows(rows, form)
    failed = action == "book"
    return _new_page(
        request, form, formset=formset, rows=rows, status=400 if failed else 200, failed=failed
    )


def _propose(request, form):
    data = form.cleaned_data
    try:
        proposals = services.course_propose(
            **_propose_kwargs(form),
            sessions=data["sessions"],
            first_day=data["first_day"],
            weekday=data["weekday"],
            at_time=data["at_time"],
        )
    except ApplicationError as exc:
        add_service_error(form, exc)
        return _new_page(request, form, status=400)
    formset, rows = _rows_from_proposals(proposals, data["location"].zone)
    return _new_page(request, form, formset=formset, rows=rows)


def _new_page(request, form, *, patient=None, formset=None, rows=None, status=200, failed=False):
    rows = rows or []
    areas = form.cleaned_data.get("areas", []) if form.is_bound else []
    context = {
        "area_labels": [BodyArea(a).label for a in areas],
        "checked": form.is_bound and form.data.get("action") in ("check", "book"),
        "form": form,
        "patient": patient or form.cleaned_data["patient"],
        "formset": formset,
        "rows": rows,
        "failed": failed,
        "problems": sum(bool(r.problem or r.form.errors) for r in rows),
        "moved": sum(r.moved for r in rows),
    }
    if rows:
        context["location"] = form.cleaned_data["location"]
        context["interval_days"] = form.interval_days
    return render(request, "treatment_sessions/course_new.html", context, status=status)


# -- a course ---------------------------------------------------------------------------------


def _detail_page(request, course, *, add_form=None, status=200):
    appointments = list(course.appointments.all())
    progress = selectors.course_progress(course, appointments)
    can_act = selectors.can_book(request.user)
    replacement = None
    if can_act and course.status == Course.Status.ACTIVE and progress.unbooked:
        replacement = services.course_replacement_proposal(course=course)
        if add_form is None:
            chosen = replacement.alternative or replacement.start if replacement else None
            initial = {}
            if chosen is not None:
                local = timezone.localtime(chosen, course.location.zone)
                initial = {"day": local.date(), "at": local.strftime("%H:%M")}
            add_form = AddSessionForm(initial=initial)
    return render(
        request,
        "treatment_sessions/course_detail.html",
        {
            "course": course,
            "progress": progress,
            "appointments": appointments,
            "can_act": can_act,
            "replacement": replacement,
            "add_form": add_form,
        },
        status=status,
    )


@role_required(*STAFF_ROLES)
@require_GET
def course_detail(request, pk):
    """A course: progress, cadence warnings and its sessions; front desk moves and cancels."""
    return _detail_page(request, selectors.course_get_for_user(request.user, pk))


def _course_session(request, pk, appointment_pk):
    course = selectors.course_get_for_user(request.user, pk)
    for appointment in course.appointments.all():
        if appointment.pk == appointment_pk:
            appointment.course = course
            return course, appointment
    raise Http404


def _closed(request, course, appointment):
    messages.error(
        request,
        _("Session %(n)s is %(status)s: it can no longer be moved or cancelled.")
        % {"n": appointment.session_number, "status": appointment.get_status_display().lower()},
    )
    return redirect(_course_url(course))


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def course_session_move(request, pk, appointment_pk):
    """Move a session: preview it (with every later session shifted by the same amount and
    any clash shown), then move only this one or all of them, all or nothing."""
    course, appointment = _course_session(request, pk, appointment_pk)
    if not appointment.is_open:
        return _closed(request, course, appointment)
    local = appointment.local_start
    form = MoveForm(
        request.POST or None, initial={"day": local.date(), "at": local.strftime("%H:%M")}
    )
    moves, previewed, stale = None, "", False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            start = local_start(data["day"], data["at"], course.location.zone, field="day")
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            action = request.POST.get("action")
            previewed = start.isoformat()
            # Apply only what the preview on screen was made for.
            stale = action in ("only", "all") and request.POST.get("previewed") != previewed
            if action in ("only", "all") and not stale:
                try:
                    services.appointment_reschedule(
                        actor=request.user,
                        appointment=appointment,
                        starts_at=start,
                        shift_later=action == "all",
                        allow_outside_hours=data["allow_outside_hours"],
                    )
                except ApplicationError as exc:
                    add_service_error(form, exc)
                else:
                    messages.success(request, _moved_message(appointment, start, action))
                    return redirect(_course_url(course))
            moves = services.reschedule_plan(
                appointment=appointment,
                starts_at=start,
                shift_later=True,
                allow_outside_hours=data["allow_outside_hours"],
            )
    zone = course.location.zone
    for move in moves or []:
        move.local_before = timezone.localtime(move.appointment.starts_at, zone)
        move.local_after = timezone.localtime(move.start, zone)
    return render(
        request,
        "treatment_sessions/course_move.html",
        {
            "course": course,
            "appointment": appointment,
            "form": form,
            "moves": moves,
            "later": (moves or [])[1:],
            "first_problem": bool(moves and moves[0].problem),
            "later_problem": any(m.problem for m in (moves or [])[1:]),
            "previewed": previewed,
            "stale": stale,
        },
        status=400 if form.errors else 200,
    )


def _moved_message(appointment, start, action):
    when = _when(timezone.localtime(start, appointment.location.zone))
    if action == "all":
        return _("Session %(n)s moved to %(when)s, and every later session with it.") % {
            "n": appointment.session_number,
            "when": when,
        }
    return _("Session %(n)s moved to %(when)s.") % {"n": appointment.session_number, "when": when}


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def course_session_cancel(request, pk, appointment_pk):
    """Cancel a session (by the patient or the clinic, with the reason); the course page then
    offers a replacement at the end."""
    course, appointment = _course_session(request, pk, appointment_pk)
    if not appointment.is_open:
        return _closed(request, course, appointment)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.appointment_cancel(
                actor=request.user,
                appointment=appointment,
                by_patient=form.cleaned_data["by_patient"],
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            text = _("Session %(n)s on %(when)s is cancelled.") % {
                "n": appointment.session_number,
                "when": _when(appointment.local_start),
            }
            if getattr(cancelled, "cancelled_late", False):
                text += " " + _("It was a late cancellation.")
            messages.success(request, text)
            return redirect(_course_url(course, "#replacement"))
    return render(
        request,
        "treatment_sessions/course_cancel.html",
        {"course": course, "appointment": appointment, "form": form},
        status=400 if form.errors else 200,
    )


@role_required(*DESK_ROLES)
@require_POST
def course_session_add(request, pk):
    """Add a replacement session at the end of the course."""
    course = selectors.course_get_for_user(request.user, pk)
    form = AddSessionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            start = local_start(data["day"], data["at"], course.location.zone, field="day")
            added = services.course_add_session(actor=request.user, course=course, starts_at=start)
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Session %(n)s added on %(when)s.")
                % {"n": added.session_number, "when": _when(added.local_start)},
            )
            return redirect(_course_url(course))
    return _detail_page(request, course, add_form=form, status=400)


# -- the list ---------------------------------------------------------------------------------


@role_required(*DESK_ROLES)
@require_GET
def course_list(request):
    """Active courses: first those whose patient fell off the cadence, then all of them."""
    attention = selectors.courses_needing_attention(request.user)
    active = selectors.courses_with_progress(
        selectors.course_queryset_for_user(request.user).filter(status=Course.Status.ACTIVE)
    )
    return render(
        request,
        "treatment_sessions/course_list.html",
        {"attention": attention, "active": active},
    )
