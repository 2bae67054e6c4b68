"""Booking a whole course, end to end in the browser.

Front desk finds a new patient, opens "Book a course" and asks for 10 weekly sessions at
lunchtime. The third Monday is taken by another patient, so that proposal comes back flagged
and moved to the nearest free time; front desk agrees another time with the patient, checks
again and books all 10 at once. The course page then shows "Session 1 of 10".
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions import services
from sessions.models import Appointment, Course
from tests.e2e.pages import LAPTOP, log_in
from tests.factories import PatientFactory
from tests.fixtures.people import PASSWORD
from tests.fixtures.scheduling import NEW_YORK, book

pytestmark = pytest.mark.django_db(transaction=True)

# The clinic of the scheduling tests: Park Avenue (New York), Room 1, Dr Pia working
# Monday to Saturday 08:00-19:00, a 30-minute treatment session with a 10-minute buffer.


def first_monday(weeks_ahead=2):
    today = timezone.localdate()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def short(day):
    return f"{day:%a} {day.day} {day:%b}"


def message(page, text):
    return page.locator(".messages").get_by_role("alert").filter(has_text=text)


def test_front_desk_books_a_ten_session_weekly_course_with_one_proposal_moved(
    new_page, screenshot, front_desk, clinic_setup
):
    patient = PatientFactory(legal_first_name="Nora", legal_last_name="Newcomer")
    monday = first_monday()
    clash_day = monday + timedelta(weeks=2)
    other = PatientFactory(legal_first_name="Olivia", legal_last_name="Other")
    book(clinic_setup, front_desk, other, datetime.combine(clash_day, time(12, 15), NEW_YORK))

    desk = new_page(viewport=LAPTOP)
    log_in(desk, front_desk.email, PASSWORD)
    # Front desk lives in the calendar: the course is booked from there.
    desk.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Calendar"
    ).click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Calendar")
    desk.get_by_role("link", name="Book a course").click()

    # Find the patient.
    desk.get_by_label("Search by name, phone, email or date of birth").fill("newcomer")
    desk.get_by_role("button", name="Search").click()
    desk.get_by_role("link", name="Book a course for Nora Newcomer").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Book a course for Nora Newcomer")

    # Step 1: the plan. Type, practitioner and location come pre-filled (one of each).
    expect(desk.get_by_role("combobox", name="Type")).to_have_value(str(clinic_setup["type"].pk))
    expect(desk.get_by_role("combobox", name="Practitioner")).to_have_value(
        str(clinic_setup["practitioner"].pk)
    )
    desk.get_by_label("Number of sessions").fill("10")
    desk.get_by_label("Interval").select_option(label="Weekly")
    desk.get_by_label("First date").fill((monday - timedelta(days=3)).isoformat())  # a Friday
    desk.get_by_label("Preferred weekday").select_option(label="Monday")
    desk.get_by_label(re.compile(r"^Time\b")).fill("12:30")
    desk.get_by_label("Abdomen").check()
    desk.get_by_label("Flanks").check()
    screenshot(desk, "course-01-plan")
    desk.get_by_role("button", name="Propose dates").click()

    # Step 2: ten Mondays; the third is taken, flagged and moved to the nearest free time.
    rows = desk.get_by_test_id("session-row")
    expect(rows).to_have_count(10)
    expect(rows.nth(0)).to_contain_text("1 of 10")
    expect(desk.get_by_label("Session 1 date")).to_have_value(monday.isoformat())
    expect(desk.get_by_label("Session 10 date")).to_have_value(
        (monday + timedelta(weeks=9)).isoformat()
    )
    third = rows.nth(2)
    expect(third).to_contain_text(f"Moved from {short(clash_day)}, 12:30")
    expect(third).to_contain_text("Clashes with Treatment session for Olivia Other")
    expect(desk.get_by_test_id("rows-summary")).to_contain_text(
        "1 session was moved to the nearest free time"
    )
    expect(desk.get_by_label("Session 3 time")).not_to_have_value("12:30")
    for number in (1, 2, 4, 10):
        expect(desk.get_by_label(f"Session {number} time")).to_have_value("12:30")
    screenshot(desk, "course-02-proposals-one-moved")

    # The patient prefers 14:00 that Monday: front desk types it over and checks again.
    desk.get_by_label("Session 3 date").fill(clash_day.isoformat())
    desk.get_by_label("Session 3 time").fill("14:00")
    desk.get_by_label("Session 3 time").dispatch_event("change")
    expect(third.get_by_test_id("row-changed")).to_be_visible()
    desk.get_by_role("button", name="Check again").click()
    expect(desk.get_by_test_id("rows-summary")).to_contain_text("All 10 dates are free.")
    expect(desk.get_by_test_id("rows-summary")).to_contain_text(
        "1 session is not at the plan's time"
    )
    third = desk.get_by_test_id("session-row").nth(2)
    expect(third).to_contain_text("Free")
    expect(third).to_contain_text(f"Moved from {short(clash_day)}, 12:30")
    expect(desk.get_by_label("Session 3 time")).to_have_value("14:00")
    screenshot(desk, "course-03-checked-again")

    # Meanwhile another desk gives session 5's time to someone else: nothing is booked, the
    # row says why and offers the nearest free time; everything typed is still there.
    fifth_day = monday + timedelta(weeks=4)
    book(clinic_setup, front_desk, other, datetime.combine(fifth_day, time(12, 30), NEW_YORK))
    desk.get_by_role("button", name="Book all 10 sessions").click()
    expect(desk.get_by_test_id("book-failed")).to_contain_text("Nothing was booked.")
    fifth = desk.get_by_test_id("session-row").nth(4)
    expect(fifth.get_by_test_id("row-problem")).to_contain_text(
        "Clashes with Treatment session for Olivia Other"
    )
    expect(desk.get_by_label("Session 3 time")).to_have_value("14:00")
    assert not Course.objects.filter(patient=patient).exists()
    screenshot(desk, "course-03b-booking-refused")
    fifth.get_by_role("button", name="Use this time").click()
    expect(fifth.get_by_test_id("row-changed")).to_be_visible()
    expect(desk.get_by_label("Session 5 time")).not_to_have_value("12:30")
    desk.get_by_role("button", name="Check again").click()
    expect(desk.get_by_test_id("rows-summary")).to_contain_text("All 10 dates are free.")
    desk.get_by_role("button", name="Book all 10 sessions").click()

    # The course page.
    expect(desk).to_have_url(re.compile(r"/courses/\d+/$"))
    expect(message(desk, "All 10 sessions booked for Nora Newcomer.")).to_be_visible()
    expect(desk.get_by_test_id("course-headline")).to_have_text("Session 1 of 10")
    expect(desk.get_by_test_id("course-session")).to_have_count(10)
    expect(desk.get_by_test_id("course-session").nth(2)).to_contain_text("14:00")
    expect(desk.get_by_test_id("course-patient")).to_have_attribute(
        "href", f"/patients/{patient.pk}/"
    )
    screenshot(desk, "course-04-course-page")

    course = Course.objects.get(patient=patient)
    sessions = list(course.appointments.order_by("starts_at"))
    assert [a.session_number for a in sessions] == list(range(1, 11))
    assert timezone.localtime(sessions[2].starts_at, NEW_YORK) == datetime.combine(
        clash_day, time(14), NEW_YORK
    )
    assert course.areas == ["abdomen", "flanks"]
    assert Appointment.objects.filter(patient=other).count() == 2


def test_front_desk_moves_a_session_with_the_later_ones_then_cancels_and_replaces_one(
    new_page, screenshot, front_desk, clinic_setup
):
    monday = first_monday()
    patient = PatientFactory(legal_first_name="Maya", legal_last_name="Mover")
    course = services.course_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=[
            datetime.combine(monday + timedelta(weeks=k), time(12, 30), NEW_YORK) for k in range(4)
        ],
        interval_days=7,
    )
    # Tuesday 13:00 of the last week is taken: moving sessions 2-4 there would clash.
    tuesday = monday + timedelta(weeks=1, days=1)
    other = PatientFactory(legal_first_name="Olivia", legal_last_name="Other")
    book(
        clinic_setup,
        front_desk,
        other,
        datetime.combine(tuesday + timedelta(weeks=2), time(13), NEW_YORK),
    )

    desk = new_page(viewport=LAPTOP)
    log_in(desk, front_desk.email, PASSWORD)
    desk.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Courses"
    ).click()
    expect(desk.get_by_test_id("active-course")).to_have_count(1)
    expect(desk.get_by_test_id("attention")).to_contain_text("Every active course is on track.")
    screenshot(desk, "course-05a-list")
    desk.get_by_test_id("active-courses").get_by_role("link", name="Maya Mover").click()
    expect(desk.get_by_test_id("course-headline")).to_have_text("Session 1 of 4")
    screenshot(desk, "course-05-list-to-course")

    # Move session 2 to Tuesday 13:00 with the later ones: the preview shows the clash first.
    desk.get_by_role("link", name="Move session 2").click()
    desk.get_by_label(re.compile(r"^New date")).fill(tuesday.isoformat())
    desk.get_by_label(re.compile(r"^New time")).fill("13:00")
    desk.get_by_role("button", name="Preview the move").click()
    preview = desk.get_by_test_id("move-row")
    expect(preview).to_have_count(3)
    expect(preview.nth(2)).to_contain_text("Clashes with Treatment session for Olivia Other")
    expect(desk.get_by_role("button", name="Move this and the 2 later sessions")).to_be_disabled()
    screenshot(desk, "course-06-move-preview-clash")

    desk.get_by_label(re.compile(r"^New time")).fill("15:00")
    desk.get_by_role("button", name="Preview the move").click()
    expect(desk.get_by_test_id("move-row").nth(2)).to_contain_text("Free")
    screenshot(desk, "course-07-move-preview-free")
    desk.get_by_role("button", name="Move this and the 2 later sessions").click()
    expect(message(desk, "Session 2 moved to")).to_be_visible()
    rows = desk.get_by_test_id("course-session")
    expect(rows.nth(1)).to_contain_text("15:00")
    expect(rows.nth(3)).to_contain_text("15:00")
    expect(rows.nth(0)).to_contain_text("12:30")

    # Cancel session 3; the page offers a replacement one interval after the last session.
    desk.get_by_role("link", name="Cancel session 3").click()
    desk.get_by_label(re.compile(r"^Reason")).fill("Away on business")
    desk.get_by_role("button", name="Cancel this session").click()
    expect(message(desk, "Session 3 on")).to_contain_text("is cancelled")
    replacement = desk.get_by_test_id("replacement")
    last_day = tuesday + timedelta(weeks=3)
    expect(replacement).to_contain_text(
        f"Add a replacement at the end: {short(last_day)} {last_day:%Y}, 15:00"
    )
    expect(desk.get_by_test_id("course-counts")).to_contain_text("1 cancelled")
    screenshot(desk, "course-08-cancelled-replacement-offered")
    replacement.get_by_role("button", name="Add this session").click()
    expect(message(desk, "Session 4 added on")).to_be_visible()
    expect(desk.get_by_test_id("replacement")).to_have_count(0)
    screenshot(desk, "course-09-replacement-added")

    counting = course.appointments.exclude(status="cancelled").order_by("starts_at")
    assert [a.session_number for a in counting] == [1, 2, 3, 4]
    assert timezone.localtime(counting.last().starts_at, NEW_YORK) == datetime.combine(
        last_day, time(15), NEW_YORK
    )
