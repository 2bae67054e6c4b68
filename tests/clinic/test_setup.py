"""The manager's clinic set-up pages: locations, rooms, practitioners with their weekly hours
and exceptions, and the clinic's settings."""

import threading
import time as time_module
from datetime import time, timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from clinic import services
from clinic.errors import ApplicationError
from clinic.models import (
    AuditEvent,
    ClinicSettings,
    Location,
    Practitioner,
    Room,
    WorkingHours,
    WorkingHoursException,
)
from clinic.roles import Role
from tests.fixtures.people import make_user

pytestmark = pytest.mark.django_db

NEW_LOCATION = {
    "name": "Rive Gauche",
    "code": "PAR",
    "time_zone": "Europe/Paris",
    "address": "12 rue du Bac\n75007 Paris",
    "phone": "+33 1 23 45 67 89",
    "email": "paris@example.com",
    "is_active": "on",
}


@pytest.fixture
def location(roles):
    return Location.objects.create(name="Park Avenue", code="NYC", time_zone="America/New_York")


@pytest.fixture
def practitioner(location, practitioner_user):
    p = Practitioner.objects.create(user=practitioner_user, display_name="Pia", title="Dr")
    p.locations.add(location)
    return p


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def audited(action):
    return AuditEvent.objects.filter(action=action)


# --- Who may ---------------------------------------------------------------------------


def setup_urls(location, practitioner):
    room = Room.objects.create(location=location, name="Room 9")
    block = WorkingHours.objects.create(
        practitioner=practitioner,
        location=location,
        weekday=0,
        starts_at=time(9),
        ends_at=time(12),
    )
    exception = WorkingHoursException.objects.create(
        practitioner=practitioner, kind="time_off", date=tomorrow()
    )
    p = practitioner.pk
    return [
        reverse("setup_index"),
        reverse("setup_locations"),
        reverse("setup_location_new"),
        reverse("setup_location_edit", args=[location.pk]),
        reverse("setup_room_new", args=[location.pk]),
        reverse("setup_rooms"),
        reverse("setup_room_edit", args=[room.pk]),
        reverse("setup_practitioners"),
        reverse("setup_practitioner_new"),
        reverse("setup_practitioner_edit", args=[p]),
        reverse("setup_hours_add", args=[p]),
        reverse("setup_hours_remove", args=[p, block.pk]),
        reverse("setup_exception_add", args=[p]),
        reverse("setup_exception_remove", args=[p, exception.pk]),
        reverse("setup_settings"),
    ]


@pytest.mark.parametrize("who", ["front_desk", "practitioner_user", "patient_user"])
def test_only_the_manager_may_open_or_post_to_any_setup_url(
    request, client_for, location, practitioner, who
):
    client = client_for(request.getfixturevalue(who))
    for url in setup_urls(location, practitioner):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    # Nothing was removed or changed by the refused posts.
    assert WorkingHours.objects.count() == 1
    assert WorkingHoursException.objects.count() == 1
    assert not audited("setup.location_saved").exists()


def test_manager_opens_every_setup_page(manager_client, location, practitioner):
    for url in setup_urls(location, practitioner):
        if "/remove/" in url or url.endswith(("/hours/", "/exceptions/")):
            assert manager_client.get(url).status_code == 405, url
        else:
            assert manager_client.get(url).status_code == 200, url


def test_the_managers_nav_leads_to_the_setup_page(manager_client):
    response = manager_client.get(reverse("setup_index"))
    assert f'href="{reverse("setup_index")}"' in response.content.decode()
    assert reverse("treatment_sessions:setup_types") in response.content.decode()
    assert b'href="/admin/"' in response.content  # the admin is still a click away


# --- Locations and rooms ------------------------------------------------------------------


def test_manager_adds_and_edits_a_location(manager_client, manager):
    response = manager_client.post(reverse("setup_location_new"), NEW_LOCATION)
    assert response.status_code == 302
    location = Location.objects.get(code="PAR")
    assert location.time_zone == "Europe/Paris"
    assert audited("setup.location_saved").filter(
        object_id=str(location.pk), actor=manager, detail__created=True
    )

    edited = {**NEW_LOCATION, "name": "Saint-Germain", "time_zone": "Europe/Brussels"}
    del edited["is_active"]
    response = manager_client.post(reverse("setup_location_edit", args=[location.pk]), edited)
    assert response.status_code == 302
    location.refresh_from_db()
    assert (location.name, location.time_zone, location.is_active) == (
        "Saint-Germain",
        "Europe/Brussels",
        False,
    )
    event = audited("setup.location_saved").get(detail__created=False)
    assert set(event.detail["changed"]) == {"name", "time_zone", "is_active"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus_Mons", "Mars/Olympus_Mons is not a known time zone."),
        ("code", "P A R", "Enter a valid"),
        ("name", "", "This field is required."),
    ],
)
def test_bad_location_input_is_shown_at_the_field_and_nothing_is_saved(
    manager_client, field, value, message
):
    response = manager_client.post(reverse("setup_location_new"), {**NEW_LOCATION, field: value})
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field])
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not Location.objects.exists()
    assert not audited("setup.location_saved").exists()


def test_manager_adds_and_renames_a_room(manager_client, location):
    response = manager_client.post(
        reverse("setup_room_new", args=[location.pk]), {"name": "Room 1", "is_active": "on"}
    )
    assert response.status_code == 302
    room = Room.objects.get(location=location)
    response = manager_client.post(reverse("setup_room_edit", args=[room.pk]), {"name": "Blue"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.name, room.is_active) == ("Blue", False)
    assert audited("setup.room_saved").count() == 2


def test_a_second_room_with_the_same_name_is_refused_at_the_name(manager_client, location):
    Room.objects.create(location=location, name="Room 1")
    response = manager_client.post(
        reverse("setup_room_new", args=[location.pk]), {"name": "room 1", "is_active": "on"}
    )
    assert response.status_code == 400
    assert "already has a room called" in response.context["form"].errors["name"][0]
    assert Room.objects.count() == 1


# --- Practitioners --------------------------------------------------------------------------


def practitioner_post(location, user, **overrides):
    data = {
        "display_name": "Noor Haddad",
        "title": "Dr",
        "user": user.pk,
        "colour": "#aa3366",
        "locations": [location.pk],
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_manager_adds_a_practitioner_linked_to_a_practitioner_login(
    manager_client, location, manager
):
    login = make_user(Role.PRACTITIONER, "noor@test.clinic", "Noor Haddad")
    page = manager_client.get(reverse("setup_practitioner_new"))
    assert list(page.context["form"].fields["user"].queryset) == [login]

    response = manager_client.post(
        reverse("setup_practitioner_new"), practitioner_post(location, login)
    )
    practitioner = Practitioner.objects.get(user=login)
    assert response.status_code == 302
    assert response["Location"] == reverse("setup_practitioner_edit", args=[practitioner.pk])
    assert list(practitioner.locations.all()) == [location]
    assert practitioner.colour == "#aa3366"
    assert audited("setup.practitioner_saved").filter(object_id=str(practitioner.pk), actor=manager)


def test_a_login_without_the_practitioner_role_cannot_be_linked(
    manager_client, location, front_desk
):
    response = manager_client.post(
        reverse("setup_practitioner_new"), practitioner_post(location, front_desk)
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.context["form"].errors["user"][0]
    assert not Practitioner.objects.exists()


def test_manager_edits_a_practitioner(manager_client, practitioner, location):
    other = Location.objects.create(name="Brooklyn", code="BKN", time_zone="America/New_York")
    url = reverse("setup_practitioner_edit", args=[practitioner.pk])
    response = manager_client.post(
        url,
        practitioner_post(
            location,
            practitioner.user,
            display_name="Pia Rossi",
            locations=[location.pk, other.pk],
        ),
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Pia Rossi"
    assert set(practitioner.locations.all()) == {location, other}
    event = audited("setup.practitioner_saved").get()
    assert set(event.detail["changed"]) == {"display_name", "colour", "locations"}


def test_a_location_with_weekly_hours_cannot_be_taken_from_a_practitioner(
    manager_client, practitioner, location
):
    other = Location.objects.create(name="Brooklyn", code="BKN", time_zone="America/New_York")
    practitioner.locations.add(other)
    WorkingHours.objects.create(
        practitioner=practitioner, location=other, weekday=2, starts_at=time(9), ends_at=time(17)
    )
    response = manager_client.post(
        reverse("setup_practitioner_edit", args=[practitioner.pk]),
        practitioner_post(location, practitioner.user, display_name="Changed"),
    )
    assert response.status_code == 400
    assert "still has weekly hours at Brooklyn" in response.context["form"].errors["locations"][0]
    practitioner.refresh_from_db()
    assert practitioner.display_name == "Pia"
    assert practitioner.locations.count() == 2


def test_a_practitioner_needs_a_location_and_a_colour(manager_client, practitioner):
    response = manager_client.post(
        reverse("setup_practitioner_edit", args=[practitioner.pk]),
        {"display_name": "Pia", "user": practitioner.user.pk, "colour": "red"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["locations"] == ["Pick at least one location."]
    assert "Pick a colour" in errors["colour"][0]


# --- Weekly hours -----------------------------------------------------------------------------


def add_hours(client, practitioner, location, weekday, start, end):
    return client.post(
        reverse("setup_hours_add", args=[practitioner.pk]),
        {"location": location.pk, "weekday": weekday, "starts_at": start, "ends_at": end},
    )


def test_manager_adds_two_blocks_a_day_with_a_lunch_break(manager_client, practitioner, location):
    assert add_hours(manager_client, practitioner, location, 0, "09:00", "12:30").status_code == 302
    response = add_hours(manager_client, practitioner, location, 0, "13:30", "18:00")
    assert response.status_code == 302
    assert response["Location"].endswith("#hours")
    blocks = WorkingHours.objects.filter(practitioner=practitioner).order_by("starts_at")
    assert [(b.starts_at, b.ends_at) for b in blocks] == [
        (time(9), time(12, 30)),
        (time(13, 30), time(18)),
    ]
    assert audited("setup.working_hours_added").count() == 2
    page = manager_client.get(reverse("setup_practitioner_edit", args=[practitioner.pk]))
    assert "09:00–12:30" in page.content.decode()
    assert "13:30–18:00" in page.content.decode()


def test_an_overlapping_block_is_refused_with_a_clear_message(
    manager_client, practitioner, location
):
    add_hours(manager_client, practitioner, location, 0, "09:00", "12:30")
    response = add_hours(manager_client, practitioner, location, 0, "12:00", "14:00")
    assert response.status_code == 400
    assert response.context["hours_form"].errors["starts_at"] == [
        "This overlaps Monday 09:00–12:30 at Park Avenue."
    ]
    assert "This overlaps Monday 09:00–12:30" in response.content.decode()
    assert WorkingHours.objects.count() == 1
    # The same times on another day are fine.
    assert add_hours(manager_client, practitioner, location, 1, "12:00", "14:00").status_code == 302


def test_a_block_ending_before_it_starts_is_refused_at_until(
    manager_client, practitioner, location
):
    response = add_hours(manager_client, practitioner, location, 0, "12:00", "09:00")
    assert response.status_code == 400
    assert response.context["hours_form"].errors["ends_at"] == [
        "The end must be later than the start."
    ]
    assert not WorkingHours.objects.exists()
    assert not audited("setup.working_hours_added").exists()


def test_hours_only_at_a_location_the_practitioner_works_at(manager_client, practitioner):
    elsewhere = Location.objects.create(name="Elsewhere", code="ELS")
    response = add_hours(manager_client, practitioner, elsewhere, 0, "09:00", "12:00")
    assert response.status_code == 400
    assert "location" in response.context["hours_form"].errors
    assert not WorkingHours.objects.exists()


def test_manager_removes_a_block(manager_client, practitioner, location):
    block = WorkingHours.objects.create(
        practitioner=practitioner, location=location, weekday=4, starts_at=time(9), ends_at=time(13)
    )
    response = manager_client.post(reverse("setup_hours_remove", args=[practitioner.pk, block.pk]))
    assert response.status_code == 302
    assert not WorkingHours.objects.exists()
    event = audited("setup.working_hours_removed").get()
    assert event.detail == {
        "practitioner": practitioner.pk,
        "location": location.pk,
        "weekday": 4,
        "from": "09:00",
        "until": "13:00",
    }


def test_a_block_of_another_practitioner_cannot_be_removed_through_this_one(
    manager_client, practitioner, location
):
    other = Practitioner.objects.create(
        user=make_user(Role.PRACTITIONER, "o@test.clinic"), display_name="Other"
    )
    other.locations.add(location)
    block = WorkingHours.objects.create(
        practitioner=other, location=location, weekday=4, starts_at=time(9), ends_at=time(13)
    )
    response = manager_client.post(reverse("setup_hours_remove", args=[practitioner.pk, block.pk]))
    assert response.status_code == 404
    assert WorkingHours.objects.count() == 1


# --- Exceptions --------------------------------------------------------------------------------


def add_exception(client, practitioner, **data):
    return client.post(reverse("setup_exception_add", args=[practitioner.pk]), data)


def test_manager_adds_a_whole_day_off_and_extra_hours(manager_client, practitioner, location):
    day = tomorrow()
    response = add_exception(
        manager_client, practitioner, kind="time_off", date=day.isoformat(), reason="Congress"
    )
    assert response.status_code == 302
    response = add_exception(
        manager_client,
        practitioner,
        kind="extra_hours",
        date=(day + timedelta(days=1)).isoformat(),
        location=location.pk,
        starts_at="18:00",
        ends_at="20:00",
    )
    assert response.status_code == 302
    off, extra = WorkingHoursException.objects.order_by("date")
    assert off.whole_day and off.location is None and off.reason == "Congress"
    assert (extra.location, extra.starts_at, extra.ends_at) == (location, time(18), time(20))
    assert audited("setup.hours_exception_added").count() == 2
    page = manager_client.get(reverse("setup_practitioner_edit", args=[practitioner.pk]))
    assert list(page.context["exceptions"]) == [off, extra]
    assert "whole day" in page.content.decode()


def test_only_upcoming_exceptions_are_listed(manager_client, practitioner):
    WorkingHoursException.objects.create(
        practitioner=practitioner, kind="time_off", date=timezone.localdate() - timedelta(days=1)
    )
    upcoming = WorkingHoursException.objects.create(
        practitioner=practitioner, kind="time_off", date=timezone.localdate()
    )
    page = manager_client.get(reverse("setup_practitioner_edit", args=[practitioner.pk]))
    assert list(page.context["exceptions"]) == [upcoming]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"kind": "extra_hours", "starts_at": "18:00", "ends_at": "20:00"},
            "location",
            "Extra hours need a location.",
        ),
        (
            {"kind": "time_off", "starts_at": "14:00", "ends_at": "10:00"},
            "ends_at",
            "The end must be later than the start.",
        ),
        (
            {"kind": "time_off", "starts_at": "14:00"},
            "ends_at",
            "Give both times, or neither for the whole day.",
        ),
        ({"kind": "time_off", "date": "2001-01-01"}, "date", "Pick today or a later date."),
    ],
)
def test_bad_exceptions_are_refused_at_the_field(
    manager_client, practitioner, data, field, message
):
    response = add_exception(
        manager_client, practitioner, **{"date": tomorrow().isoformat(), **data}
    )
    assert response.status_code == 400
    assert response.context["exception_form"].errors[field] == [message]
    assert message in response.content.decode()
    assert not WorkingHoursException.objects.exists()
    assert not audited("setup.hours_exception_added").exists()


def test_manager_removes_an_exception(manager_client, practitioner):
    exception = WorkingHoursException.objects.create(
        practitioner=practitioner, kind="time_off", date=tomorrow()
    )
    response = manager_client.post(
        reverse("setup_exception_remove", args=[practitioner.pk, exception.pk])
    )
    assert response.status_code == 302
    assert not WorkingHoursException.objects.exists()
    assert audited("setup.hours_exception_removed").filter(object_id=str(exception.pk)).exists()


# --- Clinic settings -----------------------------------------------------------------------------


SETTINGS = {
    "name": "Clinique Lumière",
    "phone": "+33 1 00 00 00 00",
    "email": "hello@example.com",
    "address": "1 place Vendôme",
    "currency": "eur",
    "cancellation_window_hours": "48",
    "intake_link_valid_days": "14",
    "aftercare_template": "Bruising may last a week. Call us on 01 00 00 00 00 if in doubt.",
}


def test_manager_changes_the_clinic_settings(manager_client, manager):
    response = manager_client.post(reverse("setup_settings"), SETTINGS)
    assert response.status_code == 302
    clinic = ClinicSettings.load()
    assert (clinic.name, clinic.currency, clinic.cancellation_window_hours) == (
        "Clinique Lumière",
        "EUR",
        48,
    )
    assert clinic.aftercare_template.startswith("Bruising may last a week.")
    event = audited("setup.clinic_settings_updated").get(actor=manager)
    assert "currency" in event.detail["changed"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "EURO"),
        ("intake_link_valid_days", "0"),
        ("email", "nope"),
        ("aftercare_template", ""),
    ],
)
def test_bad_settings_are_refused_at_the_field(manager_client, field, value):
    response = manager_client.post(reverse("setup_settings"), {**SETTINGS, field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert ClinicSettings.load().name != "Clinique Lumière"
    assert not audited("setup.clinic_settings_updated").exists()


# --- Lists cost a fixed number of queries -----------------------------------------------------


def test_list_pages_use_a_bounded_number_of_queries(manager_client, django_assert_max_num_queries):
    for i in range(6):
        loc = Location.objects.create(name=f"Site {i}", code=f"S{i}")
        Room.objects.create(location=loc, name="Room A")
        Room.objects.create(location=loc, name="Room B")
        p = Practitioner.objects.create(
            user=make_user(Role.PRACTITIONER, f"p{i}@test.clinic"), display_name=f"P{i}"
        )
        p.locations.add(loc)
        WorkingHours.objects.create(
            practitioner=p, location=loc, weekday=0, starts_at=time(9), ends_at=time(12)
        )
    for name in ("setup_locations", "setup_rooms", "setup_practitioners"):
        with django_assert_max_num_queries(10):
            response = manager_client.get(reverse(name))
        assert response.status_code == 200
    p = Practitioner.objects.first()
    for day in range(1, 6):
        WorkingHours.objects.create(
            practitioner=p, location=loc, weekday=day, starts_at=time(9), ends_at=time(12)
        )
        WorkingHoursException.objects.create(
            practitioner=p, kind="time_off", date=tomorrow() + timedelta(days=day)
        )
    with django_assert_max_num_queries(20):
        response = manager_client.get(reverse("setup_practitioner_edit", args=[p.pk]))
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_blocks_added_at_once_cannot_both_be_saved(manager, practitioner, location):
    """The first add holds the practitioner's row until it commits; the second waits, then
    sees the first block and is refused. Without the lock both would be saved."""
    first_saved, errors = threading.Event(), []

    def add(start, end, hold=0.0):
        try:
            with transaction.atomic():
                services.working_hours_add(
                    actor=manager,
                    practitioner=practitioner,
                    location=location,
                    weekday=2,
                    starts_at=start,
                    ends_at=end,
                )
                first_saved.set()
                time_module.sleep(hold)
        except ApplicationError as exc:
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=add, args=(time(9), time(12), 0.5))
    first.start()
    assert first_saved.wait(5)
    second = threading.Thread(target=add, args=(time(11), time(13)))
    second.start()
    first.join()
    second.join()
    assert WorkingHours.objects.filter(practitioner=practitioner).count() == 1
    assert len(errors) == 1 and errors[0].field == "starts_at"
