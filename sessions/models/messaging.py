"""The outbox of patient messages: the reminder policy and its rules, every message sent or to
send, the links in them and the answers to the follow-up question."""

import secrets
import uuid
from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions.models.scheduling import Appointment

# -- reminders and patient messages ------------------------------------------------------------
#
# The database is the outbox: booking, moving and cancelling write these rows in their own
# transaction, and a Celery beat task sends what is due (``services.reminders``). Redis only
# carries "look now" nudges, so losing it loses nothing.


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


DEFAULT_REMINDER_RULES = [
    (MessageChannel.EMAIL, 48),
    (MessageChannel.SMS, 24),
    (MessageChannel.SMS, 2),
]
MAX_REMINDER_HOURS = 14 * 24


class ReminderPolicy(models.Model):
    """How reminders and after-visit messages go out; exactly one row (``ReminderPolicy.load()``).
    Which reminders and how long before the appointment are its ``ReminderRule`` rows.

    Quiet hours are wall-clock times in each location's own time zone. A message due inside
    them waits for their end if it is still useful then, otherwise it is skipped."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    quiet_hours_start = models.TimeField(_("quiet hours from"), default=time(21, 0))
    quiet_hours_end = models.TimeField(_("quiet hours until"), default=time(8, 0))
    quiet_hours_for_email = models.BooleanField(
        _("email waits for the end of quiet hours too"),
        default=False,
        help_text=_("SMS always waits; an email does not wake anyone up."),
    )
    minimum_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"),
        default=60,
        validators=[MaxValueValidator(24 * 60, _("At most a day (1440 minutes)."))],
        help_text=_(
            "A reminder that could only go out less than this before the appointment is "
            "skipped instead."
        ),
    )
    aftercare_enabled = models.BooleanField(
        _("send aftercare advice after a session"), default=True
    )
    follow_up_enabled = models.BooleanField(
        _("ask about side effects after a session"), default=True
    )
    follow_up_after_hours = models.PositiveSmallIntegerField(
        _("ask about side effects after (hours)"),
        default=24,
        validators=[
            MinValueValidator(1, _("At least an hour.")),
            MaxValueValidator(7 * 24, _("At most a week (168 hours).")),
        ],
    )
    book_next_enabled = models.BooleanField(
        _("remind to book the next session of a course"), default=True
    )
    book_next_after_hours = models.PositiveSmallIntegerField(
        _("remind to book the next session after (hours)"),
        default=48,
        validators=[
            MinValueValidator(1, _("At least an hour.")),
            MaxValueValidator(30 * 24, _("At most 30 days (720 hours).")),
        ],
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policy")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="reminder_policy_single_row"),
            models.CheckConstraint(
                condition=Q(minimum_notice_minutes__lte=24 * 60),
                name="reminder_policy_notice_at_most_a_day",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_after_hours__gte=1, follow_up_after_hours__lte=7 * 24),
                name="reminder_policy_follow_up_within_a_week",
            ),
            models.CheckConstraint(
                condition=Q(book_next_after_hours__gte=1, book_next_after_hours__lte=30 * 24),
                name="reminder_policy_book_next_within_a_month",
            ),
        ]

    def __str__(self):
        return str(_("Reminder policy"))

    @classmethod
    def load(cls):
        """The policy, created with the default rules (email 48 h, SMS 24 h and 2 h before) the
        first time it is read. A manager who later removes every rule keeps none."""
        policy, created = cls.objects.get_or_create(singleton=True)
        if created:
            ReminderRule.objects.bulk_create(
                [ReminderRule(channel=c, hours_before=h) for c, h in DEFAULT_REMINDER_RULES],
                ignore_conflicts=True,
            )
        return policy

    @property
    def has_quiet_hours(self):
        return self.quiet_hours_start != self.quiet_hours_end


class ReminderRule(models.Model):
    """One reminder sent before every appointment: on a channel, so many hours before."""

    channel = models.CharField(_("channel"), max_length=5, choices=MessageChannel.choices)
    hours_before = models.PositiveSmallIntegerField(
        _("hours before the appointment"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REMINDER_HOURS)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-hours_before", "channel"]
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "hours_before"], name="reminder_rule_once_per_channel_and_time"
            ),
            models.CheckConstraint(
                condition=Q(hours_before__gte=1, hours_before__lte=MAX_REMINDER_HOURS),
                name="reminder_rule_hours_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.hours_before} h"


class OutboundMessage(models.Model):
    """One message to a patient about an appointment, from planning to its outcome.

    ``scheduled`` rows wait for ``next_attempt_at``; the dispatcher claims them (``sending``,
    with a claim token), sends, and records ``sent`` (with the provider's id), ``failed`` (with
    the error; retried with back-off until the limit) or ``skipped`` (with the reason: no
    consent, no address, too late). Moving or cancelling the appointment makes its waiting
    reminders ``void``. At most one live row per appointment, kind, channel and time."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        AFTERCARE = "aftercare", _("Aftercare advice")
        FOLLOW_UP = "follow_up", _("Side-effects check")
        BOOK_NEXT = "book_next", _("Book the next session")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        VOID = "void", _("Withdrawn")

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="messages")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=5, choices=MessageChannel.choices)
    hours_before = models.PositiveSmallIntegerField(null=True, blank=True)
    # The appointment's start when this was planned: a reminder for another time is stale.
    for_starts_at = models.DateTimeField()
    scheduled_for = models.DateTimeField(_("due"))
    next_attempt_at = models.DateTimeField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    recipient = models.CharField(_("sent to"), max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    provider_id = models.CharField(_("provider id"), max_length=200, blank=True)
    # Sent with the message (email Message-ID) so a retry after a crash can be recognised.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set (and committed) just before the provider is called: a claim that went stale with it
    # set may have reached the patient; without it, it certainly did not.
    provider_called_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        verbose_name = _("message to a patient")
        verbose_name_plural = _("messages to patients")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="scheduled"),
                name="message_due_idx",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="message_sending_idx"
            ),
            models.Index(fields=["patient", "-scheduled_for"], name="message_patient_idx"),
            models.Index(fields=["status", "-scheduled_for"], name="message_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "channel", "scheduled_for"],
                condition=~Q(status="void"),
                name="message_once_per_appointment_kind_channel_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending")
                | Q(claim_token__isnull=False, claimed_at__isnull=False),
                name="message_sending_is_claimed",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.get_channel_display()} · {self.appointment_id}"


def new_link_nonce():
    return secrets.token_urlsafe(16)


class MessageLink(models.Model):
    """The link in a message that lets the patient act without logging in: confirm or cancel
    the appointment (reminders) or answer the side-effects question (follow-up). The URL
    carries the nonce signed with the site's key; it expires and works once."""

    class Action(models.TextChoices):
        CONFIRM = "confirm", _("Confirmed")
        CANCEL = "cancel", _("Cancelled")
        ANSWER = "answer", _("Answered")

    message = models.OneToOneField(OutboundMessage, on_delete=models.CASCADE, related_name="link")
    nonce = models.CharField(max_length=32, unique=True, default=new_link_nonce)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_for = models.CharField(max_length=10, choices=Action.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, used_for="")
                | (Q(used_at__isnull=False) & ~Q(used_for="")),
                name="message_link_used_with_action",
            )
        ]

    def __str__(self):
        return f"Link of message {self.message_id}"


class FollowUpAnswer(models.Model):
    """The patient's answer to "any side effects?" after a session, through the follow-up
    message's link. Shown on the chart to those who read medical history."""

    message = models.OneToOneField(
        OutboundMessage, on_delete=models.CASCADE, related_name="follow_up_answer"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="follow_up_answers"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="follow_up_answers"
    )
    has_side_effects = models.BooleanField(_("reports side effects"))
    details = models.TextField(_("what the patient wrote"), blank=True, max_length=2000)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = _("follow-up answer")
        verbose_name_plural = _("follow-up answers")

    def __str__(self):
        return f"Follow-up answer for appointment {self.appointment_id}"
