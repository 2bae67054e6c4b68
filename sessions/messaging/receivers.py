"""How patient messaging follows the diary: receivers of ``sessions.signals``, connected in
``TreatmentSessionsConfig.ready``. Each runs inside the transaction of the change it hears
about and only calls a messaging service."""

import logging

from django.db import transaction

from sessions.messaging import services

logger = logging.getLogger(__name__)


def on_appointment_booked(sender, appointment, **kwargs):
    """A new appointment gets its reminder rows."""
    services.reminders_plan(appointment=appointment)


def on_appointment_moved(sender, appointment, **kwargs):
    """A moved appointment's waiting reminders are planned again for the new time."""
    services.reminders_replan(appointment=appointment)


def on_appointment_status_changed(sender, appointment, to_status, **kwargs):
    """Reminders of a visit no longer ahead of the patient are withdrawn."""
    services.reminders_on_status_change(appointment=appointment, to_status=to_status)


def on_appointment_completed(sender, appointment, actor=None, **kwargs):
    """Receiver of ``signals.appointment_completed``. It runs inside the transaction that signs
    the session record: a problem here must not undo the clinical record, so it runs in a
    savepoint and is logged (front desk can still send aftercare by hand)."""
    try:
        with transaction.atomic():
            services.messages_after_completion(appointment=appointment, actor=actor)
    except Exception:
        logger.exception(
            "Could not queue the after-visit messages of appointment %s", appointment.pk
        )
