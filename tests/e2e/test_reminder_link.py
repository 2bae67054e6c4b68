"""The reminder journey in the browser.

A reminder email goes out for next Tuesday's appointment (captured in the test's outbox). The
patient, on a phone and not logged in, opens the link from it, sees the clinic, date and time,
and confirms. The link then cannot be used again, and a tampered one is refused kindly. Front
desk's calendar shows the appointment confirmed, and the outbox shows the reminder sent.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import ClinicSettings
from sessions.messaging.services import messages_dispatch_due
from sessions.models import Appointment, OutboundMessage
from tests.clock import clinic_today, next_weekday
from tests.e2e.pages import LAPTOP, PHONE, log_in
from tests.factories import PatientFactory
from tests.fixtures.people import PASSWORD
from tests.fixtures.scheduling import NEW_YORK, book

pytestmark = pytest.mark.django_db(transaction=True)


def next_weeks_tuesday():
    """A Tuesday 7 to 13 days ahead, so even on a Sunday its 48-hour email is still ahead (one
    or two weeks ahead in the calendar)."""
    return next_weekday(1, after=clinic_today() + timedelta(days=6), zone=NEW_YORK)


@pytest.fixture
def reminder(live_server, settings, tmp_path, clinic_setup, front_desk):
    settings.SITE_URL = live_server.url
    settings.SMS_BACKEND = "clinic.messaging.sms.FileSmsBackend"
    settings.SMS_OPTIONS = {"directory": str(tmp_path / "sms")}
    clinic = ClinicSettings.load()
    clinic.name = "Lumière Clinic"
    clinic.phone = "+1 212 555 0100"
    clinic.save()
    patient = PatientFactory(
        legal_first_name="Zoé",
        preferred_name="Zoe",
        legal_last_name="Reminder",
        email="zoe@example.com",
        consents_email_reminders=True,
        consents_sms_reminders=True,
    )
    day = next_weeks_tuesday()
    visit = book(
        clinic_setup, front_desk, patient, datetime.combine(day, time(10), tzinfo=NEW_YORK)
    )
    # The 48-hour email is due (time travel: it is sent now rather than on Sunday).
    email = OutboundMessage.objects.get(appointment=visit, channel="email")
    now = timezone.now()
    OutboundMessage.objects.filter(pk=email.pk).update(scheduled_for=now, next_attempt_at=now)
    messages_dispatch_due(now=now)
    [sent] = mail.outbox
    link = re.search(r"(http://\S+/m/\S+/)", sent.body)[1]
    return {"visit": visit, "email": sent, "link": link, "day": day}


def test_patient_confirms_from_the_reminder_and_front_desk_sees_it(
    new_page, screenshot, front_desk, reminder
):
    visit, day = reminder["visit"], reminder["day"]
    phone = new_page(viewport=PHONE)

    # The email as the patient's mail app shows it.
    html = reminder["email"].alternatives[0][0]
    phone.set_content(html)
    expect(phone.get_by_text("Hello Zoe,")).to_be_visible()
    expect(phone.get_by_test_id("when")).to_contain_text("10:00")
    screenshot(phone, "reminder-01-email")

    # The link: no login, the appointment, nothing changed by opening it.
    phone.goto(reminder["link"])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your appointment at Lumière Clinic")
    expect(phone.get_by_test_id("when")).to_have_text(f"{day:%A} {day.day} {day:%B %Y}, 10:00")
    expect(phone.get_by_text("Treatment session")).to_have_count(0)
    screenshot(phone, "reminder-02-link")
    assert Appointment.objects.get(pk=visit.pk).status == "booked"

    phone.get_by_role("button", name="Yes, I will be there").click()
    expect(phone.get_by_test_id("link-done")).to_contain_text(
        "Thank you, your appointment is confirmed"
    )
    screenshot(phone, "reminder-03-confirmed")
    assert Appointment.objects.get(pk=visit.pk).status == "confirmed"

    # The same link again: a friendly page, nothing changes.
    phone.goto(reminder["link"])
    expect(phone.get_by_test_id("link-reason")).to_contain_text(
        "This link has already been used. You confirmed this appointment on"
    )
    expect(phone.get_by_text("Nothing has been changed.")).to_be_visible()
    screenshot(phone, "reminder-04-used")
    # A tampered link: the same kind of page.
    phone.goto(reminder["link"][:-2] + "x/")
    expect(phone.get_by_test_id("link-reason")).to_contain_text("This link is not valid")
    screenshot(phone, "reminder-05-tampered")

    # Front desk: the calendar shows the appointment confirmed.
    desk = new_page(viewport=LAPTOP)
    log_in(desk, front_desk.email, PASSWORD)
    desk.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Calendar"
    ).click()
    expect(desk.locator(".fc-resourceTimeGridWeek-view")).to_be_visible()
    today = clinic_today()
    weeks_ahead = (
        (day - timedelta(days=day.weekday())) - (today - timedelta(days=today.weekday()))
    ).days // 7
    for _ in range(weeks_ahead):
        desk.locator(".fc-next-button").click()
    event = desk.locator(f'.fc-event[data-appointment-id="{visit.pk}"]')
    expect(event).to_contain_text("Zoé Reminder")
    expect(event).to_have_class(re.compile(r"\bappt-confirmed\b"))
    screenshot(desk, "reminder-06-calendar-confirmed")

    # And the outbox: the email sent, the SMS still to come.
    desk.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Messages"
    ).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Messages to patients")
    rows = desk.get_by_test_id("outbox-row").filter(has_text="Zoé Reminder")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="48 h before").get_by_test_id("message-status")).to_have_text(
        "Sent"
    )
    screenshot(desk, "reminder-07-outbox")


def test_manager_sets_the_reminder_policy(new_page, screenshot, manager):
    from sessions.models import ReminderPolicy, ReminderRule

    page = new_page(viewport=LAPTOP)
    log_in(page, manager.email, PASSWORD)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Clinic set-up"
    ).click()
    page.get_by_role("link", name="Reminders and messages").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders and messages")
    expect(page.get_by_test_id("reminder-rule")).to_have_count(4)  # three rules and a blank
    page.get_by_label("Quiet hours until").fill("07:30")
    blank = page.get_by_test_id("reminder-rule").last
    blank.get_by_label("Channel").select_option("email")
    blank.get_by_label("Hours before").fill("72")
    screenshot(page, "reminder-08-policy")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Reminder policy saved")
    assert ReminderPolicy.load().quiet_hours_end.strftime("%H:%M") == "07:30"
    assert ReminderRule.objects.filter(channel="email", hours_before=72).exists()
