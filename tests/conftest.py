import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from clinic.roles import Role, sync_role_permissions
from clinic.services import user_create
from patients.consent_defaults import create_default_consent_templates
from patients.models import ConsentTemplate

pytest_plugins = ["tests.clock"]

PASSWORD = "correct-horse-battery"


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


@pytest.fixture
def roles(db):
    # A transactional test's flush empties what data migrations created; put it back.
    if Group.objects.count() < len(Role):
        sync_role_permissions()
    create_default_consent_templates(ConsentTemplate)


def make_user(role, email, name="Test User"):
    return user_create(actor=None, email=email, password=PASSWORD, full_name=name, role=role)


@pytest.fixture
def manager(roles):
    return make_user(Role.MANAGER, "manager@test.clinic", "Mia Manager")


@pytest.fixture
def front_desk(roles):
    return make_user(Role.FRONT_DESK, "desk@test.clinic", "Fred Desk")


@pytest.fixture
def practitioner_user(roles):
    return make_user(Role.PRACTITIONER, "doc@test.clinic", "Dr Pia Practitioner")


@pytest.fixture
def patient_user(roles):
    return make_user(Role.PATIENT, "pat@test.clinic", "Pat Patient")


@pytest.fixture
def other_patient_user(roles):
    return make_user(Role.PATIENT, "other@test.clinic", "Olga Other")


@pytest.fixture
def api():
    """``api(user)``: a fresh API client logged in as ``user`` (anonymous without one)."""

    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return _client


@pytest.fixture
def client_for(client):
    """Log a Django test client in as a user: ``client_for(user)``."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
