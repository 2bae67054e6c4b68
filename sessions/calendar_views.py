"""The front-desk calendar: the page (FullCalendar, fed by ``/api/v1/appointments/``), the
appointment panel with its actions (check in, confirm, no-show, cancel, move), booking from an
empty slot, and the inbox of what patients did online.

Every view is for the manager and front desk. Fragments are returned to htmx (the panel lives
in an off-canvas beside the calendar, the inbox polls); without htmx the same views render a
page or redirect back to the calendar. A change answered to htmx carries the ``HX-Trigger``
``calendar:changed`` so the page refetches its events.
"""

import json
from datetime import time, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError, ConflictError
from clinic.lib.forms import add_service_error
from clinic.models import Location, Practitioner, Room, WorkingHours
from clinic.permissions import desk_required
from patients.selectors import patient_queryset_for_user
from sessions import day_extras, selectors, services
from sessions.calendar_forms import BookingForm, CancelForm, MoveForm
from sessions.models import AppointmentStatus, AppointmentType

CALENDAR = "treatment_sessions:calendar"
CHANGED = json.dumps({"calendar:changed": True})
# The grid always shows at least these hours, more if someone works earlier or later.
DAY_FROM, DAY_UNTIL = time(7), time(21)
# Where the service names a field the calendar's forms call differently.
BOOKING_FIELDS = {"start": "time", "end": "duration_minutes", "type": "appointment_type"}
MOVE_FIELDS = {"start": "time", "end": "time"}


# -- reads the calendar needs (scheduling set-up, no patient data) ------------------------------


def _active_locations():
    return list(Location.objects.filter(is_active=True).order_by("name"))


def _pick_location(locations, raw):
    """The location asked for, else the first active one (``None`` if there is none)."""
    by_id = {str(location.pk): location for location in locations}
    return by_id.get(str(raw or "")) or (locations[0] if locations else None)


def _location_or_404(raw):
    location = _pick_location(_active_locations(), raw)
    if location is None:
        raise Http404(_("No active location."))
    return location


def _resources(location):
    """Columns of the calendar: practitioners at the location (with their weekly hours shaded
    as business hours) and its rooms. Three queries."""
    practitioners = list(
        Practitioner.objects.filter(locations=location, is_active=True).order_by("display_name")
    )
    hours = list(
        WorkingHours.objects.filter(location=location, practitioner__in=practitioners).order_by(
            "weekday", "starts_at"
        )
    )
    rooms = list(Room.objects.filter(location=location, is_active=True).order_by("name"))
    by_practitioner = {}
    for block in hours:
        by_practitioner.setdefault(block.practitioner_id, []).append(
            {
                # FullCalendar counts days from Sunday (0), the clinic from Monday (0).
                "daysOfWeek": [(block.weekday + 1) % 7],
                "startTime": block.starts_at.strftime("%H:%M"),
                "endTime": block.ends_at.strftime("%H:%M"),
            }
        )
    by_practitioner_resources = [
        {
            "id": f"p{p.pk}",
            "title": str(p),
            "colour": p.colour,
            # No hours at all: the whole column shaded, like a day off.
            "businessHours": by_practitioner.get(p.pk) or {"daysOfWeek": []},
        }
        for p in practitioners
    ]
    by_room = [{"id": f"r{r.pk}", "title": r.name} for r in rooms]
    if AppointmentType.objects.filter(is_active=True, needs_room=False).exists():
        by_room.append({"id": "r0", "title": _("No room")})
    earliest = min([DAY_FROM, *(b.starts_at for b in hours)])
    latest = max([DAY_UNTIL, *(b.ends_at for b in hours)])
    return {
        "practitioner": by_practitioner_resources,
        "room": by_room,
        "slotMinTime": f"{earliest.hour:02d}:00",
        "slotMaxTime": f"{latest.hour + (1 if latest.minute else 0):02d}:00",
    }


def _calendar_url(location=None, day=None, view=None):
    query = {}
    if location is not None:
        query["location"] = location.pk
    if day is not None:
        query["date"] = day.isoformat()
    if view:
        query["view"] = view
    return reverse(CALENDAR) + (f"?{urlencode(query)}" if query else "")


# -- the page ---------------------------------------------------------------------------------


@require_GET
@desk_required
def calendar(request):
    """Day and week views for one location, a column per practitioner or per room."""
    locations = _active_locations()
    location = _pick_location(locations, request.GET.get("location"))
    context = {"locations": locations, "location": location}
    if location is None:
        return render(request, "treatment_sessions/calendar.html", context)
    resources = _resources(location)
    day = _parse_day(request.GET.get("date")) or timezone.localdate(timezone=location.zone)
    mode = "room" if request.GET.get("mode") == "room" else "practitioner"
    view = "day" if request.GET.get("view") == "day" else "week"
    context["calendar_config"] = {
        "location": {"id": location.pk, "name": location.name, "timeZone": location.time_zone},
        "resources": {"practitioner": resources["practitioner"], "room": resources["room"]},
        "slotMinTime": resources["slotMinTime"],
        "slotMaxTime": resources["slotMaxTime"],
        "initialDate": day.isoformat(),
        "initialView": "resourceTimeGridDay" if view == "day" else "resourceTimeGridWeek",
        "mode": mode,
        "urls": {
            "appointments": reverse("api-appointment-list"),
            "appointment": reverse("api-appointment-detail", args=[0]),
            "panel": reverse("treatment_sessions:calendar_appointment", args=[0]),
            "book": reverse("treatment_sessions:calendar_book"),
        },
    }
    context["calendar_strings"] = _strings()
    context["portal_requests"] = selectors.open_portal_requests(request.user)
    return render(request, "treatment_sessions/calendar.html", context)


def _parse_day(raw):
    try:
        return parse_date(raw or "")
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        return None


def _strings():
    """What calendar.js says, translated here."""
    return {
        "session": _("Session %(k)s of %(n)s"),
        "alerts": _("Alerts"),
        "statuses": {value: str(label) for value, label in AppointmentStatus.choices},
        "moved": _("Moved %(patient)s to %(when)s."),
        "notMoved": _("Not moved: %(reason)s"),
        "moveAnyway": _("Move anyway (outside working hours)"),
        "openClash": _("Open the clashing appointment"),
        "loading": _("Loading…"),
        "loadFailed": _(
            "The appointments could not be loaded. Check the connection and reload the page."
        ),
        "failed": _("Something went wrong (%(status)s). Reload the page and try again."),
        "shift": _(
            "%(patient)s, session %(k)s of %(n)s, moves to %(when)s. Move every later session "
            "of the course by the same amount, so the interval is kept?"
        ),
        "book": _("Book an appointment"),
        "appointment": _("Appointment"),
        "noPatients": _("No patient found."),
        "born": _("born"),
        "archived": _("archived"),
        "noRoom": _("No room"),
        "today": _("Today"),
        "day": _("Day"),
        "week": _("Week"),
        "close": _("Close"),
    }


# -- the appointment panel --------------------------------------------------------------------


def _panel_context(request, pk, **extra):
    appointment = selectors.with_alerts([selectors.appointment_get_for_user(request.user, pk)])[0]
    day_extras.attach_extras(request.user, [appointment], day_extras.CALENDAR_PANEL)
    now = timezone.now()
    status = appointment.status
    open_ = appointment.is_open
    context = {
        "appointment": appointment,
        "transitions": list(appointment.transitions.select_related("by").order_by("at", "id")),
        "can": {
            "check_in": open_,
            "confirm": status == AppointmentStatus.BOOKED,
            "no_show": open_ and appointment.starts_at <= now,
            "cancel": open_,
            "move": open_,
        },
        "calendar_url": _calendar_url(
            appointment.location, appointment.local_start.date(), view="day"
        ),
    }
    local = appointment.local_start
    context.setdefault(
        "move_form",
        MoveForm(
            appointment=appointment,
            initial={"date": local.date(), "time": local.time().replace(second=0)},
        ),
    )
    context.setdefault("cancel_form", CancelForm())
    context.update(extra)
    # A refused move or cancel of an appointment that is no longer open (someone else just
    # checked it in, say): its form is not shown, so say why at the top.
    section = extra.get("open_section")
    if section and not context["can"][section] and not context.get("error"):
        form = context[f"{section}_form"]
        context["error"] = next(iter(e for errors in form.errors.values() for e in errors), None)
    return context


def _fragment_status(request, status):
    """htmx swaps only 2xx answers: a refusal goes to it as 200 with the errors shown; a
    plain request gets the real status."""
    return 200 if request.htmx else status


def _render_panel(request, pk, *, status=200, **extra):
    template = (
        "treatment_sessions/calendar/panel.html"
        if request.htmx
        else "treatment_sessions/calendar/panel_page.html"
    )
    return render(
        request,
        template,
        _panel_context(request, pk, **extra),
        status=_fragment_status(request, status),
    )


def _done(request, pk, notice):
    """After a change: the refreshed panel for htmx (and the calendar refetches), else back
    to the calendar on the appointment's day with the notice."""
    if request.htmx:
        response = _render_panel(request, pk, notice=notice)
        response["HX-Trigger"] = CHANGED
        return response
    messages.success(request, notice)
    appointment = selectors.appointment_get_for_user(request.user, pk)
    return redirect(_calendar_url(appointment.location, appointment.local_start.date(), "day"))


@require_GET
@desk_required
def appointment_panel(request, pk):
    """Everything front desk needs about one appointment, with its actions."""
    return _render_panel(request, pk)


TRANSITIONS = {
    "check-in": (services.appointment_check_in, _("%(patient)s is checked in.")),
    "confirm": (services.appointment_confirm, _("Confirmed: %(patient)s will come.")),
    "no-show": (services.appointment_mark_no_show, _("%(patient)s is marked as a no-show.")),
}


@require_POST
@desk_required
def appointment_transition(request, pk, action):
    """Check in, confirm or mark a no-show: one service each; a refusal is shown in the panel."""
    if action not in TRANSITIONS:
        raise Http404
    service, notice = TRANSITIONS[action]
    appointment = selectors.appointment_get_for_user(request.user, pk)
    try:
        service(actor=request.user, appointment=appointment)
    except ApplicationError as exc:
        return _render_panel(request, pk, error=exc.message, status=exc.status_code)
    return _done(request, pk, notice % {"patient": appointment.patient.full_name})


@require_POST
@desk_required
def appointment_cancel(request, pk):
    """Cancel with a reason, by the clinic or because the patient asked."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
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
            notice = _("Cancelled: %(patient)s, %(when)s.") % {
                "patient": appointment.patient.full_name,
                "when": appointment.local_start.strftime("%a %d %b %H:%M"),
            }
            if cancelled.cancelled_late:
                notice += " " + _("This was a late cancellation.")
            return _done(request, pk, notice)
    return _render_panel(request, pk, cancel_form=form, open_section="cancel", status=400)


def _add_error(form, exc, fields):
    """A service's error on the form field it is about (a clash on the time)."""
    field = fields.get(exc.field, exc.field)
    if field not in form.fields and isinstance(exc, ConflictError):
        field = "time"
    form.add_error(field if field in form.fields else None, exc.message)


@require_POST
@desk_required
def appointment_move(request, pk):
    """Move to a new date and time (the length is kept), optionally with every later
    session of the course; the same checks as dragging it on the calendar."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    form = MoveForm(request.POST, appointment=appointment)
    show_override = form.data.get("allow_outside_hours") in ("on", "true", "1")
    status = 400
    if form.is_valid():
        try:
            services.appointment_reschedule(
                actor=request.user,
                appointment=appointment,
                starts_at=form.cleaned_data["starts_at"],
                shift_later=form.cleaned_data.get("shift_later", False),
                allow_outside_hours=form.cleaned_data["allow_outside_hours"],
            )
        except ApplicationError as exc:
            _add_error(form, exc, MOVE_FIELDS)
            # Outside working hours can be overridden by front desk; a clash cannot.
            show_override = show_override or bool(exc.extra.get("outside_hours"))
            status = exc.status_code
        else:
            moved = selectors.appointment_get_for_user(request.user, pk)
            notice = _("Moved %(patient)s to %(when)s.") % {
                "patient": moved.patient.full_name,
                "when": moved.local_start.strftime("%a %d %b %H:%M"),
            }
            return _done(request, pk, notice)
    return _render_panel(
        request,
        pk,
        move_form=form,
        open_section="move",
        show_move_override=show_override,
        status=status,
    )


# -- booking from an empty slot ---------------------------------------------------------------


def _booking_initial(request, location):
    """Prefill from the slot clicked: ``start`` (ISO, read in the location's zone),
    ``resource`` (``p<id>`` or ``r<id>``), ``minutes`` and ``patient``."""
    initial = {}
    start = parse_datetime(request.GET.get("start", "") or "")
    if start is not None:
        if timezone.is_aware(start):
            start = timezone.localtime(start, location.zone)
        initial.update(date=start.date(), time=start.time().replace(second=0, microsecond=0))
    resource = request.GET.get("resource", "")
    if resource[:1] == "p" and resource[1:].isdigit():
        initial["practitioner"] = int(resource[1:])
    elif resource[:1] == "r" and resource[1:].isdigit() and resource != "r0":
        initial["room"] = int(resource[1:])
    minutes = request.GET.get("minutes", "")
    if minutes.isdigit():
        initial["duration_minutes"] = int(minutes)
    patient = request.GET.get("patient", "")
    if patient.isdigit():
        initial["patient"] = int(patient)
    return initial


def _book(request, form):
    data = form.cleaned_data
    length = data["duration_minutes"]
    return services.appointment_book(
        actor=request.user,
        patient=data["patient"],
        practitioner=data["practitioner"],
        location=form.location,
        appointment_type=data["appointment_type"],
        room=data["room"],
        starts_at=data["starts_at"],
        ends_at=data["starts_at"] + timedelta(minutes=length) if length else None,
        notes=data["notes"],
        allow_outside_hours=data["allow_outside_hours"],
    )


@require_http_methods(["GET", "POST"])
@desk_required
def appointment_new(request):
    """Book one appointment at the slot clicked on the calendar. A time outside working
    hours offers the override; a clash is named on the time field."""
    location = _location_or_404(request.POST.get("location") or request.GET.get("location"))
    patients = patient_queryset_for_user(request.user)
    if request.method == "POST":
        form = BookingForm(request.POST, location=location, patients=patients)
    else:
        form = BookingForm(
            initial=_booking_initial(request, location), location=location, patients=patients
        )
        if len(form.fields["practitioner"].queryset) == 1:
            form.initial.setdefault("practitioner", form.fields["practitioner"].queryset[0].pk)
    show_override = form.data.get("allow_outside_hours") in ("on", "true", "1")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                appointment = _book(request, form)
            except ApplicationError as exc:
                _add_error(form, exc, BOOKING_FIELDS)
                show_override = show_override or bool(exc.extra.get("outside_hours"))
                status = exc.status_code
            else:
                notice = _("Booked: %(patient)s, %(when)s.") % {
                    "patient": appointment.patient.full_name,
                    "when": appointment.local_start.strftime("%a %d %b %H:%M"),
                }
                return _done(request, appointment.pk, notice)
    context = {
        "form": form,
        "location": location,
        "show_override": show_override,
        "chosen_patient": _chosen_patient(form, patients),
        "patients_api": reverse("api-patient-list"),
    }
    template = (
        "treatment_sessions/calendar/book_form.html"
        if request.htmx
        else "treatment_sessions/calendar/book.html"
    )
    return render(request, template, context, status=_fragment_status(request, status))


def _chosen_patient(form, patients):
    """The patient already picked (kept when the form comes back with an error)."""
    raw = form.data.get("patient") if form.is_bound else form.initial.get("patient")
    if not str(raw or "").isdigit():
        return None
    return patients.filter(pk=int(raw)).first()


# -- the inbox --------------------------------------------------------------------------------


def _render_inbox(request):
    return render(
        request,
        "treatment_sessions/calendar/inbox.html",
        {"portal_requests": selectors.open_portal_requests(request.user)},
    )


@require_GET
@desk_required
def inbox(request):
    """What patients did online and nobody has dealt with yet (polled by the calendar)."""
    return _render_inbox(request)


@require_POST
@desk_required
def inbox_done(request, pk):
    """Front desk has dealt with it: it leaves the inbox."""
    portal_request = selectors.portal_request_get_for_user(request.user, pk)
    services.portal_request_handle(actor=request.user, portal_request=portal_request)
    if request.htmx:
        return _render_inbox(request)
    return redirect(CALENDAR)
