"""Clinic-wide channels for messages to patients: email through Django's email framework and
SMS through a small back-end interface (console and file back-ends for development, Twilio's
REST API in production). The apps decide what to say and when; these modules only deliver and
report the outcome as a provider id or a ``SendError`` that says whether trying again can help.

``config`` is read by ``clinic.settings`` and imports nothing from Django's runtime."""

from .errors import PermanentSendError, SendError, TransientSendError

__all__ = ["PermanentSendError", "SendError", "TransientSendError"]
