"""Helpers for the reminder tests: dates a safe distance ahead of today, patients who agreed
to messages, and the clinic set up to send SMS through a file (or a fake provider)."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from sessions.models import OutboundMessage
from tests.factories import PatientFactory
from tests.sessions.conftest import NEW_YORK

SITE = "https://clinic.test"


def future_day(weekday=1, days_ahead=60, zone=NEW_YORK):
    """A date about ``days_ahead`` days from today (in ``zone``) falling on ``weekday``
    (Monday is 0): far enough for every reminder to be ahead, whatever day the tests run."""
    day = timezone.localdate(timezone=zone) + timedelta(days=days_ahead)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def at(day, hour, minute=0, zone=NEW_YORK):
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def consenting_patient(**extra):
    return PatientFactory(
        **{"consents_email_reminders": True, "consents_sms_reminders": True, **extra}
    )


def rows_of(appointment, **filters):
    return list(
        OutboundMessage.objects.filter(appointment=appointment, **filters).order_by(
            "scheduled_for", "channel", "id"
        )
    )


def make_due(message, when):
    """Bring a planned message's time forward to ``when`` (a test's time travel)."""
    OutboundMessage.objects.filter(pk=message.pk).update(scheduled_for=when, next_attempt_at=when)
    message.refresh_from_db()
    return message


@pytest.fixture
def messaging(settings, tmp_path):
    """Links point at a test site; SMS go to files in a temporary folder (one per message)."""
    settings.SITE_URL = SITE
    settings.SMS_BACKEND = "clinic.messaging.sms.FileSmsBackend"
    settings.SMS_OPTIONS = {"directory": str(tmp_path / "sms")}
    settings.MESSAGES_NOTIFY_BROKER = False
    return tmp_path / "sms"
