import pytest
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db


def test_token_login_then_me_returns_user_and_role(front_desk):
    api = APIClient()
    response = api.post(
        "/api/v1/auth/token/", {"email": front_desk.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": front_desk.pk,
        "email": front_desk.email,
        "full_name": front_desk.full_name,
        "role": "front-desk",
        "role_label": "Front desk",
    }
    assert "no-store" in me["Cache-Control"]
    assert AuditEvent.objects.filter(action="auth.token_issued", actor=front_desk).exists()


def test_token_with_wrong_password_is_400_with_a_reason(front_desk):
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": front_desk.email, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "not correct" in response.json()["detail"]


def test_token_request_without_email_names_the_field():
    response = APIClient().post("/api/v1/auth/token/", {"password": "x"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_api_refuses_anonymous_requests():
    assert APIClient().get("/api/v1/me/").status_code in (401, 403)


def test_api_token_login_is_locked_after_five_failures(front_desk):
    api = APIClient()
    for _ in range(5):
        api.post(
            "/api/v1/auth/token/", {"email": front_desk.email, "password": "nope"}, format="json"
        )
    response = api.post(
        "/api/v1/auth/token/", {"email": front_desk.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code in (400, 403, 429)
    assert "token" not in response.json()


def test_schema_and_swagger_ui_are_served_locally_to_logged_in_users(client_for, manager):
    client = client_for(manager)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
