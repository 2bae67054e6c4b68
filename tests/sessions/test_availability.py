from datetime import date, datetime, time, timedelta

import pytest

from clinic.errors import ApplicationError
from clinic.models import Practitioner, Room, WorkingHoursException
from sessions.models import Appointment, AppointmentType
from sessions.selectors import appointments_in_range, available_slots, location_day
from tests.factories import PatientFactory
from tests.fixtures.scheduling import (
    BEFORE_BOOKINGS,
    BEFORE_THE_BOOKINGS,
    LUNCH,
    NEW_YORK,
    book,
    give_hours,
)

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]

TUESDAY = date(2026, 12, 1)
SUNDAY = date(2026, 12, 6)


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def slots_on(setup, day, *, last_day=None, now=BEFORE_BOOKINGS, **kwargs):
    kwargs.setdefault("practitioner", setup["practitioner"])
    found, _diary = available_slots(
        appointment_type=kwargs.pop("appointment_type", setup["type"]),
        location=setup["location"],
        first_day=day,
        last_day=last_day or day,
        now=now,
        **kwargs,
    )
    return found


def local_starts(slots):
    return [s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in slots]


def test_slots_follow_the_weekly_hours(clinic_setup):
    found = local_starts(slots_on(clinic_setup, TUESDAY))
    assert found[0] == "08:00"
    assert found[-1] == "18:30"  # the last 30 minutes that end by 19:00
    assert len(found) == 43
    assert slots_on(clinic_setup, SUNDAY) == []  # not a working day


def test_every_slot_lasts_the_type_and_gets_the_room(clinic_setup):
    for slot in slots_on(clinic_setup, TUESDAY):
        assert slot.end - slot.start == timedelta(minutes=30)
        assert slot.room_id == clinic_setup["room"].pk
        assert slot.practitioner_id == clinic_setup["practitioner"].pk


def test_several_blocks_in_one_day_leave_the_lunch_break_free(clinic_setup, manager):
    split = Practitioner.objects.create(user=manager, display_name="Split")
    give_hours(split, clinic_setup["location"], weekdays=[1], start=time(8), end=time(12))
    give_hours(split, clinic_setup["location"], weekdays=[1], start=time(14), end=time(18))
    found = local_starts(slots_on(clinic_setup, TUESDAY, practitioner=split, step_minutes=30))
    assert found == [
        "08:00",
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
        "17:00",
        "17:30",
    ]


def test_a_whole_day_off_leaves_no_slot(clinic_setup):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"], date=TUESDAY, kind="time_off", reason="Leave"
    )
    assert slots_on(clinic_setup, TUESDAY) == []
    assert slots_on(clinic_setup, TUESDAY + timedelta(days=1))  # only that day


def test_a_partial_time_off_removes_only_those_hours(clinic_setup):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        date=TUESDAY,
        kind="time_off",
        starts_at=time(12),
        ends_at=time(14),
    )
    found = local_starts(slots_on(clinic_setup, TUESDAY))
    assert "11:30" in found  # ends at 12:00
    assert "11:45" not in found and "12:00" not in found and "13:45" not in found
    assert "14:00" in found


def test_time_off_at_another_location_does_not_count_here(clinic_setup):
    from clinic.models import Location

    elsewhere = Location.objects.create(name="Elsewhere", code="ELS")
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"], location=elsewhere, date=TUESDAY, kind="time_off"
    )
    assert len(slots_on(clinic_setup, TUESDAY)) == 43


def test_extra_hours_open_a_day_off(clinic_setup):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        date=SUNDAY,
        kind="extra_hours",
        starts_at=time(10),
        ends_at=time(12),
    )
    found = local_starts(slots_on(clinic_setup, SUNDAY, step_minutes=30))
    assert found == ["10:00", "10:30", "11:00", "11:30"]


def test_extra_hours_extend_a_working_day(clinic_setup):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        date=TUESDAY,
        kind="extra_hours",
        starts_at=time(19),
        ends_at=time(20),
    )
    found = local_starts(slots_on(clinic_setup, TUESDAY, step_minutes=30))
    assert found[-3:] == ["18:30", "19:00", "19:30"]


def test_an_appointment_and_both_buffers_hold_the_practitioner(clinic_setup, front_desk):
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)  # 12:30-13:00, held to 13:10
    found = local_starts(slots_on(clinic_setup, TUESDAY, step_minutes=5))
    # A new 30-minute session needs its own 10 minutes after it before 12:30.
    assert "11:50" in found and "11:55" not in found
    assert not any("12:00" <= t < "13:10" for t in found)
    assert "13:10" in found


def test_a_cancelled_appointment_frees_its_slot(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    assert "12:30" not in local_starts(slots_on(clinic_setup, TUESDAY))
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
    assert "12:30" in local_starts(slots_on(clinic_setup, TUESDAY))


def test_a_busy_room_hides_the_slot_for_every_practitioner(
    clinic_setup, second_practitioner, front_desk
):
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)  # Dr Pia in Room 1
    found = slots_on(clinic_setup, TUESDAY, practitioner=second_practitioner)
    assert "12:30" not in local_starts(found)  # the only room is taken
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    found = slots_on(clinic_setup, TUESDAY, practitioner=second_practitioner)
    at_lunch = [s for s in found if s.start == LUNCH]
    assert [s.room_id for s in at_lunch] == [room2.pk]


def test_a_type_without_a_room_ignores_room_occupancy(
    clinic_setup, second_practitioner, front_desk
):
    follow_up = AppointmentType.objects.create(
        name="Phone follow-up", kind="follow_up", duration_minutes=15, needs_room=False
    )
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    found = slots_on(
        clinic_setup, TUESDAY, practitioner=second_practitioner, appointment_type=follow_up
    )
    at_lunch = [s for s in found if s.start == LUNCH]
    assert len(at_lunch) == 1 and at_lunch[0].room_id is None


def test_all_practitioners_are_offered_when_none_is_given(
    clinic_setup, second_practitioner, front_desk
):
    Room.objects.create(location=clinic_setup["location"], name="Room 2")
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    found = slots_on(clinic_setup, TUESDAY, practitioner=None)
    at_lunch = [s for s in found if s.start == LUNCH]
    assert [s.practitioner_id for s in at_lunch] == [second_practitioner.pk]
    at_nine = [s for s in found if s.start == local(TUESDAY, 9)]
    assert {s.practitioner_id for s in at_nine} == {
        clinic_setup["practitioner"].pk,
        second_practitioner.pk,
    }
    assert found == sorted(found, key=lambda s: (s.start, s.practitioner_id))


def test_a_given_room_is_the_only_room_offered(clinic_setup, second_practitioner, front_desk):
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    book(
        clinic_setup,
        front_desk,
        PatientFactory(),
        LUNCH,
        practitioner=second_practitioner,
        room=room2,
    )
    found = slots_on(clinic_setup, TUESDAY, room=room2)  # Dr Pia, in Room 2
    assert {s.room_id for s in found} == {room2.pk}
    assert "12:30" not in local_starts(found)  # Room 1 is free, but Room 2 is not


def test_the_patients_own_bookings_elsewhere_hide_the_slot(
    clinic_setup, second_practitioner, front_desk
):
    patient = PatientFactory()
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    book(clinic_setup, front_desk, patient, LUNCH, practitioner=second_practitioner, room=room2)
    assert "12:30" in local_starts(slots_on(clinic_setup, TUESDAY))
    assert "12:30" not in local_starts(slots_on(clinic_setup, TUESDAY, patient=patient))


def test_past_times_are_not_offered(clinic_setup):
    found = local_starts(slots_on(clinic_setup, TUESDAY, now=local(TUESDAY, 12, 5)))
    assert found[0] == "12:15"
    assert slots_on(clinic_setup, TUESDAY, now=local(TUESDAY, 20)) == []


def test_a_range_over_several_days_skips_days_off(clinic_setup):
    found = slots_on(clinic_setup, date(2026, 12, 5), last_day=date(2026, 12, 7), step_minutes=60)
    days = sorted({s.start.astimezone(NEW_YORK).date() for s in found})
    assert days == [date(2026, 12, 5), date(2026, 12, 7)]  # Saturday and Monday, no Sunday


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 12, 10), date(2026, 12, 9)), (date(2026, 12, 1), date(2027, 2, 15))],
)
def test_a_bad_range_is_refused(clinic_setup, first, last):
    with pytest.raises(ApplicationError) as raised:
        available_slots(
            appointment_type=clinic_setup["type"],
            location=clinic_setup["location"],
            first_day=first,
            last_day=last,
        )
    assert raised.value.field == "end"


@pytest.mark.parametrize("how_many", [5, 200])
def test_availability_costs_the_same_few_queries_whatever_is_booked(
    clinic_setup, second_practitioner, front_desk, django_assert_max_num_queries, how_many
):
    patients = [PatientFactory() for _ in range(5)]
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    rows = []
    for n in range(how_many):
        day = date(2026, 12, 1) + timedelta(days=n // 20)
        per_practitioner = (n % 20) // 2
        practitioner = (clinic_setup["practitioner"], second_practitioner)[n % 2]
        start = local(day, 8) + timedelta(minutes=40 * per_practitioner)
        rows.append(
            Appointment(
                patient=patients[n % 2 + 2 * (per_practitioner % 2)],
                practitioner=practitioner,
                location=clinic_setup["location"],
                room=(clinic_setup["room"], room2)[n % 2],
                appointment_type=clinic_setup["type"],
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                blocked_until=start + timedelta(minutes=40),
            )
        )
    Appointment.objects.bulk_create(rows)
    with django_assert_max_num_queries(5):
        found, _diary = available_slots(
            appointment_type=clinic_setup["type"],
            location=clinic_setup["location"],
            first_day=date(2026, 12, 1),
            last_day=date(2026, 12, 31),
            now=BEFORE_BOOKINGS,
        )
    assert found
    assert not {s.start for s in found if s.practitioner_id == rows[0].practitioner_id} & {
        r.starts_at for r in rows if r.practitioner_id == rows[0].practitioner_id
    }


# -- the calendar's reads ----------------------------------------------------------------------


def test_appointments_in_range_returns_overlapping_ones_in_order(clinic_setup, front_desk):
    late = book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=2))
    early = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(days=1))
    found = appointments_in_range(
        front_desk, start=LUNCH + timedelta(minutes=15), end=LUNCH + timedelta(hours=3)
    )
    assert list(found) == [early, late]


def test_appointments_in_range_refuses_bad_ranges(front_desk):
    with pytest.raises(ApplicationError):
        appointments_in_range(front_desk, start=LUNCH, end=LUNCH)
    with pytest.raises(ApplicationError):
        appointments_in_range(front_desk, start=LUNCH, end=LUNCH + timedelta(days=63))


def test_a_patient_sees_only_their_own_appointments_in_a_range(
    clinic_setup, front_desk, patient_user
):
    mine = book(clinic_setup, front_desk, PatientFactory(portal_user=patient_user), LUNCH)
    book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=1))
    found = appointments_in_range(patient_user, start=LUNCH, end=LUNCH + timedelta(days=1))
    assert list(found) == [mine]


def test_the_location_day_is_the_local_day(clinic_setup, front_desk):
    # 19:30 local on 1 December is already 2 December in UTC.
    evening = book(
        clinic_setup,
        front_desk,
        PatientFactory(),
        local(TUESDAY, 18, 30),
    )
    next_morning = book(
        clinic_setup, front_desk, PatientFactory(), local(TUESDAY, 8) + timedelta(1)
    )
    day = location_day(front_desk, location=clinic_setup["location"], day=TUESDAY)
    assert day == [evening]
    assert day[0].alerts == []
    assert location_day(
        front_desk, location=clinic_setup["location"], day=TUESDAY + timedelta(1)
    ) == [next_morning]
