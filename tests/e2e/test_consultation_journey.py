"""A practitioner's consultation, end to end in the browser (issue #5).

Dr Pia opens the checked-in consultation from "my day", assesses two areas, photographs the
marked injection sites, reviews the history, proposes a plan, signs, and books the proposed
course. Back on the record she opens the comparison view of the photos.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import Consultation, Photo, Product
from sessions.models import AppointmentType, Course
from tests.e2e.pages import LAPTOP, log_in
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.clinical import book_consultation, camera_jpeg, give_photo_consent
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# Park Avenue (New York), Dr Pia Mon-Sat 08:00-19:00, a 30-minute treatment session.

SESSIONS = 3


def a_monday_a_week_ahead():
    today = timezone.localdate()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7)


def test_practitioner_records_signs_books_and_compares(
    new_page, screenshot, clinic_setup, front_desk, practitioner_user
):
    consult = AppointmentType.objects.create(
        name="Consultation", kind="consultation", duration_minutes=45
    )
    Product.objects.create(name="PPC + DC", composition="Phosphatidylcholine 5%")
    patient = PatientFactory(legal_first_name="Zoe", legal_last_name="Journey")
    MedicalHistoryFactory(patient=patient)
    give_photo_consent(patient, front_desk)
    # Today in New York, checked in; 10:00 whatever the time now (outside hours allowed).
    book_consultation(clinic_setup, front_desk, patient, consult, hour=10)

    page = new_page(viewport=LAPTOP)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, practitioner_user.email, PASSWORD)

    # 1. My day -> the consultation record.
    page.goto("/my-day/")
    screenshot(page, "consult-01-my-day")
    page.get_by_test_id("open-consultation").click()
    expect(page).to_have_url(re.compile(r"/consultations/\d+/$"))
    consultation = Consultation.objects.get(patient=patient)
    record_url = page.url

    # 2. Two areas.
    page.get_by_label("What brings the patient").fill("Cellulite on thighs, loose skin at knees")
    page.locator('[name="add_area"]').select_option("outer_thighs")
    page.locator('[name="add_condition"]').select_option("cellulite")
    page.locator("[data-add-area]").click()
    page.locator('[name="assessments-0-nurnberger_muller_grade"]').select_option("2")
    circumference = page.locator('[name="assessments-0-circumference_cm"]')
    circumference.fill("61")
    circumference.blur()
    page.locator('[name="add_area"]').select_option("knees")
    page.locator('[name="add_condition"]').select_option("laxity")
    page.locator("[data-add-area]").click()
    expect(page.locator("[data-area-label]")).to_have_count(2)
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=8000)
    expect(page.get_by_test_id("sign-blockers")).not_to_contain_text("Assess at least one area")
    assert sorted(a.area for a in consultation.assessments.all()) == ["knees", "outer_thighs"]

    # 3. The plan: both areas, 3 weekly treatment sessions.
    plan = page.locator("#plan")
    plan.get_by_label("Outer thighs").check()
    plan.get_by_label("Knees").check()
    plan.get_by_label("Formulation").select_option(label="PPC + DC")
    plan.get_by_label("Session type").select_option(str(clinic_setup["type"].pk))
    plan.get_by_label("Number of sessions").fill(str(SESSIONS))
    plan.get_by_label("Days between sessions").fill("7")
    plan.get_by_label("Price per session").fill("120")
    plan.get_by_label("Price per session").blur()
    expect(page.get_by_test_id("plan-total")).to_contain_text("360")
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=8000)
    screenshot(page, "consult-02-areas-and-plan")

    # 4. Two photos of the marked sites; the upload page returns to the record.
    page.get_by_test_id("add-photos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add injection-site photos")
    page.get_by_label("Area").select_option("outer_thighs")
    page.locator("#id_view").select_option("front")
    page.get_by_label("Injection sites marked").check()
    page.locator("#id_photos").set_input_files(
        [
            {"name": "thigh-1.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()},
            {
                "name": "thigh-2.jpg",
                "mimeType": "image/jpeg",
                "buffer": camera_jpeg(colour=(120, 160, 200)),
            },
        ]
    )
    expect(page.locator("[data-photo-list] li")).to_have_count(2)
    screenshot(page, "consult-03-photos-chosen")
    page.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(rf"/consultations/{consultation.pk}/(#photos)?$"))
    photos = page.get_by_test_id("record-photos")
    expect(photos.locator("figure")).to_have_count(2)
    expect(photos.locator("figcaption").first).to_contain_text("Outer thighs")
    expect(photos.locator("figcaption").first).to_contain_text("sites marked")
    assert Photo.objects.filter(patient=patient, sites_marked=True).count() == 2
    screenshot(page, "consult-04-record-with-photos")

    # 5. Review the history and sign.
    page.get_by_test_id("review-history").click()
    expect(page.get_by_test_id("history-reviewed")).to_be_visible()
    expect(page.get_by_test_id("sign-blockers")).to_contain_text("Ready to sign.")
    page.get_by_test_id("sign").click()
    expect(page.get_by_test_id("signed-by")).to_be_visible()
    expect(page.get_by_test_id("record-status")).to_have_text("Signed")
    expect(page.get_by_test_id("plan")).to_contain_text("Outer thighs, Knees")
    screenshot(page, "consult-05-signed")

    # 6. Book the proposed course, a week ahead.
    page.get_by_test_id("book-course").click()
    expect(page).to_have_url(re.compile(r"/courses/new/\?"))
    expect(page.get_by_label("Number of sessions")).to_have_value(str(SESSIONS))
    expect(page.get_by_label("Abdomen")).not_to_be_checked()
    expect(page.get_by_label("Outer thighs")).to_be_checked()
    expect(page.get_by_label("Knees")).to_be_checked()
    monday = a_monday_a_week_ahead()
    page.get_by_label("First date").fill(monday.isoformat())
    page.get_by_label("Preferred weekday").select_option(label="Monday")
    screenshot(page, "consult-06-course-plan")
    page.get_by_role("button", name="Propose dates").click()
    expect(page.get_by_test_id("session-row")).to_have_count(SESSIONS)
    expect(page.get_by_label("Session 1 date")).to_have_value(monday.isoformat())
    expect(page.get_by_test_id("rows-summary")).to_contain_text(f"All {SESSIONS} dates are free.")
    screenshot(page, "consult-07-course-proposals")
    page.get_by_role("button", name=f"Book all {SESSIONS} sessions").click()
    expect(page).to_have_url(re.compile(r"/courses/\d+/$"))
    expect(page.get_by_test_id("course-headline")).to_have_text(f"Session 1 of {SESSIONS}")
    expect(page.get_by_test_id("course-session")).to_have_count(SESSIONS)
    screenshot(page, "consult-08-course-booked")
    course = Course.objects.get(patient=patient)
    assert sorted(course.areas) == ["knees", "outer_thighs"]
    assert course.appointments.count() == SESSIONS

    # 7. Back to the record: compare the photos over time.
    page.goto(record_url)
    page.get_by_test_id("compare-photos").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/photos/"))
    expect(page.locator(".nav-link.active")).to_contain_text("Outer thighs")
    expect(page.get_by_test_id("side-left").locator("img")).to_be_visible()
    expect(page.get_by_test_id("side-right").locator("img")).to_be_visible()
    expect(page.get_by_test_id("timeline-photo")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    for side in ("side-left", "side-right"):
        assert page.get_by_test_id(side).locator("img").evaluate("i => i.naturalWidth") > 0
        expect(page.get_by_test_id(side)).to_contain_text("sites marked")
    screenshot(page, "consult-09-compare")
    assert not errors, errors
