"""iCalendar files of a patient's appointments: one ``.ics`` per appointment and the private
feed a calendar app subscribes to. Built with the ``icalendar`` library.

What goes in an event is deliberately little (type, place in the course, location, times):
the feed is reached by a secret URL without logging in, and a calendar app may sync it to
other devices and services.
"""

from datetime import UTC, timedelta

from django.http import Http404
from django.utils import timezone
from icalendar import Calendar, Event, vDuration

from sessions.models import Appointment, AppointmentStatus, CalendarFeed

PRODID = "-//Mesoclinic//Patient schedule//EN"
UID_DOMAIN = "mesoclinic"
# How far back the feed reaches: enough for the patient to look up a recent visit.
FEED_PAST_DAYS = 90
FEED_REFRESH = timedelta(hours=1)


def appointment_uid(appointment):
    """Stable per appointment, so a calendar app updates the event rather than duplicating it."""
    return f"appointment-{appointment.pk}@{UID_DOMAIN}"


def appointment_summary(appointment):
    summary = appointment.appointment_type.name
    if appointment.course_id and appointment.session_number:
        summary += f" (session {appointment.session_number} of "
        summary += f"{appointment.course.planned_sessions})"
    return summary


def _location_text(location):
    address = ", ".join(line.strip() for line in location.address.splitlines() if line.strip())
    return f"{location.name}, {address}" if address else location.name


def appointment_event(appointment, *, detailed=False):
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", appointment.updated_at.astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("summary", appointment_summary(appointment))
    event.add("location", _location_text(appointment.location))
    event.add("status", "CONFIRMED" if appointment.status != "booked" else "TENTATIVE")
    if detailed:
        # Only in the file the logged-in patient downloads, not in the secret-URL feed.
        event.add("description", f"With {appointment.practitioner}")
    return event


def _calendar():
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def appointment_calendar(appointment):
    """The ``.ics`` file of one appointment (bytes)."""
    # No calendar name: some apps would make a new calendar for the one event.
    calendar = _calendar()
    calendar.add_component(appointment_event(appointment, detailed=True))
    return calendar.to_ical()


def reminder_calendar(appointment, *, summary):
    """The ``.ics`` attached to a reminder email (bytes): the same event as the patient's own
    file (same UID, so a calendar app updates it when the appointment moves) but titled only
    with ``summary`` (the clinic's name): an email can be read by others, so no type of
    treatment and no practitioner."""
    event = appointment_event(appointment)
    event.pop("summary")
    event.add("summary", summary)
    calendar = _calendar()
    calendar.add_component(event)
    return calendar.to_ical()


def feed_calendar(appointments, *, name):
    """The feed (bytes): one event per appointment."""
    calendar = _calendar()
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(FEED_REFRESH))
    for appointment in appointments:
        calendar.add_component(appointment_event(appointment))
    return calendar.to_ical()


def feed_get_by_token(token):
    """The feed for a secret token, else 404 (unknown, revoked, or the record archived).
    Public: the token is the only credential, so nothing is said about why it failed."""
    try:
        return CalendarFeed.objects.select_related("patient").get(
            token=token, patient__is_active=True
        )
    except CalendarFeed.DoesNotExist:
        raise Http404 from None


def feed_appointments(feed, *, now=None):
    """What the feed shows: the patient's appointments from the last 90 days on, except the
    cancelled ones. One query."""
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            patient_id=feed.patient_id, starts_at__gte=now - timedelta(days=FEED_PAST_DAYS)
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("appointment_type", "location", "course")
        .order_by("starts_at", "id")
    )
