"""The scheduling API: booking and its 409s, DST 400s, transitions, courses, availability,
the patient's own appointments, permissions per role and query counts."""

from datetime import datetime, timedelta

import pytest

from clinic.models import AuditEvent, ClinicSettings, Practitioner, Room
from clinic.roles import Role
from clinic.services import user_create
from sessions.models import Appointment, Course, PortalRequest
from sessions.services import appointment_book
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, NEW_YORK, book, give_hours

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]


@pytest.fixture
def patient(patient_user):
    return PatientFactory(
        legal_first_name="Pat", legal_last_name="Portal", portal_user=patient_user
    )


def booking_body(setup, patient, start="2026-12-01T12:30:00-05:00", **extra):
    return {
        "patient": patient.pk,
        "practitioner": setup["practitioner"].pk,
        "room": setup["room"].pk,
        "type": setup["type"].pk,
        "start": start,
        **extra,
    }


def test_front_desk_books_and_gets_the_appointment_in_the_locations_zone(
    api, clinic_setup, front_desk
):
    patient = PatientFactory()
    response = api(front_desk).post(
        "/api/v1/appointments/", booking_body(clinic_setup, patient, "2026-12-01T17:30:00Z")
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["start"] == "2026-12-01T12:30:00-05:00"
    assert body["end"] == "2026-12-01T13:00:00-05:00"
    assert body["status"] == "booked"
    assert body["type"] == clinic_setup["type"].pk
    assert body["course"] is None
    assert AuditEvent.objects.filter(action="appointment.booked", patient_id=patient.pk).exists()


def test_a_booking_without_a_room_gets_a_free_one_as_on_the_calendar(
    api, clinic_setup, front_desk, manager
):
    second_room = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    other = Practitioner.objects.create(user=manager, display_name="Max", title="Dr")
    give_hours(other, clinic_setup["location"])
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)  # Room 1 is taken at lunch
    client = api(front_desk)
    body = booking_body(clinic_setup, PatientFactory(), practitioner=other.pk)
    del body["room"]
    response = client.post("/api/v1/appointments/", body)
    assert response.status_code == 201, response.json()
    assert response.json()["room"] == second_room.pk
    # With both rooms taken the answer names the room field instead of booking without one.
    third = Practitioner.objects.create(user=front_desk, display_name="Noa", title="")
    give_hours(third, clinic_setup["location"])
    body = booking_body(clinic_setup, PatientFactory(), practitioner=third.pk)
    del body["room"]
    response = client.post("/api/v1/appointments/", body)
    assert response.status_code == 400
    assert "No room is free" in response.json()["room"][0]
    assert Appointment.objects.count() == 2


def test_a_clash_answers_409_with_the_clashing_appointment(api, clinic_setup, front_desk):
    first = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    response = api(front_desk).post(
        "/api/v1/appointments/",
        booking_body(clinic_setup, PatientFactory(), "2026-12-01T12:45:00-05:00"),
    )
    assert response.status_code == 409
    assert response.json()["conflict"]["id"] == first.pk
    assert response.json()["conflict"]["start"].startswith("2026-12-01T17:30:00")
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "field"),
    [
        ("2026-03-08T02:30:00", "start"),  # clocks jump from 02:00 to 03:00 in New York
        ("2026-11-01T01:30:00", "start"),  # 01:00-02:00 happens twice
        ("tomorrow at noon", "start"),
    ],
)
def test_times_that_do_not_exist_or_are_ambiguous_answer_400(
    api, clinic_setup, front_desk, start, field
):
    response = api(front_desk).post(
        "/api/v1/appointments/", booking_body(clinic_setup, PatientFactory(), start)
    )
    assert response.status_code == 400
    assert field in response.json()
    assert Appointment.objects.count() == 0


def test_a_local_time_without_offset_is_read_in_the_locations_zone(api, clinic_setup, front_desk):
    response = api(front_desk).post(
        "/api/v1/appointments/",
        booking_body(clinic_setup, PatientFactory(), "2026-12-01T12:30:00"),
    )
    assert response.status_code == 201
    assert response.json()["start"] == "2026-12-01T12:30:00-05:00"


def test_outside_working_hours_needs_the_override_which_is_recorded(api, clinic_setup, front_desk):
    evening = "2026-12-01T20:00:00-05:00"
    client = api(front_desk)
    refused = client.post(
        "/api/v1/appointments/", booking_body(clinic_setup, PatientFactory(), evening)
    )
    assert refused.status_code == 400
    assert "outside" in refused.json()["start"][0]
    assert refused.json()["outside_hours"] is True
    allowed = client.post(
        "/api/v1/appointments/",
        booking_body(clinic_setup, PatientFactory(), evening, allow_outside_hours=True),
    )
    assert allowed.status_code == 201
    assert allowed.json()["outside_working_hours"] is True
    event = AuditEvent.objects.get(action="appointment.booked")
    assert event.detail["outside_hours_override"] is True


def test_practitioner_at_another_location_and_archived_patient_are_400(
    api, clinic_setup, front_desk, manager
):
    elsewhere = Practitioner.objects.create(user=manager, display_name="Max")
    response = api(front_desk).post(
        "/api/v1/appointments/",
        {
            **booking_body(clinic_setup, PatientFactory()),
            "practitioner": elsewhere.pk,
            "location": clinic_setup["location"].pk,
        },
    )
    assert response.status_code == 400
    assert "practitioner" in response.json()
    archived = PatientFactory(is_active=False)
    response = api(front_desk).post("/api/v1/appointments/", booking_body(clinic_setup, archived))
    assert response.status_code == 400
    assert "patient" in response.json()
    assert Appointment.objects.count() == 0


def test_reschedule_by_patch_checks_clashes(api, clinic_setup, front_desk):
    first = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    second = book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=2))
    client = api(front_desk)
    clash = client.patch(
        f"/api/v1/appointments/{second.pk}/", {"start": "2026-12-01T12:40:00-05:00"}, format="json"
    )
    assert clash.status_code == 409
    assert clash.json()["conflict"]["id"] == first.pk
    moved = client.patch(
        f"/api/v1/appointments/{second.pk}/", {"start": "2026-12-01T16:00:00-05:00"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["start"] == "2026-12-01T16:00:00-05:00"
    assert AuditEvent.objects.filter(action="appointment.rescheduled").count() == 1


def test_status_actions_and_illegal_change_is_409(api, clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    client = api(front_desk)
    assert client.post(f"/api/v1/appointments/{appointment.pk}/check-in/").json()["status"] == (
        "checked_in"
    )
    refused = client.post(
        f"/api/v1/appointments/{appointment.pk}/cancel/", {"reason": "Changed mind"}
    )
    assert refused.status_code == 409
    assert refused.json()["status"] == "checked_in"
    later = book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=3))
    no_reason = client.post(f"/api/v1/appointments/{later.pk}/cancel/", {})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()


def test_list_filters_by_range_and_practitioner(api, clinic_setup, front_desk):
    inside = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(days=10))
    response = api(front_desk).get(
        "/api/v1/appointments/",
        {
            "start": "2026-12-01T00:00:00-05:00",
            "end": "2026-12-02T00:00:00-05:00",
            "practitioner": clinic_setup["practitioner"].pk,
        },
    )
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [inside.pk]


def test_calendar_week_of_400_appointments_costs_a_fixed_number_of_queries(
    api, clinic_setup, front_desk, django_assert_max_num_queries, roles
):
    location = clinic_setup["location"]
    practitioners = [clinic_setup["practitioner"]]
    for index in range(9):
        user = user_create(
            actor=None,
            email=f"p{index}@test.clinic",
            password="x",
            full_name=f"P {index}",
            role=Role.PRACTITIONER,
        )
        practitioner = Practitioner.objects.create(user=user, display_name=f"P {index}")
        give_hours(practitioner, location)
        practitioners.append(practitioner)
    rooms = [Room.objects.create(location=location, name=f"Room {n}") for n in range(2, 12)]
    rooms.insert(0, clinic_setup["room"])
    patients = [PatientFactory() for _ in range(40)]
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK)
    # Bulk-create directly: the week is about reading, not booking.
    rows = []
    for day in range(5):
        for slot in range(8):
            for index, practitioner in enumerate(practitioners):
                start = monday + timedelta(days=day, hours=slot)
                rows.append(
                    Appointment(
                        patient=patients[(index * 4 + slot) % 40],
                        practitioner=practitioner,
                        location=location,
                        room=rooms[index],
                        appointment_type=clinic_setup["type"],
                        starts_at=start,
                        ends_at=start + timedelta(minutes=30),
                        blocked_until=start + timedelta(minutes=40),
                    )
                )
    Appointment.objects.bulk_create(rows)
    assert len(rows) == 400
    client = api(front_desk)
    with django_assert_max_num_queries(12):
        response = client.get(
            "/api/v1/appointments/",
            {
                "start": "2026-11-30T00:00:00-05:00",
                "end": "2026-12-07T00:00:00-05:00",
                "location": location.pk,
                "page_size": 1000,
            },
        )
    assert response.status_code == 200
    assert response.json()["count"] == 400


def test_course_propose_then_book_all_sessions(api, clinic_setup, front_desk):
    patient = PatientFactory()
    blocker = book(
        clinic_setup, front_desk, PatientFactory(), datetime(2026, 12, 15, 12, 30, tzinfo=NEW_YORK)
    )
    shape = {
        "patient": patient.pk,
        "practitioner": clinic_setup["practitioner"].pk,
        "type": clinic_setup["type"].pk,
        "location": clinic_setup["location"].pk,
        "room": clinic_setup["room"].pk,
        "interval_days": 7,
    }
    client = api(front_desk)
    proposals = client.post(
        "/api/v1/courses/propose/",
        {**shape, "sessions": 4, "first_day": "2026-11-30", "weekday": 1, "time": "12:30"},
        format="json",
    )
    assert proposals.status_code == 200, proposals.json()
    rows = proposals.json()
    assert [r["start"][:10] for r in rows] == [
        "2026-12-01",
        "2026-12-08",
        "2026-12-15",
        "2026-12-22",
    ]
    assert [r["ok"] for r in rows] == [True, True, False, True]
    assert rows[2]["clash_id"] == blocker.pk
    assert rows[2]["alternative"]
    starts = [r["start"] if r["ok"] else r["alternative"] for r in rows]
    booked = client.post(
        "/api/v1/courses/", {**shape, "starts": starts, "areas": ["abdomen"]}, format="json"
    )
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert [a["session_number"] for a in body["appointments"]] == [1, 2, 3, 4]
    assert all(a["sessions_in_course"] == 4 for a in body["appointments"])
    assert body["progress"]["upcoming"] == 4


def test_course_booking_is_all_or_nothing(api, clinic_setup, front_desk):
    book(
        clinic_setup, front_desk, PatientFactory(), datetime(2026, 12, 15, 12, 30, tzinfo=NEW_YORK)
    )
    starts = [f"2026-12-{day:02d}T12:30:00-05:00" for day in (1, 8, 15, 22)]
    response = api(front_desk).post(
        "/api/v1/courses/",
        {
            "patient": PatientFactory().pk,
            "practitioner": clinic_setup["practitioner"].pk,
            "type": clinic_setup["type"].pk,
            "location": clinic_setup["location"].pk,
            "room": clinic_setup["room"].pk,
            "starts": starts,
        },
        format="json",
    )
    assert response.status_code == 409
    assert "Session 3" in response.json()["detail"]
    assert Course.objects.count() == 0
    assert Appointment.objects.count() == 1


def test_availability_lists_free_slots_only(api, clinic_setup, front_desk):
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    response = api(front_desk).get(
        "/api/v1/availability/",
        {
            "type": clinic_setup["type"].pk,
            "location": clinic_setup["location"].pk,
            "start": "2026-12-01",
            "step": 30,
        },
    )
    assert response.status_code == 200
    starts = [slot["start"][11:16] for slot in response.json()]
    assert "11:30" in starts and "13:30" in starts
    # 12:00 would run into the booking with its own buffer; 13:00 is inside the booking's buffer.
    assert not {"12:00", "12:30", "13:00"} & set(starts)
    assert starts[0] == "08:00" and starts[-1] == "18:30"


def test_patient_sees_only_their_appointments_and_no_other_names(
    api, clinic_setup, front_desk, patient, other_patient_user
):
    mine = book(clinic_setup, front_desk, patient, LUNCH)
    theirs = book(
        clinic_setup,
        front_desk,
        PatientFactory(portal_user=other_patient_user, legal_last_name="Secretname"),
        LUNCH + timedelta(hours=2),
    )
    client = api(patient.portal_user)
    response = client.get("/api/v1/me/appointments/")
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [mine.pk]
    assert "Secretname" not in response.content.decode()
    assert "notes" not in response.json()["results"][0]
    for url in (
        "/api/v1/appointments/",
        f"/api/v1/appointments/{theirs.pk}/",
        "/api/v1/availability/",
        "/api/v1/courses/",
        "/api/v1/inbox/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/api/v1/me/appointments/{theirs.pk}/cancel/").status_code == 404
    assert (
        client.post(
            f"/api/v1/me/appointments/{theirs.pk}/reschedule-request/", {"message": "Friday"}
        ).status_code
        == 404
    )
    assert Appointment.objects.get(pk=theirs.pk).status == "booked"


def test_patient_cancels_online_outside_the_window_but_not_inside(
    api, clinic_setup, front_desk, patient
):
    ClinicSettings.objects.update_or_create(singleton=True, defaults={"phone": "+1 212 555 0100"})
    far = book(clinic_setup, front_desk, patient, LUNCH + timedelta(days=30))
    client = api(patient.portal_user)
    ok = client.post(f"/api/v1/me/appointments/{far.pk}/cancel/", {"reason": "Travel"})
    assert ok.status_code == 200
    assert ok.json()["status"] == "cancelled"
    assert PortalRequest.objects.filter(appointment=far, kind="cancelled").exists()
    soon_start = datetime.now(NEW_YORK).replace(second=0, microsecond=0) + timedelta(hours=3)
    soon = appointment_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts_at=soon_start,
        allow_outside_hours=True,
    )
    late = client.post(f"/api/v1/me/appointments/{soon.pk}/cancel/", {})
    assert late.status_code == 409
    assert "+1 212 555 0100" in late.json()["detail"]
    assert Appointment.objects.get(pk=soon.pk).status == "booked"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 201), ("front_desk", 201), ("practitioner_user", 403), ("patient_user", 403)],
)
def test_who_may_book(api, clinic_setup, request, role, expected):
    user = request.getfixturevalue(role)
    response = api(user).post("/api/v1/appointments/", booking_body(clinic_setup, PatientFactory()))
    assert response.status_code == expected


def test_anonymous_gets_401_or_403(api, clinic_setup):
    for url in ("/api/v1/appointments/", "/api/v1/me/appointments/", "/api/v1/courses/"):
        assert api().get(url).status_code in (401, 403)


def test_practitioner_reads_the_calendar_but_cannot_cancel(
    api, clinic_setup, front_desk, practitioner_user
):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    client = api(practitioner_user)
    assert client.get(f"/api/v1/appointments/{appointment.pk}/").status_code == 200
    assert (
        client.post(f"/api/v1/appointments/{appointment.pk}/cancel/", {"reason": "x"}).status_code
        == 403
    )


def test_range_over_62_days_is_refused(api, clinic_setup, front_desk):
    response = api(front_desk).get(
        "/api/v1/appointments/",
        {"start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"},
    )
    assert response.status_code == 400
    assert "62 days" in response.json()["end"][0]
