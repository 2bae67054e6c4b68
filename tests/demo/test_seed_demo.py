"""`make run` builds the demo clinic with seed_demo on whatever day and at whatever hour it is
started: a weekday or a weekend, the nights the clocks change in New York, New Year's Eve,
29 February; early morning, noon and late evening. Each run must keep the demo's promises."""

from datetime import date, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from patients.models import IntakeInvitation, Patient
from sessions.models import Appointment, AppointmentStatus, PortalRequest

NEW_YORK = ZoneInfo("America/New_York")

DAYS = {
    "monday": date(2027, 6, 7),
    "tuesday": date(2027, 6, 8),
    "wednesday": date(2027, 6, 9),
    "thursday": date(2027, 6, 10),
    "friday": date(2027, 6, 11),
    "saturday": date(2027, 6, 12),
    "sunday": date(2027, 6, 13),
    "clocks-forward": date(2027, 3, 14),
    "clocks-back": date(2027, 11, 7),
    "new-years-eve": date(2027, 12, 31),
    "leap-day": date(2028, 2, 29),
}
HOURS = {"03:00": time(3, 0), "12:00": time(12, 0), "23:30": time(23, 30)}


@pytest.fixture
def _seed(settings, django_capture_on_commit_callbacks):
    """Run seed_demo as `make run` does (DEBUG on), with the emails it sends after commit."""

    def run():
        settings.DEBUG = True
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=StringIO())

    return run


@pytest.mark.parametrize("hour", HOURS.values(), ids=HOURS.keys())
@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
def test_the_demo_clinic_is_built_on_any_day_at_any_hour(roles, settings, _seed, day, hour):
    settings.SITE_URL = "http://127.0.0.1:8123"
    moment = datetime.combine(day, hour, tzinfo=NEW_YORK)
    with time_machine.travel(moment, tick=False):
        _seed()
        now = moment

        me = Patient.objects.get(email="patient@demo.clinic")
        mine = Appointment.objects.filter(patient=me, course__isnull=False)
        assert mine.filter(status=AppointmentStatus.COMPLETED).exists()
        upcoming = mine.filter(starts_at__gt=now, status=AppointmentStatus.BOOKED)
        assert upcoming.exists(), "patient@demo.clinic is mid-course with sessions ahead"
        assert PortalRequest.objects.filter(
            patient=me, kind=PortalRequest.Kind.RESCHEDULE, handled_at__isnull=True
        ).exists(), "a reschedule request waits in front desk's inbox"

        assert Appointment.objects.filter(
            status=AppointmentStatus.NO_SHOW, starts_at__lt=now
        ).exists(), "one course has a missed session"
        new_consultations = Appointment.objects.filter(
            appointment_type__kind="consultation", starts_at__gt=now, course__isnull=True
        )
        assert new_consultations.count() == 6
        # Nothing booked that should have happened by now is still waiting.
        assert not Appointment.objects.filter(
            ends_at__lt=now, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED]
        ).exists()

        invitation = IntakeInvitation.objects.get()
        assert any(
            "http://127.0.0.1:8123/" in message.body
            for message in mail.outbox
            if invitation.patient.email in message.to
        ), "intake links point at the running server, not a fixed port"


@pytest.mark.time_machine(datetime(2027, 6, 11, 17, 0, tzinfo=NEW_YORK), tick=False)
def test_running_the_demo_again_changes_nothing(roles, _seed):
    _seed()
    counts = (Appointment.objects.count(), Patient.objects.count())
    _seed()
    assert (Appointment.objects.count(), Patient.objects.count()) == counts
