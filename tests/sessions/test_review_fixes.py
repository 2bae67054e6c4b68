"""Review fixes for the messages API: reading one message to a patient (recipient, subject,
status) is on the audit trail, as the outbox list is."""

import pytest
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from tests.sessions import reminder_helpers
from tests.sessions.test_reminders_views import outbox  # noqa: F401

pytestmark = pytest.mark.django_db
messaging = reminder_helpers.messaging


def test_reading_one_message_through_the_api_is_audited(front_desk, outbox):  # noqa: F811
    sent = outbox["sent"]
    client = APIClient()
    client.force_login(front_desk)
    response = client.get(f"/api/v1/messages/{sent.pk}/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="message.viewed")
    assert event.actor == front_desk and event.patient_id == sent.patient_id
    assert event.object_id == str(sent.pk)
