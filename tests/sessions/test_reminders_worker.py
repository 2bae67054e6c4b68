"""Integration with a real Celery worker (with beat) against the real Redis, in a subprocess
using the test database, sending SMS to a local fake Twilio and email to files:

- a due reminder is sent, once;
- Redis flushed between queuing and dispatch: still sent, once;
- a worker killed (SIGKILL) in the middle of a send: sent once after a restart, whether or not
  the provider had taken the message before the worker died.

The database is the truth; Redis (a dedicated database, flushed only there) carries nudges.
"""

import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from time import monotonic, sleep

import pytest
import redis
from django.db import connection
from django.utils import timezone

from sessions.models import OutboundMessage, ReminderPolicy
from sessions.services import appointment_check_in, appointment_complete, appointment_start
from tests.clock import clock_env
from tests.fake_twilio import FakeTwilio
from tests.fixtures.messaging import SITE, at, consenting_patient, future_day, make_due
from tests.fixtures.scheduling import book

pytestmark = pytest.mark.django_db(transaction=True)

# One Redis database per pytest-xdist worker (5 for gw0, 6 for gw1, ...): each flushes its own.
_XDIST_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_TEST_URL = os.environ.get(
    "REMINDERS_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{5 + _XDIST_INDEX % 10}"
)
BASE_DIR = Path(__file__).resolve().parents[2]
PHONE = "+12125550142"


@pytest.fixture
def redis_db():
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"needs Redis at {REDIS_TEST_URL}")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def fake_twilio():
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


def database_url():
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    """Start, kill and stop ``celery -A clinic worker --beat`` subprocesses, each in its own
    process group (so a kill takes the pool and beat with it). Only ours are ever signalled."""

    def __init__(self, tmp_path, env):
        self.tmp_path = tmp_path
        self.env = env
        self.processes = []

    def start(self):
        n = len(self.processes)
        log = open(self.tmp_path / f"worker-{n}.log", "wb")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clinic",
                "worker",
                "--beat",
                f"--schedule={self.tmp_path / f'beat-{n}'}",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=reminders-test-{uuid.uuid4().hex[:8]}@%h",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_file = log
        self.processes.append(process)
        return process

    def kill(self, process):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
            process.log_file.close()

    def logs(self):
        return "\n".join(
            f"--- worker {n} ---\n"
            + (self.tmp_path / f"worker-{n}.log").read_text(errors="replace")[-4000:]
            for n in range(len(self.processes))
        )


@pytest.fixture
def workers(transactional_db, tmp_path, redis_db, fake_twilio, settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_TEST_URL,
        "CELERY_BROKER_URL": REDIS_TEST_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SITE_URL": SITE,
        "MESSAGES_DISPATCH_EVERY_SECONDS": "1",
        "MESSAGES_SENDING_STALE_SECONDS": "3",
        "SMS_TIMEOUT_SECONDS": "60",
        **fake_twilio.settings(),
        # The worker's "now" is the suite's (TEST_CLOCK), or due messages would not be due.
        **clock_env(),
    }
    settings.SITE_URL = SITE
    found = Workers(tmp_path, env)
    yield found
    found.stop()


@pytest.fixture
def no_quiet_hours(transactional_db):
    """The worker sends at the real time of day; quiet hours would make these tests depend
    on it (they are tested with fixed times elsewhere)."""
    ReminderPolicy.load()
    ReminderPolicy.objects.update(quiet_hours_start="12:00", quiet_hours_end="12:00")


def wait_for(workers, what, check, timeout=60):
    deadline = monotonic() + timeout
    while monotonic() < deadline:
        if check():
            return
        sleep(0.2)
    rows = OutboundMessage.objects.values_list(
        "pk", "kind", "channel", "status", "status_reason", "last_error"
    )
    raise AssertionError(f"Timed out waiting for {what}\n{list(rows)}\n{workers.logs()}")


def status(message):
    return OutboundMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def emails_written(tmp_path):
    folder = tmp_path / "mail"
    if not folder.exists():
        return []
    found = []
    for path in folder.iterdir():
        found += [
            line
            for line in path.read_text(errors="replace").splitlines()
            if line.startswith("Message-ID:")
        ]
    return found


@pytest.fixture
def visit(clinic_setup, front_desk, no_quiet_hours):
    patient = consenting_patient(mobile_phone=PHONE)
    return book(clinic_setup, front_desk, patient, at(future_day(weekday=1), 12, 30))


def due_now(visit, **filters):
    message = OutboundMessage.objects.get(appointment=visit, **filters)
    return make_due(message, timezone.now() - timedelta(seconds=5))


def test_a_due_reminder_is_sent_once_by_a_real_worker(workers, visit, fake_twilio, tmp_path):
    sms = due_now(visit, hours_before=24)
    email = due_now(visit, channel="email")
    workers.start()
    wait_for(workers, "both reminders sent", lambda: {status(sms), status(email)} == {"sent"})
    sleep(3)  # several more beat ticks: nothing is sent again
    sms.refresh_from_db()
    assert [m["body"] for m in fake_twilio.messages] == [sms.body_text]
    assert fake_twilio.messages[0]["to"] == PHONE
    assert sms.provider_id == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.posts) == 1
    assert emails_written(tmp_path) == [f"Message-ID: <{email.idempotency_key}@clinic.test>"]
    # The two-hour SMS is not due yet: still waiting.
    assert status(OutboundMessage.objects.get(appointment=visit, hours_before=2)) == "scheduled"


@pytest.fixture
def broker_on_test_redis(settings):
    """Make this test process publish its after-commit nudges to the test Redis."""
    from clinic.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = REDIS_TEST_URL
    app._pool = None
    app.amqp._producer_pool = None
    settings.MESSAGES_NOTIFY_BROKER = True
    yield
    app.conf.broker_url = previous
    app._pool = None
    app.amqp._producer_pool = None


def complete_a_visit(clinic_setup, front_desk, practitioner_user):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    patient = consenting_patient(mobile_phone=PHONE)
    visit = book(clinic_setup, front_desk, patient, start, allow_outside_hours=True)
    appointment_check_in(actor=front_desk, appointment=visit)
    appointment_start(actor=practitioner_user, appointment=visit)
    appointment_complete(actor=practitioner_user, appointment=visit)
    return OutboundMessage.objects.get(appointment=visit, kind="aftercare")


@pytest.mark.parametrize("flush", [True, False], ids=["redis-flushed", "redis-kept"])
def test_redis_flushed_between_queuing_and_dispatch_still_sends_once(
    workers,
    redis_db,
    broker_on_test_redis,
    clinic_setup,
    front_desk,
    practitioner_user,
    no_quiet_hours,
    tmp_path,
    flush,
):
    # Completing a visit queues aftercare and tells the broker after commit...
    aftercare = complete_a_visit(clinic_setup, front_desk, practitioner_user)
    assert redis_db.llen("celery") == 1
    # ...and a reminder of another visit comes due while no worker runs.
    other = book(clinic_setup, front_desk, consenting_patient(), at(future_day(weekday=2), 11))
    reminder = due_now(other, channel="email")
    if flush:
        redis_db.flushdb()  # Redis lost everything (restart without persistence, FLUSHDB)
        assert redis_db.llen("celery") == 0
    workers.start()
    wait_for(
        workers,
        "aftercare and reminder sent",
        lambda: {status(aftercare), status(reminder)} == {"sent"},
    )
    sleep(3)
    written = emails_written(tmp_path)
    aftercare.refresh_from_db()
    assert sorted(written) == sorted(
        f"Message-ID: <{m.idempotency_key}@clinic.test>" for m in (aftercare, reminder)
    )
    assert aftercare.attempts == 1


@pytest.mark.parametrize(
    ("hang", "posts", "attempts"),
    [("after_accept", 1, 1), ("before_accept", 2, 2)],
    ids=["provider-had-it", "provider-never-got-it"],
)
def test_a_worker_killed_during_a_send_sends_once_after_restart(
    workers, visit, fake_twilio, hang, posts, attempts
):
    fake_twilio.hang_first = hang
    sms = due_now(visit, hours_before=24)
    first = workers.start()
    wait_for(workers, "the provider to be called", fake_twilio.hanging.is_set)
    sms.refresh_from_db()
    assert sms.status == "sending" and sms.provider_called_at is not None
    workers.kill(first)  # SIGKILL: no clean-up, the claim stays in the database
    assert status(sms) == "sending"

    workers.start()
    wait_for(workers, "the message to be sent after the restart", lambda: status(sms) == "sent")
    sleep(3)
    sms.refresh_from_db()
    assert len(fake_twilio.messages) == 1  # the patient got one SMS
    assert len(fake_twilio.posts) == posts
    assert sms.provider_id == fake_twilio.messages[0]["sid"]
    assert sms.attempts == attempts
    if hang == "after_accept":
        assert sms.status_reason == "Found at the provider after the worker stopped."
