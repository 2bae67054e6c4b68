import pytest

# The suite's shared fixtures and helpers live in plain modules registered here (never imported
# from another folder's conftest or test module): people and API clients, the scheduling scene,
# messaging, the clinical record, billing.
pytest_plugins = [
    "tests.clock",
    "tests.fixtures.people",
    "tests.fixtures.scheduling",
    "tests.fixtures.messaging",
    "tests.fixtures.clinical",
    "tests.fixtures.billing",
]


@pytest.fixture(autouse=True)
def _fast_and_private_test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.SECURE_SSL_REDIRECT = False
    # Services tell Celery about messages due now after commit; tests never talk to a broker
    # unless they say so (tests/sessions/test_reminders_worker.py).
    settings.MESSAGES_NOTIFY_BROKER = False
