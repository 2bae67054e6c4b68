"""Email through Django's email framework (SMTP, the console in development, or any
django-anymail back-end for a provider's API): a text and an HTML part and attachments."""

import smtplib
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from .errors import PermanentSendError, TransientSendError


def message_id_for(idempotency_key):
    """A Message-ID derived from the key: a retry of the same message carries the same id, so
    mail systems that deduplicate on it show the patient one email."""
    domain = urlparse(settings.SITE_URL).hostname or "localhost"
    return f"<{idempotency_key}@{domain}>"


def send_email(
    *, to, subject, text, html=None, attachments=(), idempotency_key, reply_to=None, from_email=None
):
    """Send one email; the provider's message id (or our Message-ID), or a ``SendError``.
    ``attachments`` are ``(filename, content bytes, mimetype)``."""
    try:
        validate_email(to)
    except ValidationError as exc:
        raise PermanentSendError(f"{to} is not a valid email address.") from exc
    message_id = message_id_for(idempotency_key)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=[to],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": message_id},
    )
    if html:
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    try:
        accepted = message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentSendError(f"The mail server refused {to}.") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientSendError(f"The mail server could not take the email ({exc}).") from exc
    except Exception as exc:
        # django-anymail: a refused recipient is final, anything else is worth another try.
        if exc.__class__.__name__ in ("AnymailRecipientsRefused", "AnymailInvalidAddress"):
            raise PermanentSendError(f"The email provider refused {to}: {exc}") from exc
        if exc.__class__.__module__.startswith("anymail"):
            raise TransientSendError(f"The email provider failed: {exc}") from exc
        raise
    if not accepted:
        raise TransientSendError("The email back-end accepted nothing.")
    status = getattr(message, "anymail_status", None)
    return (getattr(status, "message_id", None) or message_id)[:200]
