"""The patient's schedule in the portal: what they see, what they may do online, and the
calendar files and feed."""

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from clinic.models import AuditEvent, ClinicSettings
from sessions import selectors, services
from sessions.models import CalendarFeed, PortalRequest
from tests.factories import PatientFactory
from tests.fixtures.scheduling import book, book_weekly_course, weekday_at

pytestmark = pytest.mark.django_db

CLINIC_PHONE = "+1 212 555 0100"


@pytest.fixture(autouse=True)
def clinic_phone(db):
    settings = ClinicSettings.load()
    settings.phone = CLINIC_PHONE
    settings.save()
    return settings


@pytest.fixture
def patient(patient_user):
    return PatientFactory(portal_user=patient_user, legal_first_name="Penelope")


@pytest.fixture
def course(clinic_setup, front_desk, patient):
    return book_weekly_course(clinic_setup, front_desk, patient)


@pytest.fixture
def sessions_(course):
    return list(course.appointments.order_by("starts_at"))


@pytest.fixture
def soon(clinic_setup, front_desk, patient):
    """Three hours from now: inside the 24-hour cancellation window."""
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=3)
    return book(clinic_setup, front_desk, patient, start, allow_outside_hours=True)


@pytest.fixture
def other_appointment(clinic_setup, front_desk, other_patient_user):
    other = PatientFactory(
        portal_user=other_patient_user, legal_first_name="Olga", legal_last_name="Otherwoman"
    )
    return book(clinic_setup, front_desk, other, weekday_at(3, hour=15))


def url(name, *args):
    return reverse(f"treatment_sessions:{name}", args=args)


def feed_events(content):
    return {str(e["uid"]): e for e in Calendar.from_ical(content).walk("VEVENT")}


# -- the schedule page -----------------------------------------------------------------------


def test_patient_sees_own_schedule_with_course_progress(client_for, patient_user, sessions_):
    response = client_for(patient_user).get(url("my_schedule"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Session 1 of 10" in content
    assert content.count('data-testid="appointment"') == 10
    assert 'data-testid="course"' in content
    assert "0 of 10 done" in content
    first = sessions_[0].local_start
    assert first.strftime("%A") in content  # the day, in New York time
    assert url("portal_cancel", sessions_[0].pk) in content
    assert url("portal_move", sessions_[0].pk) in content
    assert url("portal_confirm", sessions_[0].pk) in content
    assert url("portal_ics", sessions_[0].pk) in content
    feed = CalendarFeed.objects.get(patient__portal_user=patient_user)
    assert f"http://testserver/calendar/{feed.token}.ics" in content
    assert AuditEvent.objects.filter(action="schedule.portal_viewed").exists()


def test_times_are_shown_in_the_locations_time_zone(client_for, patient_user, sessions_):
    content = client_for(patient_user).get(url("my_schedule")).content.decode()
    # Booked at 10:00 in New York; the server runs in UTC.
    assert "10 a.m." in content
    assert "3 p.m." not in content and "2 p.m." not in content


def test_patient_never_sees_another_patients_appointments_or_name(
    client_for, patient_user, sessions_, other_appointment
):
    content = client_for(patient_user).get(url("my_schedule")).content.decode()
    assert "Olga" not in content and "Otherwoman" not in content
    assert url("portal_cancel", other_appointment.pk) not in content
    assert content.count('data-testid="appointment"') == 10


def test_inside_the_window_the_cancel_button_is_replaced_by_the_phone_note(
    client_for, patient_user, soon, sessions_
):
    content = client_for(patient_user).get(url("my_schedule")).content.decode()
    assert "Less than 24 hours away: please call the clinic on" in content
    assert CLINIC_PHONE in content
    assert url("portal_cancel", soon.pk) not in content
    assert url("portal_cancel", sessions_[0].pk) in content
    assert url("portal_move", soon.pk) in content


def test_past_appointments_are_listed(client_for, patient_user, clinic_setup, front_desk, patient):
    past = book(
        clinic_setup, front_desk, patient, weekday_at(-20, hour=11), allow_outside_hours=True
    )
    for step in ("appointment_check_in", "appointment_start", "appointment_complete"):
        getattr(services, step)(actor=front_desk, appointment=past)
    content = client_for(patient_user).get(url("my_schedule")).content.decode()
    assert "Past appointment (1)" in content
    assert "Completed" in content
    assert url("portal_cancel", past.pk) not in content


def test_a_portal_login_without_a_patient_record_gets_a_page_saying_so(client_for, patient_user):
    response = client_for(patient_user).get(url("my_schedule"))
    assert response.status_code == 200
    assert b"not linked to a patient record" in response.content


def test_schedule_page_costs_a_bounded_number_of_queries(
    client_for, patient_user, clinic_setup, front_desk, patient, soon, django_assert_max_num_queries
):
    book_weekly_course(clinic_setup, front_desk, patient, sessions=12)
    book_weekly_course(clinic_setup, front_desk, patient, sessions=12, first=weekday_at(3, hour=14))
    client = client_for(patient_user)
    client.get(url("my_schedule"))  # the feed is created on the first visit
    with django_assert_max_num_queries(21):
        response = client.get(url("my_schedule"))
    assert response.content.decode().count('data-testid="appointment"') == 25


# -- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "portal_cancel"),
        ("post", "portal_cancel"),
        ("get", "portal_move"),
        ("post", "portal_move"),
        ("post", "portal_confirm"),
        ("get", "portal_ics"),
    ],
)
def test_another_patients_appointment_is_a_404_on_every_portal_url(
    client_for, patient_user, patient, other_appointment, method, name
):
    client = client_for(patient_user)
    response = getattr(client, method)(url(name, other_appointment.pk), {"message": "Monday"})
    assert response.status_code == 404
    other_appointment.refresh_from_db()
    assert other_appointment.status == "booked"
    assert not PortalRequest.objects.exists()


@pytest.mark.parametrize("role", ["manager", "front_desk", "practitioner_user"])
@pytest.mark.parametrize(
    ("method", "name", "with_pk"),
    [
        ("get", "my_schedule", False),
        ("get", "portal_cancel", True),
        ("post", "portal_cancel", True),
        ("get", "portal_move", True),
        ("post", "portal_confirm", True),
        ("get", "portal_ics", True),
        ("get", "portal_feed_revoke", False),
        ("post", "portal_feed_revoke", False),
    ],
)
def test_staff_get_403_on_portal_pages(
    request, client_for, clinic_setup, front_desk, patient, role, method, name, with_pk
):
    appointment = book(clinic_setup, front_desk, patient, weekday_at(3))
    client = client_for(request.getfixturevalue(role))
    path = url(name, appointment.pk) if with_pk else url(name)
    assert getattr(client, method)(path).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(sessions_):
    response = Client().get(url("portal_ics", sessions_[0].pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# -- cancel ----------------------------------------------------------------------------------


def test_cancel_outside_the_window_cancels_and_tells_front_desk(
    client_for, patient_user, front_desk, sessions_
):
    second = sessions_[1]
    client = client_for(patient_user)
    page = client.get(url("portal_cancel", second.pk))
    assert page.status_code == 200
    assert b"Cancel this appointment" in page.content

    response = client.post(url("portal_cancel", second.pk), {"reason": "Travelling for work"})
    assert response.status_code == 302
    assert response["Location"] == url("my_schedule")
    second.refresh_from_db()
    assert second.status == "cancelled"
    request = PortalRequest.objects.get()
    assert (request.kind, request.appointment, request.message) == (
        "cancelled",
        second,
        "Travelling for work",
    )
    assert request in selectors.open_portal_requests(front_desk)
    followed = client.get(url("my_schedule")).content.decode()
    assert "is cancelled. The clinic has been told." in followed


def test_cancel_without_a_reason_is_fine(client_for, patient_user, sessions_):
    response = client_for(patient_user).post(url("portal_cancel", sessions_[0].pk), {})
    assert response.status_code == 302
    assert PortalRequest.objects.get().message == "Cancelled online by the patient"


def test_cancel_inside_the_window_is_refused_with_the_clinics_phone(client_for, patient_user, soon):
    client = client_for(patient_user)
    page = client.get(url("portal_cancel", soon.pk))
    assert page.status_code == 200
    assert b'data-testid="cancel-refused"' in page.content
    assert CLINIC_PHONE.encode() in page.content
    assert b"Cancel this appointment" not in page.content

    response = client.post(url("portal_cancel", soon.pk), {"reason": "Ill"})
    assert response.status_code == 409
    content = response.content.decode()
    assert "cannot be cancelled online less than 24 hours" in content
    assert f"Please call the clinic on {CLINIC_PHONE}." in content
    soon.refresh_from_db()
    assert soon.status == "booked"
    assert not PortalRequest.objects.exists()


def test_a_cancelled_appointment_cannot_be_cancelled_again(client_for, patient_user, sessions_):
    client = client_for(patient_user)
    client.post(url("portal_cancel", sessions_[0].pk), {})
    page = client.get(url("portal_cancel", sessions_[0].pk))
    assert b"can no longer be changed online" in page.content
    response = client.post(url("portal_cancel", sessions_[0].pk), {})
    assert response.status_code == 409
    assert PortalRequest.objects.count() == 1


# -- ask to move, confirm ----------------------------------------------------------------------


def test_asking_to_move_without_saying_when_shows_the_field_error(
    client_for, patient_user, sessions_
):
    response = client_for(patient_user).post(url("portal_move", sessions_[0].pk), {"message": " "})
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="id_message_errors"' in content
    assert "Tell us which days and times would suit you." in content
    assert not PortalRequest.objects.exists()


def test_asking_to_move_reaches_front_desk_and_the_page_says_so(
    client_for, patient_user, front_desk, sessions_
):
    client = client_for(patient_user)
    response = client.post(url("portal_move", sessions_[0].pk), {"message": "Any Tuesday pm"})
    assert response.status_code == 302
    request = PortalRequest.objects.get()
    assert (request.kind, request.message) == ("reschedule", "Any Tuesday pm")
    assert request in selectors.open_portal_requests(front_desk)
    content = client.get(url("my_schedule")).content.decode()
    assert "You asked to move this appointment" in content
    assert url("portal_move", sessions_[0].pk) not in content

    # Asking again: refused, what was typed kept.
    again = client.post(url("portal_move", sessions_[0].pk), {"message": "Or Friday"})
    assert again.status_code == 200
    assert b"You have already asked to move this appointment" in again.content
    assert b"Or Friday" in again.content
    assert PortalRequest.objects.count() == 1


def test_patient_confirms_an_appointment(client_for, patient_user, sessions_):
    response = client_for(patient_user).post(url("portal_confirm", sessions_[0].pk))
    assert response.status_code == 302
    sessions_[0].refresh_from_db()
    assert sessions_[0].status == "confirmed"


def test_confirm_is_post_only(client_for, patient_user, sessions_):
    response = client_for(patient_user).get(url("portal_confirm", sessions_[0].pk))
    assert response.status_code == 405


# -- calendar files and feed -------------------------------------------------------------------


def test_ics_download_of_one_appointment(client_for, patient_user, sessions_):
    first = sessions_[0]
    response = client_for(patient_user).get(url("portal_ics", first.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="appointment-')
    (event,) = feed_events(response.content).values()
    assert str(event["summary"]) == "Treatment session (session 1 of 10)"
    assert event.decoded("dtstart") == first.starts_at
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert f"DTSTART:{first.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in response.content.decode()
    assert str(event["location"]) == "Park Avenue"


def test_feed_works_without_login_and_has_only_the_patients_appointments(
    client_for, patient_user, patient, sessions_, other_appointment, soon
):
    services.portal_appointment_cancel(
        actor=patient_user, patient=patient, appointment=sessions_[9], reason="x"
    )
    token = services.calendar_feed_for(patient).token
    response = Client().get(url("calendar_feed", token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    events = feed_events(response.content)
    expected = {f"appointment-{a.pk}@mesoclinic" for a in [*sessions_[:9], soon]}
    assert set(events) == expected
    assert f"appointment-{other_appointment.pk}@mesoclinic" not in events
    first = events[f"appointment-{sessions_[0].pk}@mesoclinic"]
    assert str(first["summary"]) == "Treatment session (session 1 of 10)"
    assert "DTSTART:" + sessions_[0].starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") in (
        response.content.decode()
    )
    body = response.content.decode()
    assert "Penelope" not in body and "Example" not in body and "Olga" not in body
    event = AuditEvent.objects.get(action="calendar_feed.fetched")
    assert event.actor is None and event.patient_id == patient.pk


def test_feed_reaches_back_ninety_days(clinic_setup, front_desk, patient):
    old = book(clinic_setup, front_desk, patient, weekday_at(-120), allow_outside_hours=True)
    recent = book(clinic_setup, front_desk, patient, weekday_at(-30), allow_outside_hours=True)
    token = services.calendar_feed_for(patient).token
    events = feed_events(Client().get(url("calendar_feed", token)).content)
    assert set(events) == {f"appointment-{recent.pk}@mesoclinic"}
    assert old.pk != recent.pk


def test_revoked_or_unknown_feed_token_is_a_404(client_for, patient_user, patient, sessions_):
    old_token = services.calendar_feed_for(patient).token
    client = client_for(patient_user)
    confirm_page = client.get(url("portal_feed_revoke"))
    assert confirm_page.status_code == 200
    assert CalendarFeed.objects.get().token == old_token  # GET only asks

    response = client.post(url("portal_feed_revoke"))
    assert response.status_code == 302
    new_token = CalendarFeed.objects.get().token
    assert new_token != old_token
    anonymous = Client()
    assert anonymous.get(url("calendar_feed", old_token)).status_code == 404
    assert anonymous.get(url("calendar_feed", "not-a-token")).status_code == 404
    assert anonymous.get(url("calendar_feed", new_token)).status_code == 200
    assert AuditEvent.objects.filter(action="calendar_feed.revoked").exists()


def test_feed_of_an_archived_patient_is_a_404(patient, sessions_):
    token = services.calendar_feed_for(patient).token
    patient.is_active = False
    patient.save(update_fields=["is_active"])
    assert Client().get(url("calendar_feed", token)).status_code == 404


def test_feed_answers_only_get_and_head(patient):
    token = services.calendar_feed_for(patient).token
    assert Client().post(url("calendar_feed", token)).status_code == 405
    assert Client().head(url("calendar_feed", token)).status_code == 200
