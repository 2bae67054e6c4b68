"""Each role logs in through the real login page and sees only its own navigation."""

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import PHONE, log_in
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("fixture", "heading", "shown", "hidden"),
    [
        ("manager", "Today", ["Today", "Clinic set-up"], ["My schedule", "My day"]),
        ("front_desk", "Today", ["Today"], ["Clinic set-up", "My schedule", "My day"]),
        ("practitioner_user", "My day", ["My day"], ["Clinic set-up", "My schedule"]),
        ("patient_user", "My schedule", ["My schedule"], ["Today", "Clinic set-up", "My day"]),
    ],
)
def test_role_lands_on_its_page_with_its_navigation(
    request, new_page, screenshot, fixture, heading, shown, hidden
):
    user = request.getfixturevalue(fixture)
    page = new_page()
    log_in(page, user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    nav = page.get_by_role("navigation", name="Main navigation")
    for label in shown:
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    for label in hidden:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    screenshot(page, f"landing-{fixture}")


def test_patient_on_a_phone_sees_the_portal_and_is_refused_staff_pages(
    new_page, screenshot, patient_user
):
    page = new_page(viewport=PHONE)
    log_in(page, patient_user.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("My schedule")
    screenshot(page, "landing-patient-phone")
    response = page.goto("/today/")
    assert response.status == 403


def test_wrong_password_keeps_the_email_and_explains(new_page, screenshot, front_desk):
    page = new_page()
    log_in(page, front_desk.email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Email or password is not correct")
    expect(page.get_by_label("Email")).to_have_value(front_desk.email)
    screenshot(page, "login-error")
