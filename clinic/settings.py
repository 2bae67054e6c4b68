"""Settings for the clinic, read from the environment (see README "Settings").

Every secret may also come from a file named by ``<NAME>_FILE`` (Docker/Kubernetes secrets).
"""

import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from clinic.messaging import config as messaging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _secret(name, default=None):
    """Read ``name`` from the environment, or from the file ``<name>_FILE`` points at."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return env.str(name, default=default)


def _positive_int(name, default):
    try:
        value = env.int(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be greater than zero, got {value}")
    return value


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = _secret("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
    SECRET_KEY = "development-only-key-never-used-in-production-0123456789abcdef"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "phonenumber_field",
    "axes",
    "clinic",
    "patients",
    "sessions.apps.TreatmentSessionsConfig",
    "consultations",
    "billing",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.AuditContextMiddleware",
    "clinic.middleware.ClinicLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.middleware.NoStoreForAuthenticatedMiddleware",
    # Last, so it sees the outcome of authentication backends and views.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/clinic"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# The test database is named for this checkout, so two clones testing on one machine never
# drop each other's; pytest-xdist adds its worker's suffix (_gw0, _gw1, ...) to it.
DATABASES["default"]["TEST"] = {
    "NAME": env.str(
        "TEST_DATABASE_NAME",
        default="test_{}_{}".format(
            DATABASES["default"]["NAME"][:30],
            hashlib.sha1(str(BASE_DIR).encode(), usedforsecurity=False).hexdigest()[:8],
        ),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions end after SESSION_IDLE_MINUTES: the expiry is pushed forward on every request
# and stored server-side, so an abandoned desk terminal logs itself out.
SESSION_IDLE_MINUTES = _positive_int("SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Failed-login lockout: 5 failures for one account from one IP lock that pair for 30 minutes.
AXES_FAILURE_LIMIT = _positive_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_positive_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.views.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0)
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
# Libraries come from npm (package-lock.json) and are served from node_modules, never a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/signature_pad", NODE_MODULES / "signature_pad" / "dist"),
    ("vendor/fullcalendar", NODE_MODULES / "fullcalendar-scheduler"),
    ("vendor/fullcalendar-luxon", NODE_MODULES / "@fullcalendar" / "luxon3"),
    ("vendor/luxon", NODE_MODULES / "luxon" / "build" / "global"),
    ("vendor/chart.js", NODE_MODULES / "chart.js"),
]

MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Clinical photos and signatures: never below MEDIA_URL, only through access-checked views.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private_media")))
# Behind nginx: photo downloads answer with X-Accel-Redirect to this internal location
# (e.g. "/protected/" aliased to PRIVATE_MEDIA_ROOT) once access is checked and audited.
PHOTO_X_ACCEL_REDIRECT_PREFIX = env.str("PHOTO_X_ACCEL_REDIRECT_PREFIX", default="")
PHOTO_MAX_UPLOAD_BYTES = env.int("PHOTO_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _secret("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clinic@localhost")
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (development, tests).
EMAIL_FILE_PATH = env.str(
    "EMAIL_FILE_PATH", default=str(Path(tempfile.gettempdir()) / "clinic-mail")
)

# Production hardening; each can be turned off from the environment behind a TLS proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# ``scripts/run.sh`` sets CELERY_BROKER_URL=filesystem:// (a folder as the queue) for development
# when no Redis answers; production always uses Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if CELERY_BROKER_URL.startswith("filesystem://"):
    if not DEBUG:
        raise ImproperlyConfigured("The filesystem:// broker is for development (DEBUG) only")
    _broker_folder = env.str(
        "CELERY_BROKER_FOLDER", default=str(Path(tempfile.gettempdir()) / "clinic-celery-broker")
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_folder,
        "data_folder_out": _broker_folder,
        # Without it kombu writes its broadcast exchanges to ./control in the working tree.
        "control_folder": str(Path(_broker_folder) / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90

# Messages to patients (reminders, aftercare, follow-up): see docs/apps/reminders.md.
# The outbox lives in the database; beat asks a worker to send what is due this often.
MESSAGES_DISPATCH_EVERY_SECONDS = _positive_int("MESSAGES_DISPATCH_EVERY_SECONDS", 60)
# A message claimed for sending longer ago than this is re-examined (its worker died). Must be
# longer than CELERY_TASK_TIME_LIMIT so a live worker is never second-guessed.
MESSAGES_SENDING_STALE_SECONDS = _positive_int("MESSAGES_SENDING_STALE_SECONDS", 600)
# Tries per message before it is failed for good (and shown to front desk to resend).
MESSAGES_MAX_ATTEMPTS = _positive_int("MESSAGES_MAX_ATTEMPTS", 5)
# Whether services nudge a worker after commit for messages due now (tests turn it off).
MESSAGES_NOTIFY_BROKER = env.bool("MESSAGES_NOTIFY_BROKER", default=True)
# Days a patient has to answer the side-effects question through its link.
FOLLOW_UP_LINK_VALID_DAYS = _positive_int("FOLLOW_UP_LINK_VALID_DAYS", 7)
SITE_URL = messaging_config.site_url(
    env.str("SITE_URL", default=""),
    debug=DEBUG,
    allowed_hosts=ALLOWED_HOSTS,
    port=env.str("PORT", default="8000"),
)
SMS_BACKEND, SMS_OPTIONS = messaging_config.sms_settings(
    {
        "SMS_BACKEND": env.str("SMS_BACKEND", default=""),
        "SMS_FILE_PATH": env.str("SMS_FILE_PATH", default=""),
        "SMS_TIMEOUT_SECONDS": env.str("SMS_TIMEOUT_SECONDS", default=""),
        "TWILIO_ACCOUNT_SID": env.str("TWILIO_ACCOUNT_SID", default=""),
        "TWILIO_AUTH_TOKEN": _secret("TWILIO_AUTH_TOKEN", default=""),
        "TWILIO_FROM_NUMBER": env.str("TWILIO_FROM_NUMBER", default=""),
        "TWILIO_MESSAGING_SERVICE_SID": env.str("TWILIO_MESSAGING_SERVICE_SID", default=""),
        "TWILIO_API_BASE": env.str("TWILIO_API_BASE", default=""),
    },
    debug=DEBUG,
)

if MESSAGES_SENDING_STALE_SECONDS <= CELERY_TASK_TIME_LIMIT and not DEBUG:
    raise ImproperlyConfigured(
        "MESSAGES_SENDING_STALE_SECONDS must be longer than the task time limit "
        f"({CELERY_TASK_TIME_LIMIT} s)"
    )
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-messages": {
        "task": "treatment_sessions.dispatch_due_messages",
        "schedule": MESSAGES_DISPATCH_EVERY_SECONDS,
        # A tick nobody ran in time is dropped: the next one finds the same rows.
        "options": {"expires": MESSAGES_DISPATCH_EVERY_SECONDS},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "clinic.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mesoclinic API",
    "DESCRIPTION": "Clinic management for mesotherapy practices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "sessions.models.AppointmentStatus",
        "CourseStatusEnum": "sessions.models.Course.Status",
        "BodyAreaEnum": "clinic.areas.BodyArea",
        "ClinicalRecordStatusEnum": "consultations.models.SessionRecord.Status",
        "SideEffectKindEnum": "consultations.models.SideEffectReport.Kind",
        "AdverseEventKindEnum": "consultations.models.AdverseEvent.Kind",
        "SeverityEnum": "consultations.models.Severity",
        "InvoiceKindEnum": "billing.models.Invoice.Kind",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
        "InvoicePurposeEnum": "billing.models.Invoice.Purpose",
        "InvoiceLineKindEnum": "billing.models.InvoiceLine.Kind",
        "PackageStatusEnum": "billing.models.Package.Status",
        "PaymentPurposeEnum": "billing.models.Payment.Purpose",
        "LedgerEntryKindEnum": "billing.models.LedgerEntry.Kind",
        "AllocationSourceEnum": "billing.models.Allocation.Source",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

CLINIC_PHONE_REGION = env.str("CLINIC_PHONE_REGION", default="US")
PHONENUMBER_DEFAULT_REGION = CLINIC_PHONE_REGION
PHONENUMBER_DB_FORMAT = "E164"
