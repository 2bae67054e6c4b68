"""Sending what is due: the content (clinic, date and time, a link; nothing clinical), the
channels, consent and addresses, retries with back-off, quiet hours at send time, recovery
after a worker died mid-send, front desk's resend, and two dispatchers at once sending each
message exactly once."""

import json
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from icalendar import Calendar

from clinic.errors import ConflictError
from clinic.messaging import TransientSendError
from clinic.messaging.sms import SmsBackend
from clinic.models import AuditEvent, ClinicSettings
from patients.models import Patient
from sessions.messaging.services import (
    message_resend,
    messages_claim_due,
    messages_dispatch_due,
    messages_recover_stale,
)
from sessions.models import OutboundMessage
from sessions.services import appointment_cancel
from tests.fixtures.messaging import SITE, at, consenting_patient, future_day, make_due, rows_of
from tests.fixtures.scheduling import NEW_YORK, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_named(db):
    clinic = ClinicSettings.load()
    clinic.name = "Lumière Clinic"
    clinic.phone = "+1 212 555 0100"
    clinic.save()
    return clinic


@pytest.fixture
def visit(clinic_setup, front_desk, messaging, clinic_named):
    """A treatment session on a Tuesday at 12:30 New York time, two months ahead."""
    patient = consenting_patient(
        legal_first_name="Zoé", preferred_name="Zoe", email="zoe@example.com"
    )
    return book(clinic_setup, front_desk, patient, at(future_day(weekday=1), 12, 30))


def due(visit, channel, hours):
    return rows_of(visit, channel=channel, hours_before=hours)[0]


def send_now(message, now=None):
    now = now or (message.appointment.starts_at - timedelta(hours=(message.hours_before or 0)))
    make_due(message, now)
    report = messages_dispatch_due(now=now)
    message.refresh_from_db()
    return report


def test_email_reminder_names_the_clinic_date_and_time_with_a_link_and_calendar_file(visit):
    email_row = due(visit, "email", 48)
    send_now(email_row)
    assert email_row.status == "sent"
    assert email_row.attempts == 1
    assert email_row.recipient == "zoe@example.com"
    [sent] = mail.outbox
    assert sent.to == ["zoe@example.com"]
    assert sent.subject.startswith("Your appointment at Lumière Clinic on Tuesday")
    assert sent.extra_headers["Message-ID"] == f"<{email_row.idempotency_key}@clinic.test>"
    assert email_row.provider_id == f"<{email_row.idempotency_key}@clinic.test>"
    text = sent.body
    assert "Hello Zoe" in text and "12:30" in text and "Park Avenue" in text
    assert f"{SITE}/m/" in text
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html" and "Yes, I will be there" in html
    [(filename, ics, ics_type)] = sent.attachments
    assert (filename, ics_type) == ("appointment.ics", "text/calendar")
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Lumière Clinic"
    assert event.decoded("DTSTART") == visit.starts_at
    # Nothing clinical anywhere: not the type of treatment, not the practitioner.
    for part in (sent.subject, text, html, ics.decode() if isinstance(ics, bytes) else ics):
        assert "Treatment session" not in part
        assert "Pia" not in part
    assert AuditEvent.objects.filter(action="message.sent", patient_id=visit.patient_id).exists()


def test_sms_reminder_is_short_and_goes_through_the_sms_backend(visit, messaging):
    sms_row = due(visit, "sms", 24)
    send_now(sms_row)
    assert sms_row.status == "sent"
    assert sms_row.recipient == str(visit.patient.mobile_phone)
    assert sms_row.provider_id == f"file-{sms_row.idempotency_key}"
    stored = json.loads((messaging / f"{sms_row.idempotency_key}.json").read_text())
    assert stored["to"] == sms_row.recipient
    assert stored["body"] == sms_row.body_text
    assert stored["body"].startswith("Lumière Clinic: reminder of your appointment Tue ")
    assert "at 12:30, Park Avenue" in stored["body"] and f"{SITE}/m/" in stored["body"]
    assert "Zoe" not in sms_row.body_text  # an SMS may be read over a shoulder: no name
    assert len(sms_row.body_text) <= 320


def test_every_retry_says_the_same_words(visit, monkeypatch):
    sms_row = due(visit, "sms", 24)
    calls = []

    class Flaky(SmsBackend):
        def send(self, *, to, body, idempotency_key):
            calls.append(body)
            if len(calls) == 1:
                raise TransientSendError("busy")
            return "ok-2"

    monkeypatch.setattr("clinic.messaging.sms.get_sms_backend", lambda: Flaky())
    first = sms_row.scheduled_for
    send_now(sms_row, first)
    messages_dispatch_due(now=first + timedelta(minutes=2))
    sms_row.refresh_from_db()
    assert sms_row.status == "sent" and sms_row.attempts == 2
    assert calls[0] == calls[1] == sms_row.body_text


def test_no_consent_for_a_channel_is_skipped_with_the_reason(visit):
    Patient.objects.filter(pk=visit.patient_id).update(consents_email_reminders=False)
    email_row = due(visit, "email", 48)
    send_now(email_row)
    assert email_row.status == "skipped"
    assert email_row.status_reason == "The patient has not agreed to messages by email."
    assert email_row.attempts == 0
    assert not mail.outbox


def test_missing_address_is_skipped_with_the_reason(visit):
    Patient.objects.filter(pk=visit.patient_id).update(mobile_phone="")
    sms_row = due(visit, "sms", 24)
    send_now(sms_row)
    assert (sms_row.status, sms_row.status_reason) == (
        "skipped",
        "No mobile number on the patient's record.",
    )


def test_no_sms_provider_set_up_is_skipped_with_the_reason(visit, settings):
    settings.SMS_BACKEND = "clinic.messaging.sms.DisabledSmsBackend"
    settings.SMS_OPTIONS = {}
    sms_row = due(visit, "sms", 24)
    send_now(sms_row)
    assert (sms_row.status, sms_row.status_reason) == (
        "skipped",
        "The clinic has no SMS provider set up.",
    )


def test_an_invalid_phone_number_fails_once_and_is_not_retried(visit, messaging):
    Patient.objects.filter(pk=visit.patient_id).update(mobile_phone="+1555")
    sms_row = due(visit, "sms", 24)
    send_now(sms_row)
    assert sms_row.status == "failed"
    assert sms_row.attempts == 1
    assert "+1555 is not a valid mobile number" in sms_row.last_error
    assert sms_row.status_reason == "Not sent: this cannot work as it is."
    # Later runs leave it alone: nothing is sent, it stays failed for front desk.
    messages_dispatch_due(now=sms_row.scheduled_for + timedelta(hours=3))
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts) == ("failed", 1)
    assert not messaging.exists() or not list(messaging.glob("*.json"))
    assert AuditEvent.objects.filter(action="message.failed").count() == 1


class AlwaysBusy(SmsBackend):
    def send(self, *, to, body, idempotency_key):
        raise TransientSendError("The SMS provider is busy or failing (HTTP 503).")


def test_a_failure_that_may_pass_is_retried_with_back_off_then_fails_for_good(
    visit, settings, monkeypatch
):
    settings.MESSAGES_MAX_ATTEMPTS = 3
    monkeypatch.setattr("clinic.messaging.sms.get_sms_backend", lambda: AlwaysBusy())
    sms_row = due(visit, "sms", 24)
    now = sms_row.scheduled_for
    send_now(sms_row, now)
    assert (sms_row.status, sms_row.attempts) == ("scheduled", 1)
    assert sms_row.next_attempt_at == now + timedelta(minutes=1)
    assert "HTTP 503" in sms_row.last_error
    # Not yet due again: nothing happens.
    messages_dispatch_due(now=now + timedelta(seconds=30))
    sms_row.refresh_from_db()
    assert sms_row.attempts == 1
    messages_dispatch_due(now=now + timedelta(minutes=1))
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts) == ("scheduled", 2)
    assert sms_row.next_attempt_at == now + timedelta(minutes=6)
    messages_dispatch_due(now=now + timedelta(minutes=6))
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts) == ("failed", 3)
    assert sms_row.status_reason == "Not sent after 3 tries."


def test_a_retry_that_lands_in_quiet_hours_waits_for_their_end(visit, monkeypatch):
    sms_row = due(visit, "sms", 24)
    evening = at(sms_row.scheduled_for.astimezone(NEW_YORK).date(), 22, 30)
    send_now(sms_row, evening)
    assert sms_row.status == "scheduled"
    assert sms_row.status_reason == "Waiting for the end of quiet hours."
    assert sms_row.next_attempt_at == at(evening.date() + timedelta(days=1), 8)
    assert sms_row.attempts == 0


def test_a_reminder_for_a_cancelled_or_moved_appointment_is_never_sent(
    visit, front_desk, clinic_setup
):
    email_row = due(visit, "email", 48)
    make_due(email_row, email_row.scheduled_for)
    appointment_cancel(actor=front_desk, appointment=visit, by_patient=False, reason="Closed")
    messages_dispatch_due(now=email_row.scheduled_for)
    email_row.refresh_from_db()
    assert email_row.status == "void"
    # A row that escaped being withdrawn (a race) is caught when sending: its time is stale.
    other = book(clinic_setup, front_desk, consenting_patient(), at(future_day(weekday=3), 10))
    stale = due(other, "email", 48)
    OutboundMessage.objects.filter(pk=stale.pk).update(for_starts_at=other.starts_at - timedelta(1))
    send_now(stale)
    assert (stale.status, stale.status_reason) == ("void", "The appointment moved.")
    assert not mail.outbox


def test_a_reminder_found_too_late_is_skipped(visit):
    sms_row = due(visit, "sms", 2)
    send_now(sms_row, visit.starts_at - timedelta(minutes=20))
    assert (sms_row.status, sms_row.status_reason) == (
        "skipped",
        "Too late: the appointment is about to start.",
    )


def test_a_claimed_row_is_not_claimed_again(visit):
    rows = rows_of(visit)
    now = visit.starts_at
    for row in rows:
        OutboundMessage.objects.filter(pk=row.pk).update(next_attempt_at=now - timedelta(days=3))
    first = messages_claim_due(now=now, limit=2)
    second = messages_claim_due(now=now, limit=2)
    assert len(first) == 2 and len(second) == 1
    assert not {pk for pk, _t in first} & {pk for pk, _t in second}


# -- a worker that died mid-send ------------------------------------------------------------------


def daytime(message):
    """A moment in the day before the visit: no quiet hours, reminders still useful."""
    return at(message.appointment.starts_at.astimezone(NEW_YORK).date() - timedelta(1), 12)


def stale_sending(message, *, called, now, minutes_ago=30):
    """Leave a message as a worker killed mid-send leaves it."""
    claimed = now - timedelta(minutes=minutes_ago)
    OutboundMessage.objects.filter(pk=message.pk).update(
        status="sending",
        claim_token="00000000-0000-0000-0000-000000000001",
        claimed_at=claimed,
        provider_called_at=claimed if called else None,
        attempts=1 if called else 0,
    )


def test_a_stale_claim_that_never_reached_the_provider_is_sent(visit):
    email_row = due(visit, "email", 48)
    now = daytime(email_row)
    stale_sending(email_row, called=False, now=now)
    report = messages_dispatch_due(now=now)
    email_row.refresh_from_db()
    assert email_row.status == "sent"
    assert len(mail.outbox) == 1
    assert report.counts == {"scheduled": 1, "sent": 1}


def test_a_stale_email_that_may_have_gone_out_is_failed_not_sent_twice(visit):
    email_row = due(visit, "email", 48)
    now = daytime(email_row)
    stale_sending(email_row, called=True, now=now)
    messages_dispatch_due(now=now)
    email_row.refresh_from_db()
    assert email_row.status == "failed"
    assert email_row.status_reason == "Outcome unknown: check before sending again."
    assert "may or may not have reached the patient" in email_row.last_error
    assert not mail.outbox


def test_a_recent_claim_is_left_to_its_worker(visit):
    email_row = due(visit, "email", 48)
    now = daytime(email_row)
    stale_sending(email_row, called=True, now=now, minutes_ago=1)
    messages_dispatch_due(now=now)
    email_row.refresh_from_db()
    assert email_row.status == "sending"


def test_a_stale_sms_the_provider_has_is_marked_sent_without_sending_again(visit, messaging):
    sms_row = due(visit, "sms", 24)
    # The worker got as far as the provider, which stored it; then the worker died.
    send_now(sms_row)
    stored = messaging / f"{sms_row.idempotency_key}.json"
    first_write = stored.stat().st_mtime_ns
    now = daytime(sms_row)
    stale_sending(sms_row, called=True, now=now)
    messages_recover_stale(now=now)
    sms_row.refresh_from_db()
    assert sms_row.status == "sent"
    assert sms_row.status_reason == "Found at the provider after the worker stopped."
    assert stored.stat().st_mtime_ns == first_write


def test_a_stale_sms_the_provider_never_got_is_sent_again(visit, messaging):
    sms_row = due(visit, "sms", 24)
    now = daytime(sms_row)
    make_due(sms_row, now - timedelta(minutes=40))
    stale_sending(sms_row, called=True, now=now)
    OutboundMessage.objects.filter(pk=sms_row.pk).update(body_text="earlier words")
    outcomes = messages_recover_stale(now=now)
    assert outcomes == ["scheduled"]
    messages_dispatch_due(now=now)
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts) == ("sent", 2)
    assert "earlier words" in (messaging / f"{sms_row.idempotency_key}.json").read_text()


# -- front desk resends ---------------------------------------------------------------------------


def test_front_desk_resends_a_failed_message_once_the_number_is_fixed(visit, front_desk, messaging):
    Patient.objects.filter(pk=visit.patient_id).update(mobile_phone="+1555")
    sms_row = due(visit, "sms", 24)
    send_now(sms_row)
    old_key = sms_row.idempotency_key
    Patient.objects.filter(pk=visit.patient_id).update(mobile_phone="+12125550142")
    now = daytime(sms_row)
    message_resend(actor=front_desk, message=sms_row, now=now)
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.attempts, sms_row.resent_by) == ("scheduled", 0, front_desk)
    assert sms_row.idempotency_key != old_key
    with pytest.raises(ConflictError):
        message_resend(actor=front_desk, message=sms_row)  # already waiting
    messages_dispatch_due(now=now)
    sms_row.refresh_from_db()
    assert (sms_row.status, sms_row.recipient) == ("sent", "+12125550142")
    assert AuditEvent.objects.filter(action="message.resent", actor=front_desk).exists()


# -- concurrency on PostgreSQL --------------------------------------------------------------------


class CountingBackend(SmsBackend):
    """Records every send by idempotency key and takes a little time, like a provider."""

    sent = {}
    lock = threading.Lock()

    def send(self, *, to, body, idempotency_key):
        threading.Event().wait(0.02)
        with self.lock:
            self.sent[idempotency_key] = self.sent.get(idempotency_key, 0) + 1
        return f"counted-{idempotency_key}"


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_running_together_send_each_message_once(
    clinic_setup, front_desk, messaging, monkeypatch, settings
):
    CountingBackend.sent = {}
    monkeypatch.setattr("clinic.messaging.sms.get_sms_backend", lambda: CountingBackend())
    day = future_day(weekday=1)
    visits = [
        book(clinic_setup, front_desk, consenting_patient(), at(day + timedelta(days=n), 12))
        for n in range(5)
    ]
    now = at(day - timedelta(days=3), 12)  # daytime, before every reminder's deadline
    OutboundMessage.objects.filter(appointment__in=visits).update(next_attempt_at=now)
    expected = OutboundMessage.objects.filter(appointment__in=visits).count()
    assert expected == 15
    start = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            start.wait()
            reports.append(messages_dispatch_due(now=now, batch_size=3))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    sent = OutboundMessage.objects.filter(appointment__in=visits, status="sent")
    assert sent.count() == expected
    assert sum(r.counts.get("sent", 0) for r in reports) == expected
    assert len(mail.outbox) == 5  # the five emails
    assert len(CountingBackend.sent) == 10 and set(CountingBackend.sent.values()) == {1}
    assert len(reports) == 2
