"""Deny by default: walk the whole URL configuration and prove that every URL needs a login
unless it is on the short public list, and that a patient reaches no staff URL."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC_URL_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "api-token",
    "patients:intake_accept",
    "treatment_sessions:calendar_feed",
    "treatment_sessions:message_link",
    "treatment_sessions:message_link_action",
}

# What a patient may open: their own portal pages and account pages.
PATIENT_URL_PREFIXES = ("/portal/", "/api/v1/me/", "/accounts/", "/api/v1/auth/")
PATIENT_URL_NAMES = {"home", "no_role", "api-schema", "api-docs"}

SAMPLE_ARGS = {
    "int": "999999",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "x",
}


def _walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace if p.namespace else namespace
            if ns and namespace and p.namespace:
                ns = f"{namespace}:{p.namespace}"
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield prefix + str(p.pattern), name, p.callback


def _sample_path(route):
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGS.get(m.group(1) or "str", "1"), route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(r"\.\(\?P<format>[^)]*\)|\(\?P<format>[^)]*\)", "", route)
    return "/" + route.replace("?", "")


def app_urls():
    seen = set()
    for route, name, callback in _walk(get_resolver().url_patterns):
        path = _sample_path(route)
        if path.startswith(("/admin/", "/static/", "/media/")) or path in seen:
            continue
        seen.add(path)
        yield path, name, callback


def test_only_the_listed_urls_are_public():
    # Under /api/v1/ DRF does the authentication (IsAuthenticated by default); the anonymous
    # walk below proves those answer 401/403.
    public = {
        name
        for path, name, cb in app_urls()
        if getattr(cb, "login_required", True) is False and not path.startswith("/api/v1/")
    }
    assert public <= PUBLIC_URL_NAMES | {"logout"}, public


@pytest.mark.parametrize(("path", "name"), [(p, n) for p, n, _ in app_urls()])
def test_anonymous_visitor_is_sent_to_login_or_refused(client, roles, path, name):
    if name in PUBLIC_URL_NAMES or name == "logout":
        return
    response = client.get(path)
    if path.startswith("/api/v1/"):
        assert response.status_code in (401, 403), (path, response.status_code)
    else:
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith("/accounts/login/"), path


@pytest.mark.parametrize(("path", "name"), [(p, n) for p, n, _ in app_urls()])
def test_patient_gets_403_or_404_on_every_staff_url(client, patient_user, path, name):
    if path.startswith(PATIENT_URL_PREFIXES) or name in PATIENT_URL_NAMES | PUBLIC_URL_NAMES:
        return
    client.force_login(patient_user)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code in (403, 404, 405), (method, path, response.status_code)


def test_patient_is_refused_the_admin(client, patient_user):
    client.force_login(patient_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
