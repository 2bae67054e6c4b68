"""The front-desk calendar pages: who may use them, booking from a slot (errors kept on the
field), the appointment panel's actions, the inbox of what patients did online, query counts."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from clinic.models import AuditEvent, Location, Practitioner, Room
from clinic.roles import Role
from clinic.services import user_create
from sessions import services
from sessions.models import Appointment, PortalRequest
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, NEW_YORK, book, give_hours

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def patient(patient_user):
    return PatientFactory(
        legal_first_name="Pat", legal_last_name="Portal", portal_user=patient_user
    )


@pytest.fixture
def appointment(clinic_setup, front_desk, patient):
    return book(clinic_setup, front_desk, patient, LUNCH)


def booking_data(setup, patient, **extra):
    return {
        "location": setup["location"].pk,
        "patient": patient.pk,
        "appointment_type": setup["type"].pk,
        "practitioner": setup["practitioner"].pk,
        "room": setup["room"].pk,
        "date": "2026-12-01",
        "time": "12:30",
        "notes": "",
        **extra,
    }


# -- who may use the calendar ----------------------------------------------------------------


def calendar_urls(appointment, portal_request):
    pk = appointment.pk
    return [
        ("get", reverse("treatment_sessions:calendar"), None),
        ("get", reverse("treatment_sessions:calendar_book"), None),
        ("get", reverse("treatment_sessions:calendar_appointment", args=[pk]), None),
        ("get", reverse("treatment_sessions:calendar_inbox"), None),
        ("post", reverse("treatment_sessions:calendar_book"), {}),
        ("post", reverse("treatment_sessions:calendar_transition", args=[pk, "confirm"]), {}),
        ("post", reverse("treatment_sessions:calendar_transition", args=[pk, "check-in"]), {}),
        ("post", reverse("treatment_sessions:calendar_transition", args=[pk, "no-show"]), {}),
        ("post", reverse("treatment_sessions:calendar_cancel", args=[pk]), {}),
        ("post", reverse("treatment_sessions:calendar_move", args=[pk]), {}),
        ("post", reverse("treatment_sessions:calendar_inbox_done", args=[portal_request.pk]), {}),
    ]


@pytest.fixture
def portal_request(appointment, patient):
    return PortalRequest.objects.create(
        appointment=appointment, patient=patient, kind=PortalRequest.Kind.RESCHEDULE, message="?"
    )


@pytest.mark.parametrize("role", ["manager", "front_desk"])
def test_manager_and_front_desk_open_every_calendar_page(
    request, client_for, role, appointment, portal_request
):
    client = client_for(request.getfixturevalue(role))
    for method, url, _data in calendar_urls(appointment, portal_request):
        if method == "get":
            assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["practitioner_user", "patient_user"])
def test_practitioner_and_patient_are_refused_every_calendar_url(
    request, client_for, role, appointment, portal_request
):
    client = client_for(request.getfixturevalue(role))
    for method, url, data in calendar_urls(appointment, portal_request):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 403, url
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    portal_request.refresh_from_db()
    assert portal_request.handled_at is None


def test_anonymous_is_sent_to_log_in_from_every_calendar_url(client, appointment, portal_request):
    for method, url, data in calendar_urls(appointment, portal_request):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_calendar_is_in_the_navigation_of_front_desk_not_of_a_practitioner(
    client, front_desk, practitioner_user
):
    client.force_login(front_desk)
    assert 'href="/calendar/"' in client.get(reverse("treatment_sessions:today")).content.decode()
    client.force_login(practitioner_user)
    page = client.get(reverse("treatment_sessions:my_day")).content.decode()
    assert 'href="/calendar/"' not in page


# -- the page ---------------------------------------------------------------------------------


def test_calendar_opens_the_first_active_location_with_its_practitioners_and_rooms(
    client_for, front_desk, clinic_setup, second_practitioner
):
    Location.objects.create(name="Zurich", code="ZRH", time_zone="Europe/Zurich")
    Location.objects.create(name="Aardvark (closed)", code="AAA", is_active=False)
    response = client_for(front_desk).get(reverse("treatment_sessions:calendar"))
    assert response.status_code == 200
    config = response.context["calendar_config"]
    assert config["location"] == {
        "id": clinic_setup["location"].pk,
        "name": "Park Avenue",
        "timeZone": "America/New_York",
    }
    practitioners = config["resources"]["practitioner"]
    assert [r["title"] for r in practitioners] == ["Dr Max", "Dr Pia"]
    # Mon-Sat 08:00-19:00; FullCalendar counts days from Sunday.
    assert {d for h in practitioners[1]["businessHours"] for d in h["daysOfWeek"]} == {
        1,
        2,
        3,
        4,
        5,
        6,
    }
    assert config["resources"]["room"] == [{"id": f"r{clinic_setup['room'].pk}", "title": "Room 1"}]
    assert (config["slotMinTime"], config["slotMaxTime"]) == ("07:00", "21:00")
    html = response.content.decode()
    assert 'id="calendar-config"' in html
    assert "Aardvark" not in html
    assert "Zurich" in html  # in the location picker


def test_calendar_shows_the_location_and_date_asked_for(client_for, front_desk, clinic_setup):
    zurich = Location.objects.create(name="Zurich", code="ZRH", time_zone="Europe/Zurich")
    response = client_for(front_desk).get(
        reverse("treatment_sessions:calendar"),
        {"location": zurich.pk, "date": "2026-12-01", "view": "day", "mode": "room"},
    )
    config = response.context["calendar_config"]
    assert config["location"]["timeZone"] == "Europe/Zurich"
    assert config["initialDate"] == "2026-12-01"
    assert config["initialView"] == "resourceTimeGridDay"
    assert config["mode"] == "room"
    assert config["resources"]["practitioner"] == []


def test_an_impossible_date_opens_today(client_for, front_desk, clinic_setup):
    response = client_for(front_desk).get(
        reverse("treatment_sessions:calendar"), {"date": "2026-02-30"}
    )
    assert response.status_code == 200
    assert response.context["calendar_config"]["initialDate"] != "2026-02-30"


def test_cancelling_an_appointment_already_checked_in_says_why(client_for, front_desk, appointment):
    services.appointment_check_in(actor=front_desk, appointment=appointment)
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_cancel", args=[appointment.pk]),
        {"reason": "Changed her mind"},
        **HTMX,
    )
    assert 'data-testid="panel-error"' in response.content.decode()
    assert "cannot become cancelled" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def test_calendar_without_any_location_says_so(client_for, manager):
    response = client_for(manager).get(reverse("treatment_sessions:calendar"))
    assert response.status_code == 200
    assert "no active location" in response.content.decode()


def test_calendar_page_costs_a_fixed_number_of_queries(
    client_for, front_desk, clinic_setup, django_assert_max_num_queries
):
    location = clinic_setup["location"]
    for n in range(10):
        user = user_create(
            actor=None, email=f"doc{n}@test.clinic", password="x", role=Role.PRACTITIONER
        )
        give_hours(Practitioner.objects.create(user=user, display_name=f"Doc {n}"), location)
        Room.objects.create(location=location, name=f"Room {n + 2}")
    patients = PatientFactory.create_batch(5)
    for n, patient in enumerate(patients):
        appointment = book(clinic_setup, front_desk, patient, LUNCH + timedelta(hours=n))
        PortalRequest.objects.create(
            appointment=appointment, patient=patient, kind="reschedule", message="Later?"
        )
    client = client_for(front_desk)
    # Session, user, role, permissions for the menu and the session saved (7); locations,
    # practitioners, hours, rooms, types, inbox (6): whatever the number of rows.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("treatment_sessions:calendar"))
    assert len(response.context["calendar_config"]["resources"]["practitioner"]) == 11
    assert response.content.decode().count('data-testid="inbox-item"') == 5


# -- booking from an empty slot ---------------------------------------------------------------


def test_booking_form_is_prefilled_from_the_slot_clicked(client_for, front_desk, clinic_setup):
    practitioner = clinic_setup["practitioner"]
    response = client_for(front_desk).get(
        reverse("treatment_sessions:calendar_book"),
        {
            "location": clinic_setup["location"].pk,
            "start": "2026-12-01T17:30:00Z",  # 12:30 in New York
            "resource": f"p{practitioner.pk}",
        },
        **HTMX,
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["date"].isoformat() == "2026-12-01"
    assert form.initial["time"].strftime("%H:%M") == "12:30"
    assert form.initial["practitioner"] == practitioner.pk
    assert response.templates[0].name == "treatment_sessions/calendar/book_form.html"


def test_front_desk_books_from_the_calendar_and_it_is_audited(
    client_for, front_desk, clinic_setup, patient
):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"),
        booking_data(clinic_setup, patient, notes="First visit", room=""),
        **HTMX,
    )
    assert response.status_code == 200
    appointment = Appointment.objects.get()
    assert appointment.starts_at == LUNCH
    assert appointment.ends_at == LUNCH + timedelta(minutes=30)
    assert appointment.room == clinic_setup["room"]  # any free room was picked
    assert appointment.notes == "First visit"
    assert response["HX-Trigger"] == '{"calendar:changed": true}'
    assert "Booked: Pat Portal" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="appointment.booked", object_id=str(appointment.pk), actor=front_desk
    ).exists()


def test_booking_without_htmx_goes_back_to_the_calendar_on_that_day(
    client_for, front_desk, clinic_setup, patient
):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"),
        booking_data(clinic_setup, patient, duration_minutes="45"),
    )
    assert response.status_code == 302
    assert "date=2026-12-01" in response["Location"]
    assert Appointment.objects.get().ends_at == LUNCH + timedelta(minutes=45)


def test_a_clash_is_named_on_the_time_field_and_the_entries_are_kept(
    client_for, front_desk, clinic_setup, appointment
):
    other = PatientFactory(legal_first_name="Olive", legal_last_name="Other")
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"),
        booking_data(clinic_setup, other, time="12:45", notes="Keep me"),
    )
    assert response.status_code == 409
    form = response.context["form"]
    [error] = form.errors["time"]
    assert "Dr Pia is already booked at 2026-12-01 12:30" in error
    assert "Pat Portal" in error
    html = response.content.decode()
    assert "Keep me" in html
    assert 'value="Olive Other"' in html  # the patient picked stays picked
    assert Appointment.objects.count() == 1


def test_outside_working_hours_needs_the_override_which_is_then_offered(
    client_for, front_desk, clinic_setup, patient
):
    client = client_for(front_desk)
    url = reverse("treatment_sessions:calendar_book")
    refused = client.post(url, booking_data(clinic_setup, patient, time="19:30"))
    assert refused.status_code == 400
    assert "outside Dr Pia's hours" in refused.context["form"].errors["time"][0]
    assert refused.context["show_override"] is True
    assert "Outside working hours: book anyway" in refused.content.decode()
    assert not Appointment.objects.exists()

    booked = client.post(
        url, booking_data(clinic_setup, patient, time="19:30", allow_outside_hours="on")
    )
    assert booked.status_code == 302
    assert Appointment.objects.get().outside_working_hours is True


def test_a_time_that_does_not_exist_on_the_dst_day_is_refused_on_the_time_field(
    client_for, front_desk, clinic_setup, patient
):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"),
        booking_data(clinic_setup, patient, date="2026-03-08", time="02:30"),
    )
    assert response.status_code == 400
    assert "does not exist in America/New_York" in response.context["form"].errors["time"][0]
    assert not Appointment.objects.exists()


def test_booking_without_a_patient_asks_to_pick_one(client_for, front_desk, clinic_setup):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"),
        {**booking_data(clinic_setup, PatientFactory()), "patient": ""},
        **HTMX,
    )
    assert response.status_code == 200  # htmx swaps only 2xx; the errors are in the fragment
    assert "pick them from the list" in response.context["form"].errors["patient"][0]
    assert not Appointment.objects.exists()


def test_an_archived_patient_cannot_be_booked(client_for, front_desk, clinic_setup):
    archived = PatientFactory(is_active=False)
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_book"), booking_data(clinic_setup, archived)
    )
    assert "archived" in response.context["form"].errors["patient"][0]
    assert not Appointment.objects.exists()


# -- the appointment panel --------------------------------------------------------------------


def test_panel_shows_the_appointment_with_alerts_and_its_place_in_the_course(
    client_for, front_desk, clinic_setup, patient
):
    MedicalHistoryFactory(patient=patient, bleeding_disorder=True)
    course = services.course_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=[LUNCH, LUNCH + timedelta(days=7)],
        interval_days=7,
    )
    second = course.appointments.order_by("starts_at").last()
    response = client_for(front_desk).get(
        reverse("treatment_sessions:calendar_appointment", args=[second.pk]), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/patients/{patient.pk}/"' in html
    assert "Pat Portal" in html
    assert "Tuesday 8 December 2026" in html
    assert "12:30–13:00" in html
    assert "Session 2 of 2" in html
    assert f'href="/courses/{course.pk}/"' in html
    assert "Bleeding disorder" in html
    assert "Dr Pia" in html and "Room 1" in html
    assert AuditEvent.objects.filter(action="appointment.viewed", actor=front_desk).exists()


@pytest.mark.parametrize(
    ("action", "status", "audit"),
    [
        ("check-in", "checked_in", "appointment.checked_in"),
        ("confirm", "confirmed", "appointment.confirmed"),
    ],
)
def test_panel_actions_change_the_status_and_are_audited(
    client_for, front_desk, appointment, action, status, audit
):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_transition", args=[appointment.pk, action]), **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"calendar:changed": true}'
    assert 'data-testid="panel-notice"' in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == status
    assert AuditEvent.objects.filter(
        action=audit, object_id=str(appointment.pk), actor=front_desk
    ).exists()


def test_no_show_before_the_start_is_refused_in_the_panel(client_for, front_desk, appointment):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_transition", args=[appointment.pk, "no-show"])
    )
    assert response.status_code == 409
    assert "only miss an appointment once it has started" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_no_show_once_started_is_recorded(client_for, front_desk, clinic_setup, patient):
    past = book(
        clinic_setup,
        front_desk,
        patient,
        datetime(2026, 3, 2, 9, 0, tzinfo=NEW_YORK),
        allow_outside_hours=True,
    )
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_transition", args=[past.pk, "no-show"])
    )
    assert response.status_code == 302
    past.refresh_from_db()
    assert past.status == "no_show"
    assert AuditEvent.objects.filter(action="appointment.no_show", actor=front_desk).exists()


def test_unknown_action_is_a_404(client_for, front_desk, appointment):
    url = reverse("treatment_sessions:calendar_transition", args=[appointment.pk, "explode"])
    assert client_for(front_desk).post(url).status_code == 404


def test_cancel_needs_a_reason_then_cancels_on_the_patients_behalf(
    client_for, front_desk, appointment
):
    client = client_for(front_desk)
    url = reverse("treatment_sessions:calendar_cancel", args=[appointment.pk])
    refused = client.post(url, {"reason": ""}, **HTMX)
    assert "Give the reason for cancelling." in refused.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"

    done = client.post(url, {"reason": "Flu", "by_patient": "on"}, **HTMX)
    assert "Cancelled: Pat Portal" in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    transition = appointment.transitions.last()
    assert transition.reason.startswith("patient") and "Flu" in transition.reason
    assert transition.by == front_desk
    assert AuditEvent.objects.filter(action="appointment.cancelled", actor=front_desk).exists()


def test_move_from_the_panel_keeps_the_length_and_is_audited(client_for, front_desk, appointment):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_move", args=[appointment.pk]),
        {"date": "2026-12-02", "time": "15:00"},
        **HTMX,
    )
    assert "Moved Pat Portal to Wed 02 Dec 15:00." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == datetime(2026, 12, 2, 15, 0, tzinfo=NEW_YORK)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert AuditEvent.objects.filter(
        action__startswith="appointment.res", object_id=str(appointment.pk)
    ).exists()


def test_move_onto_a_clash_names_it_on_the_time_field(
    client_for, front_desk, clinic_setup, appointment
):
    other = book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=2))
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_move", args=[other.pk]),
        {"date": "2026-12-01", "time": "12:45"},
    )
    assert response.status_code == 409
    [error] = response.context["move_form"].errors["time"]
    assert "Pat Portal" in error and "12:30" in error
    other.refresh_from_db()
    assert other.starts_at == LUNCH + timedelta(hours=2)


def test_move_outside_hours_offers_the_override(client_for, front_desk, appointment):
    client = client_for(front_desk)
    url = reverse("treatment_sessions:calendar_move", args=[appointment.pk])
    refused = client.post(url, {"date": "2026-12-01", "time": "20:00"})
    assert refused.status_code == 400
    assert "Outside Dr Pia's hours" in refused.context["move_form"].errors["time"][0]
    assert refused.context["show_move_override"] is True
    assert (
        client.post(
            url, {"date": "2026-12-01", "time": "20:00", "allow_outside_hours": "on"}
        ).status_code
        == 302
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == datetime(2026, 12, 1, 20, 0, tzinfo=NEW_YORK)


def test_move_to_a_time_skipped_by_the_clocks_is_refused(client_for, front_desk, appointment):
    response = client_for(front_desk).post(
        reverse("treatment_sessions:calendar_move", args=[appointment.pk]),
        {"date": "2026-03-08", "time": "02:30", "allow_outside_hours": "on"},
    )
    assert "does not exist" in response.context["move_form"].errors["time"][0]


# -- the inbox --------------------------------------------------------------------------------


def test_inbox_shows_a_patients_online_cancellation_and_done_removes_it(
    client_for, front_desk, patient_user, patient, appointment
):
    services.portal_appointment_cancel(
        actor=patient_user,
        patient=patient,
        appointment=appointment,
        reason="Travelling",
        now=datetime(2026, 11, 1, 9, 0, tzinfo=NEW_YORK),
    )
    client = client_for(front_desk)
    page = client.get(reverse("treatment_sessions:calendar")).content.decode()
    assert "Pat Portal" in page and "Cancelled online" in page and "Travelling" in page

    inbox = client.get(reverse("treatment_sessions:calendar_inbox"), **HTMX).content.decode()
    assert 'hx-trigger="every 30s"' in inbox
    assert "Cancelled online" in inbox
    assert "Tue 1 Dec 12:30" in inbox

    request = PortalRequest.objects.get()
    after = client.post(
        reverse("treatment_sessions:calendar_inbox_done", args=[request.pk]), **HTMX
    ).content.decode()
    assert "Travelling" not in after
    assert "Nothing new from patients." in after
    request.refresh_from_db()
    assert request.handled_by == front_desk
    assert AuditEvent.objects.filter(action="portal_request.handled", actor=front_desk).exists()


def test_inbox_costs_a_fixed_number_of_queries(
    client_for, front_desk, clinic_setup, django_assert_max_num_queries
):
    for n, patient in enumerate(PatientFactory.create_batch(12)):
        appointment = book(
            clinic_setup, front_desk, patient, LUNCH + timedelta(days=n), allow_outside_hours=True
        )
        PortalRequest.objects.create(
            appointment=appointment, patient=patient, kind="reschedule", message=f"#{n}"
        )
    client = client_for(front_desk)
    # Session, user, role; the inbox; the session saved again (idle timeout).
    with django_assert_max_num_queries(7):
        response = client.get(reverse("treatment_sessions:calendar_inbox"), **HTMX)
    assert response.content.decode().count('data-testid="inbox-item"') == 12
