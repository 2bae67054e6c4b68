"""The patient's schedule on a phone, end to end in the browser.

The patient logs in and sees the course ("Session 1 of 10"), confirms the next session, cancels
a later one (outside the window: done, front desk told) and cannot cancel the appointment
three hours away (the clinic's phone number is shown instead); asks to move a session, and
finds the private calendar address.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import ClinicSettings
from sessions.models import PortalRequest
from tests.e2e.pages import LAPTOP, PHONE, log_in
from tests.factories import PatientFactory
from tests.fixtures.people import PASSWORD
from tests.fixtures.scheduling import book, book_weekly_course

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_PHONE = {**PHONE, "width": 375}
CLINIC_PHONE = "+1 212 555 0100"

# The scheduling tests' clinic (a location in New York, a room, Dr Pia with working hours).


def message(page, text):
    return page.locator(".messages").get_by_role("alert").filter(has_text=text)


def card(page, text):
    return page.get_by_test_id("appointment").filter(has_text=text)


def assert_fits_the_screen(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"


@pytest.fixture
def scene(clinic_setup, front_desk, patient_user):
    settings = ClinicSettings.load()
    settings.phone = CLINIC_PHONE
    settings.save()
    patient = PatientFactory(portal_user=patient_user, intake_completed_at=timezone.now())
    course = book_weekly_course(clinic_setup, front_desk, patient)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=3)
    soon = book(clinic_setup, front_desk, patient, start, allow_outside_hours=True)
    return {"patient": patient, "course": course, "soon": soon}


def test_patient_manages_their_schedule_on_a_phone(new_page, screenshot, patient_user, scene):
    phone = new_page(viewport=SMALL_PHONE)
    log_in(phone, patient_user.email, PASSWORD)

    # The schedule: the course and every appointment, in New York time.
    expect(phone).to_have_url(re.compile(r"/portal/$"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("My schedule")
    expect(phone.get_by_test_id("course-headline")).to_have_text("Session 1 of 10")
    expect(phone.get_by_test_id("appointment")).to_have_count(11)
    first = card(phone, "Session 1 of 10")
    expect(first).to_contain_text("10 a.m.")
    expect(first).to_contain_text("Dr Pia")
    expect(first).to_contain_text("Not yet confirmed")
    assert_fits_the_screen(phone)
    screenshot(phone, "portal-01-phone-schedule")

    # Confirm the first session.
    first.get_by_role("button", name="Confirm").click()
    expect(message(phone, "is confirmed")).to_be_visible()
    expect(card(phone, "Session 1 of 10").get_by_test_id("status")).to_have_text("Confirmed")
    expect(card(phone, "Session 1 of 10").get_by_role("button", name="Confirm")).to_have_count(0)

    # Cancel the second session: a week away, so allowed online.
    card(phone, "Session 2 of 10").get_by_role("link", name="Cancel").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Cancel an appointment")
    phone.get_by_label("Reason (optional)").fill("Away for work that week")
    assert_fits_the_screen(phone)
    screenshot(phone, "portal-02-phone-cancel")
    phone.get_by_role("button", name="Cancel this appointment").click()
    expect(phone).to_have_url(re.compile(r"/portal/$"))
    expect(message(phone, "is cancelled. The clinic has been told.")).to_be_visible()
    expect(phone.get_by_test_id("appointment")).to_have_count(10)
    expect(phone.get_by_test_id("course-counts")).to_contain_text("1 cancelled")
    screenshot(phone, "portal-03-phone-cancelled")
    request = PortalRequest.objects.get()
    assert (request.kind, request.message) == ("cancelled", "Away for work that week")

    # The appointment in three hours: no cancel button, the clinic's phone instead.
    soon = phone.get_by_test_id("appointment").first
    expect(soon.get_by_test_id("late-cancel-note")).to_contain_text(
        f"Less than 24 hours away: please call the clinic on {CLINIC_PHONE}"
    )
    expect(soon.get_by_role("link", name="Cancel")).to_have_count(0)
    expect(soon.get_by_role("link", name=CLINIC_PHONE)).to_have_attribute(
        "href", "tel:+12125550100"
    )
    soon.scroll_into_view_if_needed()
    screenshot(phone, "portal-04-phone-late-note")
    # Even by the address, it is refused with the number to call.
    phone.goto(f"/portal/appointments/{scene['soon'].pk}/cancel/")
    refused = phone.get_by_test_id("cancel-refused")
    expect(refused).to_contain_text("cannot be cancelled online less than 24 hours")
    expect(refused).to_contain_text(f"Please call the clinic on {CLINIC_PHONE}.")
    expect(refused.get_by_role("link", name=f"Call {CLINIC_PHONE}")).to_be_visible()
    expect(phone.get_by_role("button", name="Cancel this appointment")).to_have_count(0)
    assert_fits_the_screen(phone)
    screenshot(phone, "portal-05-phone-cancel-refused")
    scene["soon"].refresh_from_db()
    assert scene["soon"].status == "booked"

    # Ask to move the next session (now number 2): the message is required.
    phone.get_by_role("link", name="Back to my schedule").click()
    card(phone, "Session 2 of 10").get_by_role("link", name="Ask to move").click()
    phone.get_by_role("button", name="Send my request").click()
    expect(phone.locator("#id_message_errors")).to_have_text(
        "Tell us which days and times would suit you."
    )
    screenshot(phone, "portal-06-phone-move-error")
    phone.get_by_label("Which days and times would suit you?").fill("Any weekday after 5 pm")
    phone.get_by_role("button", name="Send my request").click()
    expect(message(phone, "We have your request to move")).to_be_visible()
    expect(card(phone, "Session 2 of 10").get_by_test_id("move-requested")).to_be_visible()
    assert PortalRequest.objects.filter(kind="reschedule").count() == 1

    # The private calendar address works without logging in.
    feed_url = phone.get_by_test_id("feed-url").input_value()
    assert re.fullmatch(r"http://[^/]+/calendar/[\w-]+\.ics", feed_url)
    phone.locator("#calendar-feed").scroll_into_view_if_needed()
    screenshot(phone, "portal-07-phone-feed")
    phone.set_viewport_size(LAPTOP)
    screenshot(phone, "portal-08-laptop-schedule")
    calendar_app = phone.context.browser.new_context()
    try:
        response = calendar_app.request.get(feed_url)
        assert response.status == 200
        assert "SUMMARY:Treatment session (session 1 of 10)" in response.text()
    finally:
        calendar_app.close()
