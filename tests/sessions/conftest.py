from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from clinic.models import Location, Practitioner, Room, WorkingHours
from sessions.models import AppointmentType
from sessions.services import appointment_book

NEW_YORK = ZoneInfo("America/New_York")
LUNCH = datetime(2026, 12, 1, 12, 30, tzinfo=NEW_YORK)


def give_hours(practitioner, location, weekdays=range(6), start=time(8), end=time(19)):
    """Working hours Monday to Saturday 08:00-19:00 unless told otherwise."""
    practitioner.locations.add(location)
    for weekday in weekdays:
        WorkingHours.objects.create(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            starts_at=start,
            ends_at=end,
        )


@pytest.fixture
def clinic_setup(roles, practitioner_user):
    location = Location.objects.create(name="Park Avenue", code="NYC", time_zone="America/New_York")
    room = Room.objects.create(location=location, name="Room 1")
    practitioner = Practitioner.objects.create(
        user=practitioner_user, display_name="Pia", title="Dr"
    )
    give_hours(practitioner, location)
    session = AppointmentType.objects.create(
        name="Treatment session", kind="treatment", duration_minutes=30, buffer_after_minutes=10
    )
    return {"location": location, "room": room, "practitioner": practitioner, "type": session}


def book(setup, actor, patient, start, **overrides):
    kwargs = {
        "actor": actor,
        "patient": patient,
        "practitioner": setup["practitioner"],
        "location": setup["location"],
        "appointment_type": setup["type"],
        "room": setup["room"],
        "starts_at": start,
    }
    kwargs.update(overrides)
    return appointment_book(**kwargs)


# A fixed "now" well before the December 2026 bookings (LUNCH is Tuesday 1 December), for
# services that take ``now=`` and as the pinned clock of modules that name those dates.
BEFORE_BOOKINGS = datetime(2026, 11, 1, 9, 0, tzinfo=NEW_YORK)
# ``pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]``: the clock starts at
# BEFORE_BOOKINGS for each test of the module, whatever the date or TEST_CLOCK.
BEFORE_THE_BOOKINGS = pytest.mark.time_machine(BEFORE_BOOKINGS, tick=True)


@pytest.fixture
def second_practitioner(clinic_setup, manager):
    """Dr Max, who also works at the clinic Mon-Sat 08:00-19:00 (his login is the manager's)."""
    other = Practitioner.objects.create(user=manager, display_name="Max", title="Dr")
    give_hours(other, clinic_setup["location"])
    return other
