"""SMS back-ends behind one small interface, chosen by ``settings.SMS_BACKEND``:

- ``ConsoleSmsBackend`` prints (development default);
- ``FileSmsBackend`` writes one JSON file per message, named by its idempotency key;
- ``TwilioSmsBackend`` calls Twilio's REST API with httpx;
- ``DisabledSmsBackend`` when no provider is set up (production default): nothing is sent and
  the caller records why.

``send`` returns the provider's id or raises a ``SendError``. A back-end that can tell whether
a message already went out (``can_look_up``) lets the caller recover a send interrupted by a
crash without sending twice.
"""

import json
import logging
import os
import sys
import tempfile
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import phonenumbers
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from .errors import PermanentSendError, TransientSendError

logger = logging.getLogger(__name__)

# Numbers that cannot receive a text message at all.
_NOT_FOR_SMS = {phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.PAGER}


def normalise_phone(raw, region=None):
    """The number in E.164 form, or ``PermanentSendError`` saying why it cannot get an SMS."""
    text = str(raw or "").strip()
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise PermanentSendError(f"{text} is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise PermanentSendError(f"{text} is not a valid mobile number; correct it on the record.")
    if phonenumbers.number_type(number) in _NOT_FOR_SMS:
        raise PermanentSendError(f"{text} is a landline and cannot receive SMS.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SmsBackend:
    enabled = True
    # True when ``find_sent`` can tell whether a message already reached the provider.
    can_look_up = False

    def send(self, *, to, body, idempotency_key):
        """Hand one SMS to the provider; its id, or a ``SendError``."""
        raise NotImplementedError

    def find_sent(self, *, to, body, since, idempotency_key):
        """The provider's id of this message if it was accepted since ``since``, else None."""
        raise NotImplementedError


class DisabledSmsBackend(SmsBackend):
    enabled = False

    def send(self, *, to, body, idempotency_key):
        raise PermanentSendError("No SMS provider is set up (SMS_BACKEND).")


class ConsoleSmsBackend(SmsBackend):
    """Development: prints each SMS to standard output."""

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, *, to, body, idempotency_key):
        stream = self.stream or sys.stdout
        stream.write(f"--- SMS to {to} ({idempotency_key})\n{body}\n---\n")
        stream.flush()
        return f"console-{idempotency_key}"


class FileSmsBackend(SmsBackend):
    """Development and tests: one ``<idempotency key>.json`` file per message in a directory.
    Writing the same key twice keeps one file, like a provider that deduplicates."""

    can_look_up = True

    def __init__(self, directory):
        self.directory = Path(directory)

    def _path(self, key):
        return self.directory / f"{key}.json"

    def send(self, *, to, body, idempotency_key):
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {"to": to, "body": body, "at": timezone.now().isoformat()}
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle, ensure_ascii=False)
        os.replace(tmp, self._path(idempotency_key))
        return f"file-{idempotency_key}"

    def find_sent(self, *, to, body, since, idempotency_key):
        return f"file-{idempotency_key}" if self._path(idempotency_key).exists() else None


class TwilioSmsBackend(SmsBackend):
    """Twilio's Programmable Messaging REST API (``/2010-04-01/Accounts/{sid}/Messages.json``).

    Twilio has no idempotency key for creating a message, so a send interrupted by a crash is
    recognised by listing the recipient's recent messages and matching the body (each body
    carries its own single-use link, so it is unique)."""

    can_look_up = True

    def __init__(
        self,
        *,
        account_sid,
        auth_token,
        from_number="",
        messaging_service_sid="",
        api_base="https://api.twilio.com",
        timeout=10,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.timeout = timeout
        self.messages_url = f"{api_base}/2010-04-01/Accounts/{account_sid}/Messages.json"

    def _request(self, method, **kwargs):
        try:
            return httpx.request(
                method,
                self.messages_url,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
                headers={"Accept": "application/json"},
                **kwargs,
            )
        except httpx.TimeoutException as exc:
            raise TransientSendError(
                f"The SMS provider did not answer within {self.timeout:g} s."
            ) from exc
        except httpx.HTTPError as exc:
            raise TransientSendError(
                f"The SMS provider could not be reached ({exc.__class__.__name__})."
            ) from exc

    @staticmethod
    def _refusal(response):
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        detail = payload.get("message") or response.reason_phrase or "no reason given"
        code = payload.get("code")
        suffix = f" (Twilio error {code})" if code else ""
        status = response.status_code
        if status == 429 or status >= 500:
            return TransientSendError(
                f"The SMS provider is busy or failing (HTTP {status}): {detail}{suffix}"
            )
        if status in (401, 403):
            # Usually the clinic's credentials: worth retrying once someone fixes them.
            return TransientSendError(
                f"The SMS provider refused the clinic's account (HTTP {status}): {detail}{suffix}"
            )
        return PermanentSendError(f"The SMS provider refused the message: {detail}{suffix}")

    def send(self, *, to, body, idempotency_key):
        data = {"To": to, "Body": body}
        if self.messaging_service_sid:
            data["MessagingServiceSid"] = self.messaging_service_sid
        else:
            data["From"] = self.from_number
        response = self._request("POST", data=data)
        if response.status_code not in (200, 201):
            raise self._refusal(response)
        try:
            sid = response.json().get("sid")
        except ValueError:
            sid = None
        if not sid:
            raise TransientSendError("The SMS provider answered without a message id.")
        return sid

    def find_sent(self, *, to, body, since, idempotency_key):
        params = {"To": to, "PageSize": 50}
        if self.from_number and not self.messaging_service_sid:
            params["From"] = self.from_number
        response = self._request("GET", params=params)
        if response.status_code != 200:
            refusal = self._refusal(response)
            raise TransientSendError(f"Could not check earlier messages: {refusal.message}")
        # Allow for clock differences between the clinic and the provider.
        not_before = since - timedelta(minutes=5)
        for item in response.json().get("messages") or []:
            created = _parse_twilio_date(item.get("date_created"))
            if created is not None and created < not_before:
                continue
            # A trial account prefixes the body; the clinic's text is still all there.
            if body.strip() and body.strip() in (item.get("body") or ""):
                return item.get("sid")
        return None


def _parse_twilio_date(value):
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def get_sms_backend():
    """The back-end ``settings.SMS_BACKEND`` names, with ``settings.SMS_OPTIONS``."""
    return import_string(settings.SMS_BACKEND)(**settings.SMS_OPTIONS)
