"""The reminder policy: when each reminder goes out, quiet hours in the location's own time
zone (across zones and daylight-saving changes), and what planning writes for a booking."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.models import Location, Room
from sessions.messaging.schedule import quiet_period_end, reminder_deadline, send_time
from sessions.messaging.services import reminder_policy_update
from sessions.models import MessageChannel, OutboundMessage, ReminderPolicy, ReminderRule
from tests.fixtures.messaging import at, consenting_patient, future_day, rows_of
from tests.fixtures.scheduling import NEW_YORK, book, give_hours

PARIS = ZoneInfo("Europe/Paris")
TOKYO = ZoneInfo("Asia/Tokyo")
NINE_PM, EIGHT_AM = time(21), time(8)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def policy(**overrides):
    """An unsaved policy with the defaults (quiet 21:00-08:00, SMS only, 60 min notice)."""
    return ReminderPolicy(**overrides)


# -- quiet hours, pure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2026, 12, 1, 22, 30), datetime(2026, 12, 2, 8, 0)),  # evening: next morning
        (datetime(2026, 12, 1, 21, 0), datetime(2026, 12, 2, 8, 0)),  # from 21:00 exactly
        (datetime(2026, 12, 1, 7, 59), datetime(2026, 12, 1, 8, 0)),  # early: this morning
        (datetime(2026, 12, 1, 0, 0), datetime(2026, 12, 1, 8, 0)),
        (datetime(2026, 12, 1, 8, 0), None),  # until 08:00, not including it
        (datetime(2026, 12, 1, 20, 59), None),
        (datetime(2026, 12, 1, 12, 0), None),
    ],
)
def test_quiet_hours_over_midnight_end_at_the_next_eight_am(local, expected):
    found = quiet_period_end(local.replace(tzinfo=NEW_YORK), NEW_YORK, NINE_PM, EIGHT_AM)
    assert found == (expected.replace(tzinfo=NEW_YORK) if expected else None)


def test_quiet_hours_within_one_day_and_none_when_start_equals_end():
    lunch = datetime(2026, 12, 1, 12, 30, tzinfo=PARIS)
    assert quiet_period_end(lunch, PARIS, time(12), time(14)) == datetime(
        2026, 12, 1, 14, 0, tzinfo=PARIS
    )
    assert quiet_period_end(lunch, PARIS, time(14), time(16)) is None
    assert quiet_period_end(lunch, PARIS, time(8), time(8)) is None


def test_one_instant_is_quiet_in_one_zone_and_not_in_another():
    # 13:00 UTC is 08:00 in New York (quiet hours just over), 14:00 in Paris, 22:00 in Tokyo.
    instant = utc(2026, 12, 1, 13, 0)
    assert quiet_period_end(instant, NEW_YORK, NINE_PM, EIGHT_AM) is None
    assert quiet_period_end(instant, PARIS, NINE_PM, EIGHT_AM) is None
    assert quiet_period_end(instant, TOKYO, NINE_PM, EIGHT_AM) == utc(2026, 12, 1, 23, 0)
    # Two hours earlier it is 06:00 in New York: released at 08:00 New York = 13:00 UTC.
    assert quiet_period_end(utc(2026, 12, 1, 11, 0), NEW_YORK, NINE_PM, EIGHT_AM) == instant


def test_quiet_hours_end_at_eight_local_on_the_day_the_clocks_go_forward():
    # New York springs forward on Sunday 8 March 2026 at 02:00 (EST -5 -> EDT -4). 07:00 EDT
    # that morning is quiet; 08:00 EDT is 12:00 UTC, an hour earlier in UTC than the day before.
    seven = datetime(2026, 3, 8, 7, 0, tzinfo=NEW_YORK)
    assert seven.utcoffset() == timedelta(hours=-4)
    assert quiet_period_end(seven, NEW_YORK, NINE_PM, EIGHT_AM) == utc(2026, 3, 8, 12, 0)
    saturday = datetime(2026, 3, 7, 7, 0, tzinfo=NEW_YORK)
    assert quiet_period_end(saturday, NEW_YORK, NINE_PM, EIGHT_AM) == utc(2026, 3, 7, 13, 0)
    # A quiet night that spans the change: 22:00 EST on Saturday lasts until 08:00 EDT.
    night = datetime(2026, 3, 7, 22, 0, tzinfo=NEW_YORK)
    assert quiet_period_end(night, NEW_YORK, NINE_PM, EIGHT_AM) == utc(2026, 3, 8, 12, 0)


def test_quiet_hours_across_the_night_the_clocks_go_back():
    # New York falls back on Sunday 1 November 2026 at 02:00 EDT -> 01:00 EST. 01:30 happens
    # twice; both are quiet and end at 08:00 EST = 13:00 UTC.
    first = utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    second = utc(2026, 11, 1, 6, 30)  # 01:30 EST
    assert first.astimezone(NEW_YORK).time() == second.astimezone(NEW_YORK).time()
    for instant in (first, second):
        assert quiet_period_end(instant, NEW_YORK, NINE_PM, EIGHT_AM) == utc(2026, 11, 1, 13, 0)


def test_a_quiet_hours_end_that_the_clocks_skip_is_read_after_the_jump():
    # 02:30 does not exist in New York on 8 March 2026: quiet hours "until 02:30" end at the
    # same distance after the jump (03:30 EDT), never before it.
    one_am = datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK)
    end = quiet_period_end(one_am, NEW_YORK, time(21), time(2, 30))
    assert end == utc(2026, 3, 8, 7, 30)
    assert end.astimezone(NEW_YORK).time() == time(3, 30)


def test_paris_changes_its_clocks_on_another_weekend_than_new_york():
    # 29 March 2026: Paris springs forward; 07:30 CEST is quiet until 08:00 CEST = 06:00 UTC.
    morning = datetime(2026, 3, 29, 7, 30, tzinfo=PARIS)
    assert quiet_period_end(morning, PARIS, NINE_PM, EIGHT_AM) == utc(2026, 3, 29, 6, 0)


# -- send time ------------------------------------------------------------------------------------


def test_sms_due_in_quiet_hours_waits_and_email_does_not():
    due = datetime(2026, 12, 1, 6, 30, tzinfo=NEW_YORK)
    start = datetime(2026, 12, 1, 10, 0, tzinfo=NEW_YORK)
    deadline = reminder_deadline(start, policy())
    sms = send_time(due, channel="sms", policy=policy(), zone=NEW_YORK, deadline=deadline)
    assert (sms.at, sms.deferred) == (datetime(2026, 12, 1, 8, 0, tzinfo=NEW_YORK), True)
    email = send_time(due, channel="email", policy=policy(), zone=NEW_YORK, deadline=deadline)
    assert (email.at, email.deferred) == (due, False)
    strict = policy(quiet_hours_for_email=True)
    assert send_time(due, channel="email", policy=strict, zone=NEW_YORK).at == sms.at


def test_a_reminder_that_could_only_go_out_too_close_to_the_visit_is_skipped():
    start = datetime(2026, 12, 1, 8, 30, tzinfo=NEW_YORK)
    due = start - timedelta(hours=2)  # 06:30, quiet; 08:00 is 30 min before, under 60
    found = send_time(
        due,
        channel="sms",
        policy=policy(),
        zone=NEW_YORK,
        deadline=reminder_deadline(start, policy()),
    )
    assert found.at is None
    assert "quiet hours" in found.skip_reason
    relaxed = policy(minimum_notice_minutes=15)
    assert send_time(
        due, channel="sms", policy=relaxed, zone=NEW_YORK, deadline=start - timedelta(minutes=15)
    ).at == datetime(2026, 12, 1, 8, 0, tzinfo=NEW_YORK)


def test_two_hour_sms_on_the_morning_the_clocks_go_forward():
    # 09:00 EDT on 8 March 2026: due 07:00 EDT (quiet), goes out at 08:00 EDT = 12:00 UTC.
    start = datetime(2026, 3, 8, 9, 0, tzinfo=NEW_YORK)
    found = send_time(
        start - timedelta(hours=2),
        channel="sms",
        policy=policy(),
        zone=NEW_YORK,
        deadline=reminder_deadline(start, policy()),
    )
    assert found.at == utc(2026, 3, 8, 12, 0)


def test_two_hour_sms_on_the_morning_the_clocks_go_back_is_skipped():
    # 08:30 EST on 1 November 2026; two real hours before is 06:30 EST (quiet); 08:00 would
    # leave 30 minutes, under the hour of notice.
    start = datetime(2026, 11, 1, 8, 30, tzinfo=NEW_YORK)
    found = send_time(
        start - timedelta(hours=2),
        channel="sms",
        policy=policy(),
        zone=NEW_YORK,
        deadline=reminder_deadline(start, policy()),
    )
    assert found.at is None


# -- planning when booking (database) -------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_booking_plans_the_default_reminders(clinic_setup, front_desk, messaging):
    start = at(future_day(weekday=1), 12, 30)
    appointment = book(clinic_setup, front_desk, consenting_patient(), start)
    planned = rows_of(appointment)
    assert [(m.channel, m.hours_before, m.scheduled_for) for m in planned] == [
        ("email", 48, start - timedelta(hours=48)),
        ("sms", 24, start - timedelta(hours=24)),
        ("sms", 2, start - timedelta(hours=2)),
    ]
    assert {m.status for m in planned} == {"scheduled"}
    assert all(m.kind == "reminder" and m.for_starts_at == start for m in planned)
    assert all(m.next_attempt_at == m.scheduled_for for m in planned)


def test_reminders_already_past_when_booking_are_not_planned(
    clinic_setup, front_desk, messaging, today_at
):
    # Booked at 10:00 for 16:00 tomorrow: the 48-hour reminder is already past, the 24-hour
    # one and the two-hour SMS (14:00 tomorrow) are ahead and outside the quiet hours.
    start = today_at(10, tick=False) + timedelta(hours=30)
    appointment = book(
        clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True
    )
    assert [m.hours_before for m in rows_of(appointment)] == [24, 2]


def test_an_early_appointment_defers_or_skips_its_sms(clinic_setup, front_desk, messaging):
    day = future_day(weekday=2)
    nine = book(clinic_setup, front_desk, consenting_patient(), at(day, 9))
    two_hours = rows_of(nine, hours_before=2)[0]
    assert two_hours.scheduled_for == at(day, 8)
    assert two_hours.status == "scheduled" and "quiet hours" in two_hours.status_reason

    half_eight = book(clinic_setup, front_desk, consenting_patient(), at(day + timedelta(1), 8, 30))
    skipped = rows_of(half_eight, hours_before=2)[0]
    assert skipped.status == "skipped"
    assert "quiet hours" in skipped.status_reason
    # The email two days before at 08:30 is not held by quiet hours.
    assert rows_of(half_eight, channel="email")[0].status == "scheduled"


def test_quiet_hours_follow_the_location_time_zone(clinic_setup, front_desk, messaging):
    tokyo = Location.objects.create(name="Ginza", code="TYO", time_zone="Asia/Tokyo")
    room = Room.objects.create(location=tokyo, name="Tokyo 1")
    give_hours(clinic_setup["practitioner"], tokyo)
    day = future_day(weekday=3, zone=TOKYO)
    start = at(day, 9, zone=TOKYO)
    appointment = book(
        clinic_setup, front_desk, consenting_patient(), start, location=tokyo, room=room
    )
    two_hours = rows_of(appointment, hours_before=2)[0]
    assert two_hours.scheduled_for == at(day, 8, zone=TOKYO)  # 08:00 in Tokyo, not New York


def test_two_hour_sms_on_the_day_the_clocks_go_forward(clinic_setup, front_desk, messaging):
    from django.utils import timezone

    # The second Sunday of March of next year: New York springs forward at 02:00.
    year = timezone.now().year + 1
    march = datetime(year, 3, 8).date()
    sunday = march + timedelta(days=(6 - march.weekday()) % 7)
    start = at(sunday, 9)
    assert start.utcoffset() == timedelta(hours=-4)
    appointment = book(
        clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True
    )
    by_hours = {m.hours_before: m for m in rows_of(appointment)}
    # 08:00 local on the day of the change: 12:00 UTC.
    assert by_hours[2].scheduled_for == datetime.combine(sunday, time(12), tzinfo=UTC)
    # 24 and 48 real hours before: the Saturday and Friday at 08:00 EST, wall clock one hour
    # earlier than the appointment since the clocks moved in between.
    assert by_hours[24].scheduled_for.astimezone(NEW_YORK).time() == time(8)
    assert by_hours[48].scheduled_for.astimezone(NEW_YORK).time() == time(8)


def test_policy_change_replans_upcoming_reminders_and_keeps_the_unchanged_ones(
    clinic_setup, front_desk, manager, messaging
):
    day = future_day(weekday=2)
    early = book(clinic_setup, front_desk, consenting_patient(), at(day, 8, 30))
    email_before = rows_of(early, channel="email")[0]
    assert rows_of(early, hours_before=2)[0].status == "skipped"

    reminder_policy_update(
        actor=manager,
        data={"quiet_hours_start": time(22), "quiet_hours_end": time(6)},
        rules=[
            {"channel": "email", "hours_before": 48, "is_active": True},
            {"channel": "sms", "hours_before": 2, "is_active": True},
            {"channel": "sms", "hours_before": 3, "is_active": False},
        ],
    )
    live = rows_of(early, status__in=["scheduled", "skipped"])
    assert [(m.channel, m.hours_before, m.status) for m in live] == [
        ("email", 48, "scheduled"),
        ("sms", 2, "scheduled"),  # 06:30 is no longer quiet
    ]
    assert live[0].pk == email_before.pk  # unchanged, kept as it was
    withdrawn = rows_of(early, status="void")
    assert {m.hours_before for m in withdrawn} == {24, 2}
    assert all(m.status_reason == "The reminder policy changed." for m in withdrawn)
    assert set(ReminderRule.objects.values_list("channel", "hours_before", "is_active")) == {
        ("email", 48, True),
        ("sms", 2, True),
        ("sms", 3, False),
    }


def test_removing_every_rule_plans_no_reminders(clinic_setup, front_desk, manager, messaging):
    reminder_policy_update(actor=manager, data={}, rules=[])
    assert ReminderPolicy.load() and not ReminderRule.objects.exists()
    appointment = book(clinic_setup, front_desk, consenting_patient(), at(future_day(), 12))
    assert not OutboundMessage.objects.filter(appointment=appointment).exists()


def test_duplicate_rules_are_refused(manager, messaging):
    from clinic.errors import ApplicationError

    rule = {"channel": MessageChannel.SMS, "hours_before": 24}
    with pytest.raises(ApplicationError) as refused:
        reminder_policy_update(actor=manager, data={}, rules=[rule, rule])
    assert refused.value.field == "rules.1.hours_before"
