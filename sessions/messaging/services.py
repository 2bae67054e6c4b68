"""Reminders and other messages to patients: the outbox rows that booking, moving, cancelling
and completing appointments write inside their own transaction, and the dispatcher that sends
what is due (run by the Celery tasks in ``sessions.tasks``).

How a message is sent, and why none is lost or sent twice:

1. Claim, in one short transaction: due ``scheduled`` rows are locked ``FOR UPDATE SKIP
   LOCKED`` (two dispatchers never take the same row) and become ``sending`` under a new
   claim token.
2. Check, holding no transaction: still wanted? The appointment is open and at the time the
   reminder was planned for, it is not too late, the patient agreed to the channel and has an
   address, it is not quiet hours. Otherwise the row is withdrawn, skipped or put back.
3. Prepare, in one transaction: render the text once (every retry says the same), count the
   attempt and stamp ``provider_called_at``. Committed before the provider is called.
4. Send, outside any transaction.
5. Record the outcome, only if the row still carries our claim token.

A worker that dies between 3 and 5 leaves a ``sending`` row. After
``MESSAGES_SENDING_STALE_SECONDS`` the dispatcher re-examines it: if the provider was never
called it simply goes back to ``scheduled``; with a back-end that can look up what it sent
(Twilio, the file back-end) it becomes ``sent`` when the provider has it and is sent again
when it does not; with one that cannot (email, the console) it becomes ``failed`` with "may or
may not have reached the patient", for front desk to check and resend: at most once.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from time import monotonic

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.messaging import SendError, TransientSendError, mail, sms
from clinic.models import ClinicSettings
from sessions import ical
from sessions.messaging.schedule import quiet_period_end, reminder_deadline, send_time
from sessions.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    Course,
    MessageChannel,
    MessageLink,
    OutboundMessage,
    ReminderPolicy,
    ReminderRule,
)

logger = logging.getLogger(__name__)

Kind = OutboundMessage.Kind
Status = OutboundMessage.Status
OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
# Minutes before try n + 1 after a failure that may pass (then the last value, up to the limit).
RETRY_BACKOFF_MINUTES = [1, 5, 15, 60]
# An after-visit message this late is no longer worth sending.
AFTER_VISIT_STALE = timedelta(hours=24)
CLAIM_BATCH = 20
# The dispatcher stops claiming new rows after this long, well inside the task's time limit.
DISPATCH_BUDGET_SECONDS = 60
LINK_SALT = "treatment_sessions.message-link"


def _utc_now(now=None):
    """``now`` (or the current time) in UTC, so that adding hours adds real hours."""
    return (now or timezone.now()).astimezone(UTC)


# -- planning -------------------------------------------------------------------------------------


def _replaceable(row):
    """A row that only records a plan (waiting, or skipped when planned): planning again may
    withdraw it. Anything claimed, sent or failed is history and stays."""
    return row.status == Status.SCHEDULED or (
        row.status == Status.SKIPPED and row.claimed_at is None
    )


def _key(row):
    return (row.appointment_id, row.kind, row.channel, row.scheduled_for)


def _reminder_rows(appointment, policy, rules, now):
    """The reminder rows ``appointment`` should have under ``policy``: one per rule whose time
    is still ahead (a rule already past when booking is not sent late: the patient just
    booked). In quiet hours a row waits for their end, or is planned as skipped if that is too
    late to be useful."""
    rows = {}
    zone = appointment.location.zone
    # In UTC: arithmetic on a zone-aware datetime would count wall-clock hours, not real ones.
    starts_at = appointment.starts_at.astimezone(UTC)
    deadline = reminder_deadline(starts_at, policy)
    for rule in rules:
        due = starts_at - timedelta(hours=rule.hours_before)
        if due < now:
            continue
        when = send_time(due, channel=rule.channel, policy=policy, zone=zone, deadline=deadline)
        row = OutboundMessage(
            appointment=appointment,
            patient_id=appointment.patient_id,
            kind=Kind.REMINDER,
            channel=rule.channel,
            hours_before=rule.hours_before,
            for_starts_at=appointment.starts_at,
            scheduled_for=when.at or due,
            next_attempt_at=when.at or due,
        )
        if when.at is None:
            row.status, row.status_reason = Status.SKIPPED, when.skip_reason
        elif when.deferred:
            row.status_reason = _("Due in quiet hours; goes out when they end.")
        # Two rules landing on one time (both deferred to the end of quiet hours): one message.
        rows.setdefault(_key(row), row)
    return list(rows.values())


def _sync_reminders(appointments, *, reason, now):
    """Make the reminder rows of ``appointments`` match the policy: keep the rows already
    right, withdraw the planned ones that are not (with ``reason``), add the missing ones.
    Four queries whatever the number of appointments. Callers hold the appointment's lock
    (booking, moving) or accept that a concurrent move may leave a stale row, which the
    dispatcher withdraws because its ``for_starts_at`` no longer matches."""
    policy = ReminderPolicy.load()
    rules = list(ReminderRule.objects.filter(is_active=True))
    wanted = []
    for appointment in appointments:
        if appointment.status in OPEN and appointment.starts_at > now:
            wanted += _reminder_rows(appointment, policy, rules, now)
    existing = list(
        OutboundMessage.objects.filter(
            appointment_id__in=[a.pk for a in appointments], kind=Kind.REMINDER
        ).exclude(status=Status.VOID)
    )
    wanted_keys = {_key(row): row for row in wanted}
    withdraw, kept = [], set()
    for row in existing:
        match = wanted_keys.get(_key(row))
        if not _replaceable(row) or (match is not None and match.status == row.status):
            kept.add(_key(row))
        else:
            withdraw.append(row.pk)
    if withdraw:
        OutboundMessage.objects.filter(pk__in=withdraw).update(
            status=Status.VOID, status_reason=reason[:300], updated_at=now
        )
    new = [row for key, row in wanted_keys.items() if key not in kept]
    # ON CONFLICT DO NOTHING: a concurrent planner that wrote the same row wins, harmlessly.
    OutboundMessage.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return new


def reminders_plan(*, appointment, now=None):
    """Write the reminder rows of a new appointment. Called by ``appointment_book`` inside its
    transaction; nothing is told to the broker: the beat dispatcher finds rows when due."""
    return _sync_reminders([appointment], reason=_("Planned again."), now=_utc_now(now))


def reminders_replan(*, appointment, now=None):
    """The appointment moved: its waiting reminders are withdrawn and planned for the new
    time. Called by the moving service inside its transaction, with the appointment locked."""
    return _sync_reminders([appointment], reason=_("The appointment moved."), now=_utc_now(now))


VOID_REASONS = {
    AppointmentStatus.CANCELLED: _("The appointment was cancelled."),
    AppointmentStatus.NO_SHOW: _("The patient did not come."),
    AppointmentStatus.CHECKED_IN: _("The patient has arrived."),
    AppointmentStatus.IN_PROGRESS: _("The patient has arrived."),
    AppointmentStatus.COMPLETED: _("The appointment took place."),
}


def reminders_on_status_change(*, appointment, to_status, now=None):
    """Withdraw the waiting reminders of an appointment that is no longer ahead of the patient
    (cancelled, missed, arrived). Called by every status change, inside its transaction."""
    if to_status in OPEN:
        return 0
    return OutboundMessage.objects.filter(
        appointment=appointment, kind=Kind.REMINDER, status=Status.SCHEDULED
    ).update(
        status=Status.VOID,
        status_reason=str(VOID_REASONS.get(to_status, _("The appointment changed."))),
        updated_at=now or timezone.now(),
    )


POLICY_FIELDS = [
    "quiet_hours_start",
    "quiet_hours_end",
    "quiet_hours_for_email",
    "minimum_notice_minutes",
    "aftercare_enabled",
    "follow_up_enabled",
    "follow_up_after_hours",
    "book_next_enabled",
    "book_next_after_hours",
]


def _validated_rules(rules):
    seen, clean = set(), []
    for index, rule in enumerate(rules):
        channel, hours = rule.get("channel"), rule.get("hours_before")
        if channel not in MessageChannel.values:
            raise ApplicationError(_("Choose email or SMS."), field=f"rules.{index}.channel")
        if not isinstance(hours, int) or not 1 <= hours <= 14 * 24:
            raise ApplicationError(
                _("Between 1 and 336 hours (14 days) before."),
                field=f"rules.{index}.hours_before",
            )
        if (channel, hours) in seen:
            raise ApplicationError(
                _("This reminder is listed twice."), field=f"rules.{index}.hours_before"
            )
        seen.add((channel, hours))
        clean.append((channel, hours, bool(rule.get("is_active", True))))
    return clean


@transaction.atomic
def reminder_policy_update(*, actor, data, rules=None, now=None):
    """Managers: change the policy and, with ``rules`` (dicts of ``channel``, ``hours_before``,
    ``is_active``), make the rules exactly these. Every upcoming appointment's reminders are
    then planned again under the new policy. Locks the policy row so two saves do not
    interleave."""
    ReminderPolicy.load()
    policy = ReminderPolicy.objects.select_for_update().get(singleton=True)
    changed = []
    for name in POLICY_FIELDS:
        if name in data and getattr(policy, name) != data[name]:
            setattr(policy, name, data[name])
            changed.append(name)
    policy.updated_by = actor
    policy.full_clean()
    policy.save()
    if rules is not None:
        wanted = {(channel, hours): active for channel, hours, active in _validated_rules(rules)}
        for rule in ReminderRule.objects.select_for_update():
            if (rule.channel, rule.hours_before) not in wanted:
                rule.delete()
        for (channel, hours), active in wanted.items():
            ReminderRule.objects.update_or_create(
                channel=channel, hours_before=hours, defaults={"is_active": active}
            )
    now = _utc_now(now)
    upcoming = list(
        Appointment.objects.filter(status__in=OPEN, starts_at__gt=now).select_related("location")
    )
    planned = _sync_reminders(upcoming, reason=_("The reminder policy changed."), now=now)
    audit.record(
        actor=actor,
        action="reminder_policy.updated",
        target=policy,
        detail={
            "changed": changed,
            "rules": [
                f"{r.channel} {r.hours_before}h{'' if r.is_active else ' (off)'}"
                for r in ReminderRule.objects.all()
            ],
            "appointments": len(upcoming),
            "new_rows": len(planned),
        },
    )
    return policy


# -- after a session ------------------------------------------------------------------------------


def _after_visit_channel(patient):
    """Email when the patient agreed to it and has an address, else SMS likewise; otherwise
    email, which the dispatcher then records as skipped with the reason."""
    if patient.consents_email_reminders and patient.email:
        return MessageChannel.EMAIL
    if patient.consents_sms_reminders and patient.mobile_phone:
        return MessageChannel.SMS
    return MessageChannel.EMAIL


def course_needs_next_booking(course_id, now):
    """The course is active, has sessions left to book and none booked ahead. Two queries."""
    course = Course.objects.filter(pk=course_id, status=Course.Status.ACTIVE).first()
    if course is None:
        return False
    appointments = Appointment.objects.filter(course_id=course_id)
    counting = appointments.filter(status__in=ACTIVE_STATUSES).count()
    if counting >= course.planned_sessions:
        return False
    return not appointments.filter(status__in=OPEN, starts_at__gt=now).exists()


def messages_after_completion(*, appointment, actor=None, now=None):
    """Queue the messages that follow a completed session: the clinic's aftercare advice now,
    the side-effects question after the policy's hours, and, when the course has sessions left
    but none booked, a nudge to book. Called inside the completing transaction (receiver of
    ``appointment_completed``); the broker is told after commit about what is due now."""
    now = _utc_now(now)
    policy = ReminderPolicy.load()
    appointment = Appointment.objects.select_related("patient", "location").get(pk=appointment.pk)
    channel = _after_visit_channel(appointment.patient)
    planned = []
    if policy.aftercare_enabled:
        planned.append((Kind.AFTERCARE, now))
    if policy.follow_up_enabled:
        planned.append((Kind.FOLLOW_UP, now + timedelta(hours=policy.follow_up_after_hours)))
    if (
        policy.book_next_enabled
        and appointment.course_id
        and course_needs_next_booking(appointment.course_id, now)
    ):
        planned.append((Kind.BOOK_NEXT, now + timedelta(hours=policy.book_next_after_hours)))
    # A session recorded long after it ended (a late record, an import): advice and questions
    # about "the coming days" would arrive when those days are over. Shown as skipped.
    late = now - appointment.ends_at > AFTER_VISIT_STALE
    rows = []
    for kind, due in planned:
        when = send_time(due, channel=channel, policy=policy, zone=appointment.location.zone)
        row = OutboundMessage(
            appointment=appointment,
            patient_id=appointment.patient_id,
            kind=kind,
            channel=channel,
            for_starts_at=appointment.starts_at,
            scheduled_for=when.at,
            next_attempt_at=when.at,
            status_reason=_("Due in quiet hours; goes out when they end.") if when.deferred else "",
        )
        if late:
            row.status = Status.SKIPPED
            row.status_reason = _("The session was recorded more than a day after it ended.")
        rows.append(row)
    OutboundMessage.objects.bulk_create(rows)
    _notify_broker_on_commit(
        [row.pk for row in rows if row.status == Status.SCHEDULED and row.next_attempt_at <= now]
    )
    return rows


def _notify_broker_on_commit(ids):
    """After commit, ask a worker to send these rows now rather than at the next beat tick.
    A broker that is down loses nothing: the rows are in the database and beat finds them."""
    if not ids or not settings.MESSAGES_NOTIFY_BROKER:
        return

    def notify():
        from sessions.tasks import send_message

        for pk in ids:
            try:
                send_message.delay(pk)
            except Exception:
                logger.warning(
                    "The broker did not take message %s; the dispatcher sends it on its next run",
                    pk,
                    exc_info=True,
                )

    transaction.on_commit(notify, robust=True)


# -- links in messages ----------------------------------------------------------------------------


def link_token(link):
    """What the URL carries: the link's nonce signed with the site's key."""
    return signing.Signer(salt=LINK_SALT).sign(link.nonce)


def link_nonce(token):
    """The nonce of a token, or ``signing.BadSignature`` if it was tampered with."""
    return signing.Signer(salt=LINK_SALT).unsign(token)


def link_url(link, action=None):
    if action:
        path = reverse("treatment_sessions:message_link_action", args=[link_token(link), action])
    else:
        path = reverse("treatment_sessions:message_link", args=[link_token(link)])
    return settings.SITE_URL + path


def _link_expiry(message, now):
    if message.kind == Kind.REMINDER:
        return message.appointment.starts_at
    return now + timedelta(days=settings.FOLLOW_UP_LINK_VALID_DAYS)


# -- sending --------------------------------------------------------------------------------------


@dataclass
class DispatchReport:
    counts: dict = field(default_factory=dict)

    def add(self, outcome):
        if outcome:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1


@dataclass
class _Verdict:
    """What to do instead of sending: a final status with the reason, or wait until ``later``."""

    status: str
    reason: str = ""
    later: object = None


class _ClaimLost(Exception):
    """Someone else (the stale-claim recovery) took the row over."""


@transaction.atomic
def messages_claim_due(*, now=None, limit=CLAIM_BATCH, ids=None):
    """Claim up to ``limit`` due messages for sending: ``[(id, claim token)]``. Locks them with
    SKIP LOCKED, so a second dispatcher running at the same moment claims other rows or none,
    and commits them as ``sending`` so no later dispatcher claims them either."""
    now = _utc_now(now)
    due = OutboundMessage.objects.select_for_update(skip_locked=True).filter(
        status=Status.SCHEDULED, next_attempt_at__lte=now
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    chosen = list(due.order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    if not chosen:
        return []
    token = uuid.uuid4()
    OutboundMessage.objects.filter(pk__in=chosen).update(
        status=Status.SENDING,
        claim_token=token,
        claimed_at=now,
        provider_called_at=None,
        updated_at=now,
    )
    return [(pk, token) for pk in chosen]


def messages_dispatch_due(*, now=None, batch_size=CLAIM_BATCH, budget_seconds=None):
    """Send everything due: first re-examine stale claims, then claim and send batches until
    nothing is due or the time budget is used. The beat task calls it every minute; any number
    may run at once. Returns a ``DispatchReport`` of outcomes."""
    report = DispatchReport()
    for outcome in messages_recover_stale(now=now):
        report.add(outcome)
    budget = DISPATCH_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = monotonic()
    while monotonic() - started < budget:
        claimed = messages_claim_due(now=now, limit=batch_size)
        for message_id, token in claimed:
            report.add(message_deliver(message_id=message_id, claim_token=token, now=now))
        if len(claimed) < batch_size:
            break
    return report


def message_send_now(*, message_id, now=None):
    """Send one message if it is due and nobody holds it (the task queued after commit); else
    nothing, since beat's dispatcher or another worker has it. Returns the outcome or None."""
    claimed = messages_claim_due(now=now, limit=1, ids=[message_id])
    if not claimed:
        return None
    return message_deliver(message_id=message_id, claim_token=claimed[0][1], now=now)


def _claimed(message_id, claim_token):
    return (
        OutboundMessage.objects.select_related(
            "appointment__location", "appointment__course", "patient"
        )
        .filter(pk=message_id, status=Status.SENDING, claim_token=claim_token)
        .first()
    )


def message_deliver(*, message_id, claim_token, now=None):
    """Send one message this dispatcher has claimed and record the outcome (its new status).
    Holds no transaction while talking to the provider. ``None`` if the claim was lost."""
    now = _utc_now(now)
    message = _claimed(message_id, claim_token)
    if message is None:
        return None
    verdict = _verdict(message, now)
    if verdict is not None:
        return _settle(message, claim_token, verdict, now)
    counted = False
    try:
        recipient = _recipient(message)
        content = _prepare(message, claim_token, recipient, now)
        counted = True
        provider_id = _send(message, recipient, content)
    except _ClaimLost:
        return None
    except SendError as exc:
        return _record_failure(message, claim_token, exc, now, counted=counted)
    except Exception as exc:
        logger.exception("Sending message %s failed unexpectedly", message_id)
        error = TransientSendError(f"Unexpected error ({exc.__class__.__name__}).")
        return _record_failure(message, claim_token, error, now, counted=counted)
    return _record_sent(message, claim_token, provider_id, now)


def _verdict(message, now):
    """Why this message should not go out now, or None. Runs just before each send, because
    much can change between planning and sending."""
    appointment, patient = message.appointment, message.patient
    policy = ReminderPolicy.load()
    deadline = None
    if not patient.is_active:
        return _Verdict(Status.SKIPPED, _("The patient's record is archived."))
    if message.kind == Kind.REMINDER:
        if appointment.status not in OPEN:
            reason = VOID_REASONS.get(appointment.status, _("The appointment changed."))
            return _Verdict(Status.VOID, str(reason))
        if appointment.starts_at != message.for_starts_at:
            return _Verdict(Status.VOID, _("The appointment moved."))
        deadline = reminder_deadline(appointment.starts_at, policy)
        if now > deadline:
            return _Verdict(Status.SKIPPED, _("Too late: the appointment is about to start."))
    elif now > message.scheduled_for + AFTER_VISIT_STALE:
        return _Verdict(Status.SKIPPED, _("Too late to be useful."))
    if message.kind == Kind.BOOK_NEXT and not course_needs_next_booking(appointment.course_id, now):
        return _Verdict(Status.SKIPPED, _("The next session is booked (or the course ended)."))
    refusal = _channel_refusal(message)
    if refusal:
        return _Verdict(Status.SKIPPED, refusal)
    if policy.has_quiet_hours and (
        message.channel == MessageChannel.SMS or policy.quiet_hours_for_email
    ):
        zone = appointment.location.zone
        release = quiet_period_end(now, zone, policy.quiet_hours_start, policy.quiet_hours_end)
        if release is not None:
            if deadline is not None and release > deadline:
                return _Verdict(
                    Status.SKIPPED, _("Quiet hours last until too close to the appointment.")
                )
            return _Verdict(
                Status.SCHEDULED, _("Waiting for the end of quiet hours."), later=release
            )
    return None


def _channel_refusal(message):
    patient = message.patient
    if message.channel == MessageChannel.EMAIL:
        if not patient.consents_email_reminders:
            return _("The patient has not agreed to messages by email.")
        if not patient.email:
            return _("No email address on the patient's record.")
        return ""
    if not patient.consents_sms_reminders:
        return _("The patient has not agreed to messages by SMS.")
    if not patient.mobile_phone:
        return _("No mobile number on the patient's record.")
    if not sms.get_sms_backend().enabled:
        return _("The clinic has no SMS provider set up.")
    return ""


def _recipient(message):
    """The address to use now (the record may have changed since planning); a bad one is a
    permanent failure, shown to front desk, never retried."""
    if message.channel == MessageChannel.EMAIL:
        return message.patient.email.strip()
    return sms.normalise_phone(message.patient.mobile_phone)


def _settle(message, claim_token, verdict, now):
    """Record a verdict: a final status with its reason, or back to waiting until later."""
    update = {"status": verdict.status, "status_reason": str(verdict.reason)[:300]}
    if verdict.later is not None:
        update["next_attempt_at"] = verdict.later
    OutboundMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claim_token=claim_token
    ).update(**update, updated_at=now)
    return verdict.status


def _prepare(message, claim_token, recipient, now):
    """Render the message (once: retries send the same words and link), count the attempt and
    mark that the provider is about to be called. Committed before the call."""
    with transaction.atomic():
        row = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=message.pk, status=Status.SENDING, claim_token=claim_token)
            .first()
        )
        if row is None:
            raise _ClaimLost
        link = None
        if message.kind in (Kind.REMINDER, Kind.FOLLOW_UP):
            link, _created = MessageLink.objects.get_or_create(
                message=row, defaults={"expires_at": _link_expiry(message, now)}
            )
        context = _context(message, link)
        with translation.override(message.patient.preferred_language):
            if not row.body_text:
                row.subject = _subject(message, context)[:200]
                row.body_text = render_to_string(_template(message, "txt"), context).strip()
            html = (
                render_to_string(_template(message, "html"), context)
                if message.channel == MessageChannel.EMAIL
                else None
            )
        row.recipient = recipient
        row.attempts = F("attempts") + 1
        row.provider_called_at = timezone.now()
        row.save(
            update_fields=[
                "subject",
                "body_text",
                "recipient",
                "attempts",
                "provider_called_at",
                "updated_at",
            ]
        )
        row.refresh_from_db(fields=["attempts"])
    message.attempts = row.attempts
    return {"subject": row.subject, "text": row.body_text, "html": html}


def _template(message, extension):
    folder = "email" if message.channel == MessageChannel.EMAIL else "reminders/sms"
    return f"treatment_sessions/{folder}/{message.kind}.{extension}"


def _subject(message, context):
    subjects = {
        Kind.REMINDER: _("Your appointment at %(clinic)s on %(date)s"),
        Kind.AFTERCARE: _("After your visit to %(clinic)s"),
        Kind.FOLLOW_UP: _("How are you after your visit to %(clinic)s?"),
        Kind.BOOK_NEXT: _("Time to book your next visit to %(clinic)s"),
    }
    return subjects[message.kind] % {"clinic": context["clinic"].name, "date": context["date"]}


def _context(message, link):
    """What the templates may use: the clinic, the place, the date and time in the location's
    zone and the patient's language, the link. Nothing clinical: no type of treatment, no
    practitioner, no areas (a message can be read by someone else)."""
    appointment = message.appointment
    clinic = ClinicSettings.load()
    local = timezone.localtime(appointment.starts_at, appointment.location.zone)
    patient = message.patient
    with translation.override(patient.preferred_language):
        date = formats.date_format(local, "l j F Y")
        short_date = formats.date_format(local, "D j M")
        time = formats.time_format(local, "H:i")
    context = {
        "clinic": clinic,
        "location": appointment.location,
        "phone": appointment.location.phone or clinic.phone,
        "date": date,
        "short_date": short_date,
        "time": time,
        "first_name": patient.preferred_name or patient.legal_first_name,
        "confirmed": appointment.status == AppointmentStatus.CONFIRMED,
        "aftercare": clinic.aftercare_template,
        "portal_url": settings.SITE_URL + reverse("treatment_sessions:my_schedule")
        if patient.portal_user_id
        else "",
        "site_url": settings.SITE_URL,
        "LANGUAGE_CODE": patient.preferred_language,
    }
    if link is not None:
        context.update(
            link_url=link_url(link),
            confirm_url=link_url(link, "confirm"),
            cancel_url=link_url(link, "cancel"),
        )
    return context


def _send(message, recipient, content):
    key = str(message.idempotency_key)
    if message.channel == MessageChannel.SMS:
        return sms.get_sms_backend().send(to=recipient, body=content["text"], idempotency_key=key)
    attachments = []
    if message.kind == Kind.REMINDER:
        clinic_name = ClinicSettings.load().name
        attachments.append(
            (
                "appointment.ics",
                ical.reminder_calendar(message.appointment, summary=clinic_name),
                "text/calendar",
            )
        )
    clinic = ClinicSettings.load()
    return mail.send_email(
        to=recipient,
        subject=content["subject"],
        text=content["text"],
        html=content["html"],
        attachments=attachments,
        idempotency_key=key,
        reply_to=message.appointment.location.email or clinic.email or None,
    )


def _record_sent(message, claim_token, provider_id, now, reason=""):
    done = OutboundMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claim_token=claim_token
    ).update(
        status=Status.SENT,
        sent_at=now,
        provider_id=(provider_id or "")[:200],
        status_reason=reason[:300],
        last_error="",
        updated_at=now,
    )
    if not done:
        return None
    audit.record(
        actor=None,
        action="message.sent",
        target=message,
        patient_id=message.patient_id,
        detail={"kind": message.kind, "channel": message.channel, "attempts": message.attempts},
    )
    return Status.SENT


def _retry_delay(attempts):
    index = min(max(attempts, 1), len(RETRY_BACKOFF_MINUTES)) - 1
    return timedelta(minutes=RETRY_BACKOFF_MINUTES[index])


def _record_failure(message, claim_token, error, now, *, counted):
    """A failure that may pass is retried with back-off until ``MESSAGES_MAX_ATTEMPTS``; one
    that cannot (bad number, refused) fails at once. Failed rows wait for front desk."""
    attempts = message.attempts if counted else message.attempts + 1
    final = error.permanent or attempts >= settings.MESSAGES_MAX_ATTEMPTS
    update = {
        "attempts": attempts,
        "last_error": error.message[:2000],
        "updated_at": now,
        "status": Status.FAILED if final else Status.SCHEDULED,
    }
    if final:
        update["status_reason"] = (
            _("Not sent: this cannot work as it is.")
            if error.permanent
            else _("Not sent after %(n)s tries.") % {"n": attempts}
        )
    else:
        update["next_attempt_at"] = now + _retry_delay(attempts)
        update["status_reason"] = _("Will try again.")
    done = OutboundMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claim_token=claim_token
    ).update(**update)
    if not done:
        return None
    if final:
        audit.record(
            actor=None,
            action="message.failed",
            target=message,
            patient_id=message.patient_id,
            detail={"kind": message.kind, "channel": message.channel, "attempts": attempts},
        )
    return update["status"]


# -- recovering from a worker that died -----------------------------------------------------------


def messages_recover_stale(*, now=None, limit=CLAIM_BATCH):
    """Re-examine messages left ``sending`` for longer than ``MESSAGES_SENDING_STALE_SECONDS``
    (their worker died: killed, out of memory, the machine restarted). Takes them over with a
    new claim token under SKIP LOCKED, so two dispatchers never recover the same row. Returns
    the outcomes."""
    now = _utc_now(now)
    cutoff = now - timedelta(seconds=settings.MESSAGES_SENDING_STALE_SECONDS)
    with transaction.atomic():
        stale = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENDING, claimed_at__lt=cutoff)
            .order_by("claimed_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not stale:
            return []
        token = uuid.uuid4()
        OutboundMessage.objects.filter(pk__in=stale).update(
            claim_token=token, claimed_at=now, updated_at=now
        )
    return [_recover_one(pk, token, now) for pk in stale]


UNKNOWN_OUTCOME = _(
    "The worker stopped while sending, so this may or may not have reached the patient. "
    "Check with the patient before sending it again."
)


# A provider that cannot be asked for this long after the send is given up on.
LOOKUP_GIVE_UP = timedelta(days=1)


def _fail_unknown(message, claim_token, now):
    done = OutboundMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claim_token=claim_token
    ).update(
        status=Status.FAILED,
        status_reason=str(_("Outcome unknown: check before sending again.")),
        last_error=str(UNKNOWN_OUTCOME),
        updated_at=now,
    )
    if done:
        audit.record(
            actor=None,
            action="message.failed",
            target=message,
            patient_id=message.patient_id,
            detail={"kind": message.kind, "channel": message.channel, "outcome": "unknown"},
        )
    return Status.FAILED if done else None


def _recover_one(message_id, claim_token, now):
    message = _claimed(message_id, claim_token)
    if message is None:
        return None
    if message.provider_called_at is None:
        # Died before the provider was called: nothing went out, simply send it.
        return _settle(
            message, claim_token, _Verdict(Status.SCHEDULED, _("Sending again."), later=now), now
        )
    backend = sms.get_sms_backend() if message.channel == MessageChannel.SMS else None
    if backend is None or not backend.can_look_up:
        # No way to know: fail it for a person to decide rather than risk sending it twice.
        return _fail_unknown(message, claim_token, now)
    try:
        provider_id = backend.find_sent(
            to=message.recipient,
            body=message.body_text,
            since=message.created_at,
            idempotency_key=str(message.idempotency_key),
        )
    except SendError as exc:
        if now - message.provider_called_at > LOOKUP_GIVE_UP:
            return _fail_unknown(message, claim_token, now)
        # Cannot tell yet: leave it claimed; it goes stale again and is looked up later.
        OutboundMessage.objects.filter(pk=message.pk, claim_token=claim_token).update(
            last_error=exc.message[:2000], updated_at=now
        )
        return None
    if provider_id:
        return _record_sent(
            message,
            claim_token,
            provider_id,
            now,
            reason=str(_("Found at the provider after the worker stopped.")),
        )
    if message.attempts >= settings.MESSAGES_MAX_ATTEMPTS:
        error = TransientSendError(str(_("The provider never received it.")))
        return _record_failure(message, claim_token, error, now, counted=True)
    return _settle(
        message,
        claim_token,
        _Verdict(Status.SCHEDULED, _("The provider never received it; sending again."), later=now),
        now,
    )


# -- front desk -----------------------------------------------------------------------------------


@transaction.atomic
def message_resend(*, actor, message, now=None):
    """Front desk and managers: send a failed message again now (after correcting the number,
    or once the patient said it never arrived). It gets a new idempotency key so the provider
    does not take it for the failed try. Locks the row so a double click sends it once."""
    now = _utc_now(now)
    message = OutboundMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != Status.FAILED:
        raise ConflictError(
            _("Only a failed message can be sent again; this one is %(status)s.")
            % {"status": message.get_status_display().lower()},
            extra={"status": message.status},
        )
    message.status = Status.SCHEDULED
    message.next_attempt_at = now
    message.attempts = 0
    message.idempotency_key = uuid.uuid4()
    message.claim_token = None
    message.claimed_at = None
    message.provider_called_at = None
    message.resent_by = actor
    message.status_reason = _("Sent again by %(who)s.") % {"who": actor}
    message.save()
    audit.record(
        actor=actor,
        action="message.resent",
        target=message,
        patient_id=message.patient_id,
        detail={"kind": message.kind, "channel": message.channel},
    )
    _notify_broker_on_commit([message.pk])
    return message


__all__ = [
    "DispatchReport",
    "course_needs_next_booking",
    "link_nonce",
    "link_token",
    "link_url",
    "message_deliver",
    "message_resend",
    "message_send_now",
    "messages_after_completion",
    "messages_claim_due",
    "messages_dispatch_due",
    "messages_recover_stale",
    "reminder_policy_update",
    "reminders_on_status_change",
    "reminders_plan",
    "reminders_replan",
]
