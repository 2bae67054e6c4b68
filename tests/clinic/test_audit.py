import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from clinic import audit
from clinic.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_audit_event_records_who_what_and_which_patient(front_desk):
    event = audit.record(
        actor=front_desk, action="patient.viewed", target=front_desk, patient_id=42
    )
    event.refresh_from_db()
    assert (event.actor, event.actor_email, event.patient_id, event.outcome) == (
        front_desk,
        front_desk.email,
        42,
        "success",
    )
    assert event.object_type == "clinic.user"


def test_audit_trail_cannot_be_changed_through_the_orm(front_desk):
    event = audit.record(actor=front_desk, action="x")
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_audit_trail_cannot_be_changed_in_the_database_either(front_desk):
    audit.record(actor=front_desk, action="x")
    for statement in ("UPDATE clinic_auditevent SET action='y'", "DELETE FROM clinic_auditevent"):
        with (
            pytest.raises(InternalError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.filter(action="x").count() == 1
