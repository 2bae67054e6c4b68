"""Front desk's outbox page and the messages API (filters, resend, roles, query counts), the
manager's reminder policy page and API, and the chart's message history."""

from datetime import time, timedelta

import pytest

from clinic.models import AuditEvent
from patients.models import Patient
from sessions.messaging.services import messages_dispatch_due
from sessions.models import OutboundMessage, ReminderPolicy, ReminderRule
from tests.fixtures.messaging import at, consenting_patient, future_day, make_due
from tests.fixtures.scheduling import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(clinic_setup, front_desk, messaging):
    """Three visits: one whose SMS failed (bad number), one whose email was sent, one with
    its reminders still to come."""
    day = future_day(weekday=1)
    bad = consenting_patient(legal_first_name="Bad", legal_last_name="Number")
    Patient.objects.filter(pk=bad.pk).update(mobile_phone="+1555")
    failing = book(clinic_setup, front_desk, bad, at(day, 10))
    fine = book(
        clinic_setup,
        front_desk,
        consenting_patient(legal_first_name="Fine", legal_last_name="Patient"),
        at(day, 12),
    )
    book(clinic_setup, front_desk, consenting_patient(), at(day, 14))
    now = at(day - timedelta(days=3), 12)  # before any of them is due
    failed = OutboundMessage.objects.get(appointment=failing, hours_before=24)
    sent = OutboundMessage.objects.get(appointment=fine, channel="email")
    for message in (failed, sent):
        make_due(message, now)
    messages_dispatch_due(now=now)
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, sent.status) == ("failed", "sent")
    return {"failed": failed, "sent": sent, "bad": bad}


def test_front_desk_sees_the_outbox_with_the_failure_and_its_reason(client_for, front_desk, outbox):
    page = client_for(front_desk).get("/messages/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="outbox-row"') == 9
    assert "+1555 is not a valid mobile number" in html
    assert 'data-testid="failed-count">1<' in html
    assert "Send again" in html


def test_filters_by_status_channel_kind_and_patient(client_for, front_desk, outbox):
    client = client_for(front_desk)

    def rows(query):
        return client.get("/messages/?" + query).content.decode().count('data-testid="outbox-row"')

    assert rows("status=failed") == 1
    assert rows("status=sent") == 1
    assert rows("status=scheduled") == 7
    assert rows("channel=email") == 3
    assert rows("channel=sms&status=scheduled") == 5
    assert rows("kind=aftercare") == 0
    assert rows(f"patient={outbox['bad'].pk}") == 3
    assert rows("status=nonsense") == 9  # a bad filter is ignored, not a crash


def test_front_desk_resends_from_the_page(client_for, front_desk, outbox):
    failed = outbox["failed"]
    Patient.objects.filter(pk=outbox["bad"].pk).update(mobile_phone="+12125550142")
    response = client_for(front_desk).post(
        f"/messages/{failed.pk}/resend/", {"next": "/messages/?status=failed"}
    )
    assert response.status_code == 302 and response["Location"] == "/messages/?status=failed"
    failed.refresh_from_db()
    assert failed.status == "scheduled" and failed.resent_by == front_desk
    again = client_for(front_desk).post(f"/messages/{failed.pk}/resend/", follow=True)
    assert "Only a failed message can be sent again" in again.content.decode()


@pytest.mark.parametrize("who", ["practitioner_user", "patient_user"])
def test_other_roles_cannot_open_the_outbox(client_for, request, who, outbox):
    client = client_for(request.getfixturevalue(who))
    assert client.get("/messages/").status_code == 403
    assert client.post(f"/messages/{outbox['failed'].pk}/resend/").status_code == 403


def test_outbox_page_costs_a_fixed_number_of_queries(
    client_for, front_desk, outbox, clinic_setup, django_assert_max_num_queries
):
    # The same small number of queries (session, user, role, permissions, audit, the page,
    # its count and the tab counts) however many messages there are.
    client = client_for(front_desk)
    client.get("/messages/")
    with django_assert_max_num_queries(14):
        assert client.get("/messages/").status_code == 200
    day = future_day(weekday=2)
    for hour in range(8, 18):
        book(clinic_setup, front_desk, consenting_patient(), at(day, hour))
    with django_assert_max_num_queries(14):
        page = client.get("/messages/")
    assert page.content.decode().count('data-testid="outbox-row"') == 39


def test_the_chart_shows_the_patients_messages(client_for, front_desk, outbox):
    html = client_for(front_desk).get(f"/patients/{outbox['bad'].pk}/").content.decode()
    assert html.count('data-testid="chart-message"') == 3
    assert "not a valid mobile number" in html
    assert f"/messages/?patient={outbox['bad'].pk}" in html


def test_nav_shows_messages_to_front_desk(client_for, front_desk):
    assert 'href="/messages/"' in client_for(front_desk).get("/today/").content.decode()


# -- the manager's policy page --------------------------------------------------------------------


def policy_form(**overrides):
    data = {
        "quiet_hours_start": "21:00",
        "quiet_hours_end": "08:00",
        "minimum_notice_minutes": "60",
        "aftercare_enabled": "on",
        "follow_up_enabled": "on",
        "follow_up_after_hours": "24",
        "book_next_enabled": "on",
        "book_next_after_hours": "48",
        "rules-TOTAL_FORMS": "4",
        "rules-INITIAL_FORMS": "3",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-channel": "email",
        "rules-0-hours_before": "48",
        "rules-0-is_active": "on",
        "rules-1-channel": "sms",
        "rules-1-hours_before": "24",
        "rules-1-is_active": "on",
        "rules-2-channel": "sms",
        "rules-2-hours_before": "2",
        "rules-2-is_active": "on",
        "rules-3-channel": "sms",
        "rules-3-hours_before": "",
        "rules-3-is_active": "on",
    }
    data.update(overrides)
    return data


def test_manager_changes_quiet_hours_and_rules(client_for, manager, messaging):
    ReminderPolicy.load()
    client = client_for(manager)
    page = client.get("/setup/reminders/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="reminder-rule"') == 4
    response = client.post(
        "/setup/reminders/",
        policy_form(
            quiet_hours_start="22:00",
            **{
                "rules-2-DELETE": "on",
                "rules-1-is_active": "",
                "rules-3-hours_before": "72",
                "rules-3-channel": "email",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ReminderPolicy.load()
    assert policy.quiet_hours_start == time(22) and policy.updated_by == manager
    assert set(ReminderRule.objects.values_list("channel", "hours_before", "is_active")) == {
        ("email", 48, True),
        ("sms", 24, False),
        ("email", 72, True),
    }


def test_policy_page_refuses_bad_values(client_for, manager, messaging):
    ReminderPolicy.load()
    response = client_for(manager).post(
        "/setup/reminders/", policy_form(**{"rules-3-hours_before": "999"})
    )
    assert response.status_code == 400
    response = client_for(manager).post(
        "/setup/reminders/", policy_form(**{"rules-3-hours_before": "24"})
    )
    assert response.status_code == 400
    assert "listed twice" in response.content.decode()
    assert ReminderRule.objects.count() == 3


def test_only_managers_open_the_policy_page(client_for, front_desk):
    assert client_for(front_desk).get("/setup/reminders/").status_code == 403


# -- the API --------------------------------------------------------------------------------------


def test_api_lists_and_filters_messages(api, front_desk, outbox):
    body = api(front_desk).get("/api/v1/messages/").json()
    assert body["count"] == 9
    failed = api(front_desk).get("/api/v1/messages/?status=failed").json()["results"]
    assert [m["id"] for m in failed] == [outbox["failed"].pk]
    row = failed[0]
    assert row["can_resend"] is True
    assert "not a valid mobile number" in row["last_error"]
    assert row["scheduled_for"].endswith(("-05:00", "-04:00"))  # the location's offset
    assert api(front_desk).get("/api/v1/messages/?channel=email").json()["count"] == 3
    assert api(front_desk).get(f"/api/v1/messages/?patient={outbox['bad'].pk}").json()["count"] == 3
    assert api(front_desk).get("/api/v1/messages/?status=bogus").status_code == 400


def test_api_resends_a_failed_message_and_refuses_others(api, front_desk, outbox):
    failed, sent = outbox["failed"], outbox["sent"]
    response = api(front_desk).post(f"/api/v1/messages/{failed.pk}/resend/")
    assert response.status_code == 200 and response.json()["status"] == "scheduled"
    conflict = api(front_desk).post(f"/api/v1/messages/{sent.pk}/resend/")
    assert conflict.status_code == 409
    assert conflict.json()["status"] == "sent"


def test_api_roles(api, practitioner_user, patient_user, outbox):
    assert api().get("/api/v1/messages/").status_code in (401, 403)
    for user in (practitioner_user, patient_user):
        assert api(user).get("/api/v1/messages/").status_code == 403
        assert api(user).post(f"/api/v1/messages/{outbox['failed'].pk}/resend/").status_code == 403
        assert api(user).get("/api/v1/reminder-policy/").status_code == 403


def test_api_message_list_costs_a_fixed_number_of_queries(
    api, front_desk, outbox, clinic_setup, django_assert_max_num_queries
):
    client = api(front_desk)
    with django_assert_max_num_queries(10):
        client.get("/api/v1/messages/")
    day = future_day(weekday=3)
    for hour in range(8, 16):
        book(clinic_setup, front_desk, consenting_patient(), at(day, hour))
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/messages/").json()["count"] == 33


def test_api_reads_and_changes_the_policy(api, manager, front_desk, messaging):
    body = api(front_desk).get("/api/v1/reminder-policy/").json()
    assert body["quiet_hours_start"] == "21:00" and body["quiet_hours_end"] == "08:00"
    assert body["rules"] == [
        {"channel": "email", "hours_before": 48, "is_active": True},
        {"channel": "sms", "hours_before": 24, "is_active": True},
        {"channel": "sms", "hours_before": 2, "is_active": True},
    ]
    assert api(front_desk).patch("/api/v1/reminder-policy/", {}, format="json").status_code == 403
    changed = api(manager).patch(
        "/api/v1/reminder-policy/",
        {"quiet_hours_end": "07:30", "rules": [{"channel": "sms", "hours_before": 12}]},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["quiet_hours_end"] == "07:30"
    assert changed.json()["rules"] == [{"channel": "sms", "hours_before": 12, "is_active": True}]
    bad = api(manager).patch(
        "/api/v1/reminder-policy/", {"follow_up_after_hours": 0}, format="json"
    )
    assert bad.status_code == 400
    full = api(manager).put("/api/v1/reminder-policy/", {"quiet_hours_end": "07:00"}, format="json")
    assert full.status_code == 400  # PUT needs every field


def test_messages_are_in_the_schema(client_for, front_desk):
    schema = client_for(front_desk).get("/api/schema/?format=json").json()
    assert "/api/v1/messages/" in schema["paths"]
    assert "/api/v1/messages/{id}/resend/" in schema["paths"]
    assert "/api/v1/reminder-policy/" in schema["paths"]


def test_sent_time_and_next_try_in_the_api(api, front_desk, outbox):
    sent = api(front_desk).get(f"/api/v1/messages/{outbox['sent'].pk}/").json()
    assert sent["sent_at"] is not None and sent["next_attempt_at"] is None
    assert sent["provider_id"].startswith("<")


def test_reading_one_message_through_the_api_is_audited(api, front_desk, outbox):
    sent = outbox["sent"]
    response = api(front_desk).get(f"/api/v1/messages/{sent.pk}/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="message.viewed")
    assert event.actor == front_desk and event.patient_id == sent.patient_id
    assert event.object_id == str(sent.pk)
