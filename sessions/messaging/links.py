"""What a patient does through the link in a message, without logging in: confirm or cancel
the appointment a reminder is about, or answer the side-effects question after a session.

The link's token is its nonce signed with the site's key (a changed character fails the
signature); the nonce names one ``MessageLink`` row, which expires and is used up by the first
action. Anything wrong (tampered, unknown, expired, used, the appointment moved or no longer
open, inside the cancellation window) raises ``LinkError`` or the portal's ``ConflictError``
with a message for the patient, and the transaction changes nothing.
"""

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError
from sessions.messaging.services import OPEN, link_nonce
from sessions.models import Appointment, FollowUpAnswer, MessageLink, OutboundMessage
from sessions.services.portal import portal_appointment_cancel, portal_appointment_confirm

Kind = OutboundMessage.Kind


class LinkError(ApplicationError):
    """A link that cannot be used, with the reason for the patient. ``status_code`` is 404 for
    a link that does not exist (or was tampered with) and 410 for one that did but is gone."""

    def __init__(self, message, *, status_code=410, link=None):
        super().__init__(message)
        self.status_code = status_code
        self.link = link


def _used_text(link):
    local = timezone.localtime(link.used_at, link.message.appointment.location.zone)
    when = local.strftime("%d %b %Y %H:%M")
    return {
        MessageLink.Action.CONFIRM: _("You confirmed this appointment on %(when)s."),
        MessageLink.Action.CANCEL: _("You cancelled this appointment on %(when)s."),
        MessageLink.Action.ANSWER: _("You answered on %(when)s. Thank you."),
    }[link.used_for] % {"when": when}


def message_link_get(token, *, now=None, for_update=False):
    """The usable link a token names, else ``LinkError`` saying why. Public: the token is the
    only credential, so an unknown and a tampered token get the same answer."""
    now = now or timezone.now()
    invalid = _("This link is not valid. It may have been copied incompletely.")
    try:
        nonce = link_nonce(token)
    except signing.BadSignature:
        raise LinkError(invalid, status_code=404) from None
    links = MessageLink.objects.select_related(
        "message__appointment__location", "message__patient"
    ).filter(nonce=nonce, message__patient__is_active=True)
    if for_update:
        links = links.select_for_update(of=("self",))
    link = links.first()
    if link is None:
        raise LinkError(invalid, status_code=404)
    if link.used_at is not None:
        raise LinkError(_("This link has already been used.") + " " + _used_text(link), link=link)
    return message_link_check(link, now=now)


def message_link_check(link, *, now):
    """``link`` if it has not expired and, for a reminder, its appointment is still open and at
    the time the message gave; else ``LinkError``."""
    if link.expires_at <= now:
        raise LinkError(_("This link has expired."), link=link)
    message = link.message
    if message.kind == Kind.REMINDER:
        appointment = message.appointment
        if appointment.starts_at != message.for_starts_at:
            raise LinkError(
                _("This appointment has been moved since this message was sent."), link=link
            )
        if appointment.status not in OPEN:
            raise LinkError(
                _("This appointment is %(status)s, so it can no longer be changed here.")
                % {"status": appointment.get_status_display().lower()},
                link=link,
            )
    return link


def _use(link, action, now):
    link.used_at = now
    link.used_for = action
    link.save(update_fields=["used_at", "used_for"])


def _reminder_link(token, now):
    """The link, locked, and its appointment, locked and checked again under the lock (it may
    have been moved or cancelled since the page was shown)."""
    link = message_link_get(token, now=now, for_update=True)
    if link.message.kind != Kind.REMINDER:
        raise LinkError(_("This link is not for changing an appointment."), status_code=404)
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("location")
        .get(pk=link.message.appointment_id)
    )
    link.message.appointment = appointment
    return message_link_check(link, now=now)


@transaction.atomic
def message_link_confirm(*, token, now=None):
    """The patient confirms from a reminder: the appointment becomes confirmed (front desk
    sees it on the calendar) and the link is used up. Locks the link so a double tap
    confirms once."""
    now = now or timezone.now()
    link = _reminder_link(token, now)
    message = link.message
    appointment = portal_appointment_confirm(
        actor=None, patient=message.patient, appointment=message.appointment, now=now
    )
    _use(link, MessageLink.Action.CONFIRM, now)
    audit.record(
        actor=None,
        action="message_link.confirmed",
        target=message,
        patient_id=message.patient_id,
        detail={"appointment": appointment.pk},
    )
    return appointment


@transaction.atomic
def message_link_cancel(*, token, reason="", now=None):
    """The patient cancels from a reminder, under the portal's rules: inside the clinic's
    cancellation window it is refused (``ConflictError`` asking them to call) and nothing
    changes, the link included. Front desk sees the cancellation in the calendar's inbox."""
    now = now or timezone.now()
    link = _reminder_link(token, now)
    message = link.message
    appointment = portal_appointment_cancel(
        actor=None,
        patient=message.patient,
        appointment=message.appointment,
        reason=(reason or "").strip()[:300] or _("Cancelled from a reminder"),
        now=now,
    )
    _use(link, MessageLink.Action.CANCEL, now)
    audit.record(
        actor=None,
        action="message_link.cancelled",
        target=message,
        patient_id=message.patient_id,
        detail={"appointment": appointment.pk},
    )
    return appointment


@transaction.atomic
def follow_up_answer_record(*, token, has_side_effects, details="", now=None):
    """The patient answers "any side effects?" after a session. The answer goes on their
    record for the practitioner (shown on the chart to those who read medical history)."""
    now = now or timezone.now()
    link = message_link_get(token, now=now, for_update=True)
    message = link.message
    if message.kind != Kind.FOLLOW_UP:
        raise LinkError(_("This link is not for answering a question."), status_code=404)
    details = (details or "").strip()
    if has_side_effects and not details:
        raise ApplicationError(
            _("Tell us what you noticed, so the practitioner can call you if needed."),
            field="details",
        )
    answer = FollowUpAnswer(
        message=message,
        appointment=message.appointment,
        patient=message.patient,
        has_side_effects=has_side_effects,
        details=details[:2000],
        answered_at=now,
    )
    answer.full_clean()
    answer.save()
    _use(link, MessageLink.Action.ANSWER, now)
    audit.record(
        actor=None,
        action="follow_up.answered",
        target=answer,
        patient_id=message.patient_id,
        detail={"side_effects": has_side_effects},
    )
    return answer


__all__ = [
    "LinkError",
    "follow_up_answer_record",
    "message_link_cancel",
    "message_link_check",
    "message_link_confirm",
    "message_link_get",
]
