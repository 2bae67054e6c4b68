"""The clinic-wide channels: email through Django's email framework (text, HTML, attachments,
a Message-ID from the idempotency key), the SMS back-ends (console, file, disabled) and the
Twilio adapter against a local fake Twilio, and the settings that choose them."""

import io
import os
import smtplib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from clinic.messaging import PermanentSendError, TransientSendError
from clinic.messaging.config import site_url, sms_settings
from clinic.messaging.mail import send_email
from clinic.messaging.sms import (
    ConsoleSmsBackend,
    DisabledSmsBackend,
    FileSmsBackend,
    TwilioSmsBackend,
    get_sms_backend,
    normalise_phone,
)
from tests.fake_twilio import FROM_NUMBER, FakeTwilio

KEY = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.fixture
def twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


# -- email ----------------------------------------------------------------------------------------


def test_email_has_text_html_attachment_and_a_message_id_from_the_key(settings):
    settings.SITE_URL = "https://clinic.example.org"
    provider_id = send_email(
        to="zoe@example.com",
        subject="Your appointment",
        text="Plain words",
        html="<p>Rich words</p>",
        attachments=[("appointment.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")],
        idempotency_key=KEY,
        reply_to="desk@clinic.example.org",
    )
    [sent] = mail.outbox
    assert provider_id == f"<{KEY}@clinic.example.org>"
    assert sent.extra_headers["Message-ID"] == provider_id
    assert sent.message()["Message-ID"] == provider_id
    assert (sent.body, sent.alternatives[0][1]) == ("Plain words", "text/html")
    assert sent.attachments[0][0] == "appointment.ics"
    assert sent.reply_to == ["desk@clinic.example.org"]


def test_an_invalid_email_address_is_a_permanent_failure():
    with pytest.raises(PermanentSendError, match="not a valid email address"):
        send_email(to="not-an-address", subject="s", text="t", idempotency_key=KEY)
    assert not mail.outbox


class RefusingBackend:
    def __init__(self, error, **kwargs):
        self.error = error

    def send_messages(self, messages):
        raise self.error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (smtplib.SMTPRecipientsRefused({"zoe@example.com": (550, b"no such user")}), "permanent"),
        (smtplib.SMTPServerDisconnected("gone"), "transient"),
        (ConnectionRefusedError("refused"), "transient"),
    ],
)
def test_mail_server_errors_say_whether_to_try_again(monkeypatch, error, kind):
    monkeypatch.setattr(
        "django.core.mail.message.EmailMessage.get_connection",
        lambda self, fail_silently=False: RefusingBackend(error),
    )
    expected = PermanentSendError if kind == "permanent" else TransientSendError
    with pytest.raises(expected):
        send_email(to="zoe@example.com", subject="s", text="t", idempotency_key=KEY)


# -- phone numbers and simple back-ends -----------------------------------------------------------


def test_phone_numbers_are_normalised_or_refused(settings):
    settings.PHONENUMBER_DEFAULT_REGION = "US"
    assert normalise_phone("(212) 555-0142") == "+12125550142"
    assert normalise_phone("+33 6 12 34 56 78") == "+33612345678"
    for bad in ("+1555", "hello", ""):
        with pytest.raises(PermanentSendError):
            normalise_phone(bad)


def test_console_backend_prints(capsys):
    stream = io.StringIO()
    assert ConsoleSmsBackend(stream=stream).send(to="+1", body="Hi", idempotency_key=KEY) == (
        f"console-{KEY}"
    )
    assert "SMS to +1" in stream.getvalue() and "Hi" in stream.getvalue()
    assert not ConsoleSmsBackend.can_look_up


def test_file_backend_writes_one_file_per_key_and_finds_it(tmp_path):
    backend = FileSmsBackend(directory=tmp_path / "sms")
    since = datetime.now(UTC)
    assert backend.find_sent(to="+1", body="Hi", since=since, idempotency_key=KEY) is None
    backend.send(to="+12125550142", body="Hi", idempotency_key=KEY)
    backend.send(to="+12125550142", body="Hi", idempotency_key=KEY)
    assert [p.name for p in (tmp_path / "sms").iterdir()] == [f"{KEY}.json"]
    assert backend.find_sent(to="+1", body="Hi", since=since, idempotency_key=KEY) == f"file-{KEY}"


def test_disabled_backend_sends_nothing():
    backend = DisabledSmsBackend()
    assert not backend.enabled
    with pytest.raises(PermanentSendError, match="No SMS provider"):
        backend.send(to="+1", body="Hi", idempotency_key=KEY)


def test_the_backend_comes_from_settings(settings, tmp_path):
    settings.SMS_BACKEND = "clinic.messaging.sms.FileSmsBackend"
    settings.SMS_OPTIONS = {"directory": str(tmp_path)}
    assert isinstance(get_sms_backend(), FileSmsBackend)


# -- Twilio against a local fake ------------------------------------------------------------------


def test_twilio_sends_and_returns_the_message_sid(twilio):
    backend = TwilioSmsBackend(**twilio.options())
    sid = backend.send(to="+12125550142", body="Your appointment", idempotency_key=KEY)
    assert sid == twilio.messages[0]["sid"]
    assert twilio.posts == [{"To": "+12125550142", "Body": "Your appointment", "From": FROM_NUMBER}]


def test_twilio_messaging_service_is_used_instead_of_a_number(twilio):
    options = {**twilio.options(), "from_number": "", "messaging_service_sid": "MGabc"}
    TwilioSmsBackend(**options).send(to="+12125550142", body="Hi", idempotency_key=KEY)
    assert twilio.posts[0]["MessagingServiceSid"] == "MGabc" and "From" not in twilio.posts[0]


@pytest.mark.parametrize(
    ("status", "payload", "kind", "words"),
    [
        (
            400,
            {"code": 21211, "message": "The 'To' number +1555 is not a valid phone number."},
            "permanent",
            "not a valid phone number. (Twilio error 21211)",
        ),
        (
            400,
            {"code": 21610, "message": "Attempt to send to unsubscribed recipient"},
            "permanent",
            "unsubscribed",
        ),
        (429, {"code": 20429, "message": "Too Many Requests"}, "transient", "busy"),
        (503, {"message": "Service Unavailable"}, "transient", "HTTP 503"),
        (401, {"code": 20003, "message": "Authenticate"}, "transient", "account"),
    ],
)
def test_twilio_errors_say_whether_to_try_again(twilio, status, payload, kind, words):
    twilio.responses.append((status, payload))
    expected = PermanentSendError if kind == "permanent" else TransientSendError
    with pytest.raises(expected) as raised:
        TwilioSmsBackend(**twilio.options()).send(to="+1555", body="Hi", idempotency_key=KEY)
    assert words in raised.value.message


def test_twilio_that_does_not_answer_in_time_is_transient(twilio):
    twilio.hang_first = "before_accept"
    with pytest.raises(TransientSendError, match="did not answer within 0.5 s"):
        TwilioSmsBackend(**twilio.options(timeout=0.5)).send(
            to="+12125550142", body="Hi", idempotency_key=KEY
        )


def test_twilio_that_cannot_be_reached_is_transient(twilio):
    options = twilio.options()
    twilio.stop()
    with pytest.raises(TransientSendError, match="could not be reached"):
        TwilioSmsBackend(**options).send(to="+12125550142", body="Hi", idempotency_key=KEY)


def test_twilio_finds_a_message_it_already_accepted(twilio):
    backend = TwilioSmsBackend(**twilio.options())
    since = datetime.now(UTC) - timedelta(seconds=5)
    body = "Lumière Clinic: reminder... https://clinic.test/m/abc:def/"
    assert backend.find_sent(to="+12125550142", body=body, since=since, idempotency_key=KEY) is None
    sid = backend.send(to="+12125550142", body=body, idempotency_key=KEY)
    backend.send(to="+12125550142", body="another message", idempotency_key="other")
    found = backend.find_sent(to="+12125550142", body=body, since=since, idempotency_key=KEY)
    assert found == sid
    # Only messages since the claim count (with five minutes for clock differences).
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert backend.find_sent(to="+12125550142", body=body, since=later, idempotency_key=KEY) is None


# -- settings -------------------------------------------------------------------------------------


def test_sms_settings_default_to_console_in_debug_and_disabled_otherwise():
    assert sms_settings({}, debug=True)[0].endswith("ConsoleSmsBackend")
    assert sms_settings({}, debug=False)[0].endswith("DisabledSmsBackend")


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"SMS_BACKEND": "carrier-pigeon"}, "SMS_BACKEND must be one of"),
        ({"SMS_BACKEND": "twilio"}, "TWILIO_ACCOUNT_SID"),
        (
            {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"},
            "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
        ),
        (
            {
                "SMS_BACKEND": "twilio",
                "TWILIO_ACCOUNT_SID": "AC1",
                "TWILIO_AUTH_TOKEN": "t",
                "TWILIO_FROM_NUMBER": "+1",
                "TWILIO_API_BASE": "http://api.example",
            },
            "https",
        ),
        ({"SMS_BACKEND": "file"}, "SMS_FILE_PATH"),
        ({"SMS_TIMEOUT_SECONDS": "soon"}, "SMS_TIMEOUT_SECONDS"),
        ({"SMS_TIMEOUT_SECONDS": "0"}, "SMS_TIMEOUT_SECONDS"),
    ],
)
def test_bad_sms_settings_stop_start_up(values, words):
    with pytest.raises(ImproperlyConfigured, match=words):
        sms_settings(values, debug=False)


def test_twilio_settings_are_accepted():
    path, options = sms_settings(
        {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": "AC1",
            "TWILIO_AUTH_TOKEN": "secret",
            "TWILIO_FROM_NUMBER": "+12125550100",
        },
        debug=False,
    )
    assert path.endswith("TwilioSmsBackend")
    assert options["api_base"] == "https://api.twilio.com"


def test_site_url_defaults_and_checks():
    assert site_url("", debug=True, allowed_hosts=[], port="8001") == "http://127.0.0.1:8001"
    assert (
        site_url("", debug=False, allowed_hosts=["clinic.example.org"])
        == "https://clinic.example.org"
    )
    assert site_url("https://c.example/", debug=False, allowed_hosts=[]) == "https://c.example"
    for value, hosts in (("", []), ("", ["*"]), ("ftp://x", []), ("https://c.example/app", [])):
        with pytest.raises(ImproperlyConfigured):
            site_url(value, debug=False, allowed_hosts=hosts)


def test_a_bad_sms_backend_in_the_environment_stops_django_from_starting():
    env = {
        **os.environ,
        "DEBUG": "1",
        "SMS_BACKEND": "fax",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SMS_BACKEND must be one of" in result.stderr


def test_beat_sends_due_messages_every_minute_by_default(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-due-messages"]
    assert entry["task"] == "treatment_sessions.dispatch_due_messages"
    assert entry["schedule"] == settings.MESSAGES_DISPATCH_EVERY_SECONDS
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.MESSAGES_SENDING_STALE_SECONDS > settings.CELERY_TASK_TIME_LIMIT
