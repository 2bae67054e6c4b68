"""The suite's clock: one place that decides what "now" is for every test.

- ``TEST_CLOCK=2027-11-07T04:40:00Z make test`` starts the wall clock of the whole run at that
  moment; it ticks on from there. Without it the suite runs on the real clock. Either way the
  header of the run says which moment it started at.
- A test that names a calendar date as past or future pins the clock with time-machine's marker,
  ``@pytest.mark.time_machine(moment, tick=False)`` (or ``pytestmark = ...`` for a module), or
  moves it inside the test with the ``time_machine`` fixture (``time_machine.move_to(...)``,
  ``time_machine.shift(...)``). The ``frozen_now`` fixture freezes "now" where the test is
  (inside TEST_CLOCK's moment) for tests that only need a still clock.
- Helpers here build dates from "now" in the clinic's zone for tests that need "a weekday in
  the coming weeks" without naming one.
- Processes a test starts (a Celery worker) get the same clock through libfaketime
  (``clock_env()``), and browser contexts through Playwright's clock (``tests/e2e/conftest.py``).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from glob import glob
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

ENV_NAME = "TEST_CLOCK"
NEW_YORK = ZoneInfo("America/New_York")


def _suite_start() -> datetime | None:
    value = os.environ.get(ENV_NAME, "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"{ENV_NAME}={value!r} is not an ISO 8601 moment (e.g. 2027-11-07T04:40:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise pytest.UsageError(
            f"{ENV_NAME}={value!r} needs an offset or Z: a moment, not a wall-clock time"
        )
    return moment


_traveller = None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _traveller
    moment = _suite_start()
    if moment is not None and _traveller is None:
        _traveller = time_machine.travel(moment, tick=True)
        _traveller.start()


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


def pytest_report_header(config):
    moment = _suite_start()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if moment is None:
        return f"test clock: the real clock, starting {started} ({ENV_NAME} not set)"
    return f"test clock: {ENV_NAME}={moment.isoformat()} (the clock starts there and ticks on)"


def clock_offset_seconds() -> float:
    """How far the suite's clock is from the machine's, in seconds (0 on the real clock)."""
    if not time_machine.escape_hatch.is_travelling():
        return 0.0
    return time.time() - time_machine.escape_hatch.time.time()


def _libfaketime() -> str | None:
    found = sorted(glob("/usr/lib/*/faketime/libfaketime.so.1"))
    return found[0] if found else None


def clock_env() -> dict[str, str]:
    """Environment for a subprocess so that its clock reads what the suite's reads.

    Empty on the real clock. Otherwise libfaketime shifts the child's wall clock by the
    suite's offset. (libfaketime shifts the monotonic clock by the same amount: its sleep
    fails when told to leave that one alone.)"""
    offset = clock_offset_seconds()
    if abs(offset) < 1:
        return {}
    library = _libfaketime()
    if library is None:
        pytest.fail(
            f"{ENV_NAME} moves the clock but libfaketime is missing: apt-get install libfaketime"
        )
    return {
        "LD_PRELOAD": library,
        "FAKETIME": f"{round(offset):+d}",
    }


@pytest.fixture
def frozen_now(time_machine) -> datetime:
    """Stop the clock where it is (TEST_CLOCK's moment, or the real one) for this test."""
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    return now


@pytest.fixture
def today_at(time_machine):
    """``today_at(15)`` moves the clock to 15:00 (in New York unless ``zone=``) on the suite's
    current day and returns that moment: the date still comes from TEST_CLOCK, the hour is
    the one the test needs (a visit that has started, a reminder outside quiet hours)."""

    def move(hour: int, minute: int = 0, *, zone: ZoneInfo = NEW_YORK, tick: bool = True):
        moment = local_moment(timezone.localdate(timezone=zone), hour, minute, zone=zone)
        time_machine.move_to(moment, tick=tick)
        return moment

    return move


def clinic_today(zone: ZoneInfo = NEW_YORK) -> date:
    """Today at the clinic (New York unless told): the machine's own date may differ."""
    return timezone.localdate(timezone=zone)


def next_weekday(weekday: int, *, after: date | None = None, zone: ZoneInfo) -> date:
    """The first ``weekday`` (Monday is 0) strictly after ``after`` (default: today in ``zone``)."""
    day = after or timezone.localdate(timezone=zone)
    return day + timedelta(days=(weekday - day.weekday() - 1) % 7 + 1)


def local_moment(day: date, hour: int, minute: int = 0, *, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), tzinfo=zone)
