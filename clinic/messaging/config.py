"""Turning environment values into messaging settings, strictly: an unknown back-end or a
missing provider credential stops start-up with a message instead of failing at 3 a.m.

Pure functions (no Django imports beyond the exception) so ``clinic.settings`` can use them."""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

SMS_BACKENDS = {
    "console": "clinic.messaging.sms.ConsoleSmsBackend",
    "file": "clinic.messaging.sms.FileSmsBackend",
    "twilio": "clinic.messaging.sms.TwilioSmsBackend",
    "disabled": "clinic.messaging.sms.DisabledSmsBackend",
}


def sms_settings(values, *, debug):
    """``(backend dotted path, options)`` from the raw environment ``values`` (a dict of
    strings). The back-end defaults to the console in development and to none in production
    (SMS messages are then skipped with that reason, never lost silently)."""
    name = (values.get("SMS_BACKEND") or ("console" if debug else "disabled")).strip().lower()
    if name not in SMS_BACKENDS:
        raise ImproperlyConfigured(
            f"SMS_BACKEND must be one of {', '.join(sorted(SMS_BACKENDS))}; got {name!r}"
        )
    timeout = values.get("SMS_TIMEOUT_SECONDS") or "10"
    try:
        timeout = float(timeout)
    except ValueError as exc:
        raise ImproperlyConfigured("SMS_TIMEOUT_SECONDS must be a number of seconds") from exc
    if not 0 < timeout <= 120:
        raise ImproperlyConfigured("SMS_TIMEOUT_SECONDS must be between 0 and 120 seconds")
    options = {}
    if name == "file":
        options["directory"] = values.get("SMS_FILE_PATH") or ""
        if not options["directory"]:
            raise ImproperlyConfigured("SMS_BACKEND=file needs SMS_FILE_PATH (a directory)")
    if name == "twilio":
        options = {
            "account_sid": values.get("TWILIO_ACCOUNT_SID") or "",
            "auth_token": values.get("TWILIO_AUTH_TOKEN") or "",
            "from_number": values.get("TWILIO_FROM_NUMBER") or "",
            "messaging_service_sid": values.get("TWILIO_MESSAGING_SERVICE_SID") or "",
            "api_base": (values.get("TWILIO_API_BASE") or "https://api.twilio.com").rstrip("/"),
            "timeout": timeout,
        }
        missing = [k for k in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not values.get(k)]
        if not (options["from_number"] or options["messaging_service_sid"]):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if missing:
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs " + ", ".join(missing))
        api = urlparse(options["api_base"])
        if api.scheme not in ("http", "https") or not api.netloc:
            raise ImproperlyConfigured("TWILIO_API_BASE must be an http(s) URL")
        if api.scheme == "http" and not debug:
            raise ImproperlyConfigured("TWILIO_API_BASE must use https when DEBUG is off")
    return SMS_BACKENDS[name], options


def site_url(value, *, debug, allowed_hosts, port="8000"):
    """The absolute address links in messages point at (``https://clinic.example.org``).
    Defaults to the development server in debug and to the first allowed host otherwise."""
    if not value:
        if debug:
            value = f"http://127.0.0.1:{port}"
        else:
            host = next((h for h in allowed_hosts if h and "*" not in h and h[0] != "."), "")
            if not host:
                raise ImproperlyConfigured(
                    "SITE_URL must be set (e.g. https://clinic.example.org): links in "
                    "messages to patients need the clinic's address"
                )
            value = f"https://{host}"
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ImproperlyConfigured(f"SITE_URL must be an http(s) address; got {value!r}")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ImproperlyConfigured("SITE_URL is the scheme and host only, without a path")
    return value.rstrip("/")
