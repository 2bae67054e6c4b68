"""Celery tasks of scheduling: thin, named, ids only (no patient data sits in the broker),
idempotent. The outbox rows in the database are the truth; these only say "look now".

Retries of a message that failed live in the database (``next_attempt_at`` with back-off), not
in Celery: a flushed or restarted Redis cannot lose them. ``acks_late`` with
``reject_on_worker_lost`` (settings) hands a task of a worker that died to another, and the
status check in the services makes running it twice harmless.
"""

from celery import shared_task
from django.db import OperationalError

from sessions.messaging import services

# Shorter than CELERY_TASK_TIME_LIMIT: the dispatcher stops claiming after its own budget.
TIME_LIMIT = 110
SOFT_TIME_LIMIT = 100


@shared_task(
    name="treatment_sessions.dispatch_due_messages",
    ignore_result=True,
    time_limit=TIME_LIMIT,
    soft_time_limit=SOFT_TIME_LIMIT,
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=True,
)
def dispatch_due_messages():
    """Beat, every minute: send every message due, recover claims of dead workers."""
    report = services.messages_dispatch_due()
    return report.counts


@shared_task(
    name="treatment_sessions.send_message",
    ignore_result=True,
    time_limit=TIME_LIMIT,
    soft_time_limit=SOFT_TIME_LIMIT,
    autoretry_for=(OperationalError,),
    max_retries=2,
    retry_backoff=True,
)
def send_message(message_id):
    """Send one message now if it is still due and unclaimed (queued after commit when a
    message is due at once: aftercare, a resend). A no-op otherwise."""
    return services.message_send_now(message_id=int(message_id))
