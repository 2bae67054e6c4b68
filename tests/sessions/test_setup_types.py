"""The manager's appointment-type pages (part of the clinic set-up)."""

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from sessions.models import AppointmentType

pytestmark = pytest.mark.django_db

NEW_TYPE = {
    "name": "Face treatment",
    "kind": "treatment",
    "duration_minutes": "45",
    "buffer_after_minutes": "15",
    "colour": "#884488",
    "needs_room": "on",
    "is_active": "on",
}


@pytest.fixture
def consultation(roles):
    return AppointmentType.objects.create(
        name="First consultation", kind="consultation", duration_minutes=30
    )


def type_urls(appointment_type):
    return [
        reverse("treatment_sessions:setup_types"),
        reverse("treatment_sessions:setup_type_new"),
        reverse("treatment_sessions:setup_type_edit", args=[appointment_type.pk]),
    ]


@pytest.mark.parametrize("who", ["front_desk", "practitioner_user", "patient_user"])
def test_only_the_manager_may_open_or_post_to_the_type_pages(
    request, client_for, consultation, who
):
    client = client_for(request.getfixturevalue(who))
    for url in type_urls(consultation):
        assert client.get(url).status_code == 403, url
        assert client.post(url, NEW_TYPE).status_code == 403, url
    assert AppointmentType.objects.count() == 1
    consultation.refresh_from_db()
    assert consultation.name == "First consultation"


def test_manager_opens_the_type_pages(client_for, manager, consultation):
    client = client_for(manager)
    for url in type_urls(consultation):
        assert client.get(url).status_code == 200, url


def test_manager_adds_and_edits_an_appointment_type(client_for, manager):
    client = client_for(manager)
    response = client.post(reverse("treatment_sessions:setup_type_new"), NEW_TYPE)
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment_sessions:setup_types")
    kind = AppointmentType.objects.get(name="Face treatment")
    assert (kind.duration_minutes, kind.buffer_after_minutes, kind.needs_room) == (45, 15, True)

    edited = {**NEW_TYPE, "duration_minutes": "60"}
    del edited["needs_room"]
    response = client.post(reverse("treatment_sessions:setup_type_edit", args=[kind.pk]), edited)
    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.duration_minutes, kind.needs_room) == (60, False)
    created, changed = AuditEvent.objects.filter(
        action="setup.appointment_type_saved", object_id=str(kind.pk), actor=manager
    ).order_by("at", "id")
    assert created.detail["created"] is True
    assert set(changed.detail["changed"]) == {"duration_minutes", "needs_room"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_minutes", "0", "The duration must be at least 1 minute."),
        ("duration_minutes", "", "This field is required."),
        ("buffer_after_minutes", "-5", "The buffer cannot be negative."),
        ("colour", "blue", "Pick a colour"),
        ("kind", "surgery", "Select a valid choice."),
    ],
)
def test_bad_type_input_is_shown_at_the_field_and_nothing_is_saved(
    client_for, manager, field, value, message
):
    response = client_for(manager).post(
        reverse("treatment_sessions:setup_type_new"), {**NEW_TYPE, field: value}
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not AppointmentType.objects.exists()
    assert not AuditEvent.objects.filter(action="setup.appointment_type_saved").exists()


def test_a_duplicate_name_is_refused_at_the_name(client_for, manager, consultation):
    response = client_for(manager).post(
        reverse("treatment_sessions:setup_type_new"), {**NEW_TYPE, "name": consultation.name}
    )
    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["name"][0]


def test_the_service_refuses_a_zero_duration(manager):
    from clinic.errors import ApplicationError
    from sessions.services.types import appointment_type_save

    with pytest.raises(ApplicationError) as exc:
        appointment_type_save(
            actor=manager,
            data={"name": "Nothing", "kind": "treatment", "duration_minutes": 0},
        )
    assert exc.value.field == "duration_minutes"
    assert not AppointmentType.objects.exists()


def test_the_type_list_uses_a_bounded_number_of_queries(
    client_for, manager, django_assert_max_num_queries
):
    client = client_for(manager)
    for i in range(8):
        AppointmentType.objects.create(name=f"Type {i}", kind="treatment", duration_minutes=30)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("treatment_sessions:setup_types"))
    assert response.status_code == 200
    assert "Type 7" in response.content.decode()
