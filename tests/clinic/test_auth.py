from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import AuditEvent
from clinic.roles import Role
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.mark.parametrize(
    ("fixture", "landing"),
    [
        ("manager", "/today/"),
        ("front_desk", "/today/"),
        ("practitioner_user", "/my-day/"),
        ("patient_user", "/portal/"),
    ],
)
def test_each_role_lands_on_its_own_page_after_login(request, client, fixture, landing):
    user = request.getfixturevalue(fixture)
    response = login(client, user.email.upper())  # email login is case-insensitive
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


def test_login_and_failed_login_and_logout_are_audited(client, front_desk):
    login(client, front_desk.email, "wrong-password")
    assert AuditEvent.objects.filter(
        action="auth.login_failed", detail__email=front_desk.email
    ).exists()
    login(client, front_desk.email)
    assert AuditEvent.objects.filter(action="auth.login", actor=front_desk).exists()
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=front_desk).exists()


def test_wrong_password_shows_the_form_again_with_the_email_kept(client, front_desk):
    response = login(client, front_desk.email, "nope")
    assert response.status_code == 200
    assert b"Email or password is not correct" in response.content
    assert front_desk.email.encode() in response.content


def test_five_failures_lock_the_account_from_that_ip_even_with_the_right_password(
    client, front_desk
):
    for _ in range(5):
        login(client, front_desk.email, "wrong-password")
    response = login(client, front_desk.email)
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account_other_accounts_still_log_in(client, front_desk, manager):
    for _ in range(5):
        login(client, front_desk.email, "wrong-password")
    assert login(client, manager.email).status_code == 302


def test_logout_ends_the_session_on_the_server(client, front_desk):
    from django.contrib.sessions.models import Session

    login(client, front_desk.email)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_idle_session_expires_after_the_configured_minutes(client, front_desk, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    login(client, front_desk.email)
    client.get("/today/")
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/today/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_password_reset_sends_an_email_with_a_working_link(client, front_desk):
    response = client.post(reverse("password_reset"), {"email": front_desk.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/password/reset/" in line).strip()
    path = link[link.index("/accounts/") :]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-pass-9", "new_password2": "a-brand-new-pass-9"},
    )
    assert response.status_code == 302
    assert login(client, front_desk.email, "a-brand-new-pass-9").status_code == 302


def test_password_change_requires_the_old_password(client_for, front_desk):
    client = client_for(front_desk)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "bad",
            "new_password1": "x-new-password-1",
            "new_password2": "x-new-password-1",
        },
    )
    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content


def test_authenticated_pages_are_never_cached(client_for, front_desk):
    response = client_for(front_desk).get("/today/")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_role_changes_are_audited(front_desk, manager):
    from clinic.services import user_set_role

    user_set_role(actor=manager, user=front_desk, role=Role.PRACTITIONER)
    event = AuditEvent.objects.filter(
        action="auth.role_changed", object_id=str(front_desk.pk)
    ).last()
    assert event is not None
    assert front_desk.role == Role.PRACTITIONER


def test_only_managers_reach_the_admin(
    client_for, manager, front_desk, practitioner_user, patient_user
):
    assert client_for(manager).get("/admin/").status_code == 200
    for user in (front_desk, practitioner_user, patient_user):
        client = client_for(user)
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_roles_are_groups_with_real_permissions(roles):
    from django.contrib.auth.models import Group

    manager = Group.objects.get(name=Role.MANAGER.label_en)
    patient = Group.objects.get(name=Role.PATIENT.label_en)
    assert manager.permissions.filter(codename="manage_clinic").exists()
    assert not patient.permissions.filter(codename="access_staff_pages").exists()
    assert patient.permissions.filter(codename="access_patient_portal").exists()
