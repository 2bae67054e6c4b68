"""The patient's schedule in the portal: upcoming and past appointments, course progress,
cancel within the clinic's policy, ask to move, confirm, and calendar files and feed.

Every page is for the logged-in patient (``portal_required``) and reaches an appointment only
through ``appointment_get_for_user``, so another patient's id is a 404. The feed is the one
public URL: its secret token is the credential.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from clinic import audit
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import ClinicSettings
from clinic.permissions import portal_required
from patients.selectors import patient_for_portal_user
from patients.views import portal_intake_status
from sessions import ical, selectors, services
from sessions.models import PortalRequest
from sessions.portal_forms import PortalCancelForm, PortalMoveForm

SCHEDULE = "treatment_sessions:my_schedule"


def _when(appointment):
    """'Tuesday 1 December, 12:30 p.m.' in the location's time zone."""
    start = appointment.local_start
    return f"{formats.date_format(start, 'l j F')}, {formats.time_format(start)}"


def _late_to_cancel(appointment, clinic, now):
    return appointment.starts_at - now < timedelta(hours=clinic.cancellation_window_hours)


def _pending_move_ids(patient):
    """Ids of the patient's appointments with a request to move that front desk has not
    handled yet (one query), so the page says so instead of offering to ask again."""
    return set(
        PortalRequest.objects.filter(
            patient=patient, kind=PortalRequest.Kind.RESCHEDULE, handled_at__isnull=True
        ).values_list("appointment_id", flat=True)
    )


def _feed_urls(request, feed):
    url = request.build_absolute_uri(reverse("treatment_sessions:calendar_feed", args=[feed.token]))
    return url, "webcal://" + url.split("://", 1)[1]


@require_GET
@portal_required
def my_schedule(request):
    """The patient's landing page in the portal."""
    context = {"intake": portal_intake_status(request)}
    try:
        schedule = selectors.portal_schedule(request.user)
    except Http404:
        # A portal login not (or no longer) linked to a record: the page says to call.
        return render(request, "treatment_sessions/my_schedule.html", context)
    clinic = ClinicSettings.load()
    now = timezone.now()
    moves = _pending_move_ids(schedule.patient)
    for appointment in schedule.upcoming:
        appointment.late_to_cancel = _late_to_cancel(appointment, clinic, now)
        appointment.move_requested = appointment.pk in moves
    feed_url, webcal_url = _feed_urls(request, services.calendar_feed_for(schedule.patient))
    context.update(schedule=schedule, clinic=clinic, feed_url=feed_url, feed_webcal_url=webcal_url)
    return render(request, "treatment_sessions/my_schedule.html", context)


def _closed_message(appointment, now):
    if not appointment.is_open or appointment.starts_at <= now:
        return _("This appointment can no longer be changed online.")
    return None


@require_http_methods(["GET", "POST"])
@portal_required
def portal_cancel(request, pk):
    """Cancel online, outside the clinic's window; inside it the patient is asked to call."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    clinic = ClinicSettings.load()
    form = PortalCancelForm(request.POST if request.method == "POST" else None)
    refusal = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.portal_appointment_cancel(
                    actor=request.user,
                    patient=patient_for_portal_user(request.user),
                    appointment=appointment,
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                if exc.field in form.fields:
                    add_service_error(form, exc)
                else:
                    refusal = exc.message
            else:
                messages.success(
                    request,
                    _("Your appointment on %(when)s is cancelled. The clinic has been told.")
                    % {"when": _when(appointment)},
                )
                return redirect(SCHEDULE)
    else:
        now = timezone.now()
        refusal = _closed_message(appointment, now)
        if refusal is None and _late_to_cancel(appointment, clinic, now):
            refusal = services.late_cancellation_message(clinic)
    return render(
        request,
        "treatment_sessions/portal/cancel.html",
        {"appointment": appointment, "form": form, "refusal": refusal, "clinic": clinic},
        status=409 if refusal and request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@portal_required
def portal_move(request, pk):
    """Ask the clinic to move an appointment; front desk sees it at once and calls back."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    form = PortalMoveForm(request.POST if request.method == "POST" else None)
    refusal = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.portal_reschedule_request(
                    actor=request.user,
                    patient=patient_for_portal_user(request.user),
                    appointment=appointment,
                    message=form.cleaned_data["message"],
                )
            except ApplicationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "We have your request to move your appointment (%(when)s). The clinic "
                        "will contact you to agree a new time; until then it stays booked."
                    )
                    % {"when": _when(appointment)},
                )
                return redirect(SCHEDULE)
    else:
        refusal = _closed_message(appointment, timezone.now())
    return render(
        request,
        "treatment_sessions/portal/move.html",
        {"appointment": appointment, "form": form, "refusal": refusal},
    )


@require_POST
@portal_required
def portal_confirm(request, pk):
    """The patient confirms they will come."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    try:
        services.portal_appointment_confirm(
            actor=request.user,
            patient=patient_for_portal_user(request.user),
            appointment=appointment,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Thank you: your appointment on %(when)s is confirmed.")
            % {"when": _when(appointment)},
        )
    return redirect(SCHEDULE)


@require_GET
@portal_required
def portal_ics(request, pk):
    """One appointment as an ``.ics`` file to add to any calendar."""
    appointment = selectors.appointment_get_for_user(request.user, pk)
    response = HttpResponse(
        ical.appointment_calendar(appointment), content_type="text/calendar; charset=utf-8"
    )
    filename = f"appointment-{appointment.local_start:%Y-%m-%d-%H%M}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
@portal_required
def portal_feed_revoke(request):
    """Replace the private feed address (GET asks first); the old one stops working."""
    patient = patient_for_portal_user(request.user)
    if request.method == "POST":
        services.calendar_feed_revoke(actor=request.user, patient=patient)
        messages.success(
            request,
            _(
                "Your calendar has a new address; the old one no longer works. Add the new "
                "one to your calendar app."
            ),
        )
        return redirect(reverse(SCHEDULE) + "#calendar-feed")
    return render(request, "treatment_sessions/portal/feed_revoke.html")


@login_not_required
@require_safe
def calendar_feed(request, token):
    """Public: the patient's feed for calendar apps, which cannot log in. The token in the URL
    is the credential; an unknown or revoked one is a 404. Every fetch is audited."""
    feed = ical.feed_get_by_token(token)
    appointments = ical.feed_appointments(feed)
    audit.record(
        actor=None,
        action="calendar_feed.fetched",
        target=feed,
        patient_id=feed.patient_id,
        detail={"events": len(appointments)},
    )
    name = _("%(clinic)s appointments") % {"clinic": ClinicSettings.load().name}
    response = HttpResponse(
        ical.feed_calendar(appointments, name=name), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    # Patient data behind a secret URL: no shared caches, no search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
