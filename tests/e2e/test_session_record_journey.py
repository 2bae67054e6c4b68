"""A treatment session recorded in the room, end to end in the browser (issue #6).

Dr Pia checks in the patient from "my day" and opens the session record (session 2 of 3 of a
course). She sees the allergy banner and last week's record, confirms she reviewed the
alerts, records a bruise since last time, fills in the two planned areas with their lots and
volumes and taps the points on the map (with a mouse on the laptop; then on her phone with a
finger), uploads an after photo, records the tolerance and completes the session. The record
is then read-only with the map drawn again, and the course view shows the session done.
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consultations.models import InjectionPoint, Photo, Product, ProductLot, SessionRecord
from consultations.services import session_records as services
from patients.models import Allergy
from patients.selectors import current_history
from sessions.models import Appointment, Course
from sessions.services import appointment_check_in, course_book
from tests.e2e.pages import LAPTOP, PHONE, log_in
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures import scheduling
from tests.fixtures.clinical import camera_jpeg, give_photo_consent
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NEW_YORK = scheduling.NEW_YORK
TABLET = {"width": 820, "height": 1180}  # portrait, as it sits on the trolley


def scene(setup, desk):
    """Zoe's course of three weekly sessions for abdomen and flanks: last week's is recorded
    and signed, today's (10:00 New York) is booked. She is allergic to lidocaine."""
    product = Product.objects.create(name="PPC + DC", composition="Phosphatidylcholine 5%")
    lot = ProductLot.objects.create(
        product=product, lot_number="PC-2026-118", expires_on=timezone.localdate() + timedelta(400)
    )
    ProductLot.objects.create(
        product=product, lot_number="PC-2024-007", expires_on=timezone.localdate() - timedelta(3)
    )
    patient = PatientFactory(legal_first_name="Zoe", legal_last_name="Journey")
    MedicalHistoryFactory(patient=patient)
    Allergy.objects.create(
        history=current_history(patient), substance="Lidocaine", severity="severe"
    )
    give_photo_consent(patient, desk)
    today = timezone.localdate(timezone=NEW_YORK)
    course = course_book(
        actor=desk,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        room=setup["room"],
        appointment_type=setup["type"],
        starts=[
            datetime.combine(today + timedelta(weeks=k - 1), time(10), tzinfo=NEW_YORK)
            for k in range(3)
        ],
        interval_days=7,
        areas=["abdomen", "flanks"],
        allow_outside_hours=True,
    )
    last_week, today_session, _next = course.appointments.order_by("starts_at")
    doctor = setup["practitioner"].user
    appointment_check_in(actor=desk, appointment=last_week)
    previous = services.session_record_start(actor=doctor, appointment=last_week)
    services.session_record_save_draft(
        actor=doctor,
        record=previous,
        data={
            "alerts_reviewed": True,
            "tolerance": "good",
            "next_session_recommendation": "Flanks: go to 6 mm if well tolerated.",
        },
        areas=[
            {
                "area": area,
                "product": product,
                "lot": lot,
                "volume_ml": "3.00",
                "injection_points": 30,
                "depth_mm": "4.0",
                "technique": "point_by_point",
                "needle_gauge": 30,
                "needle_length_mm": "4.0",
            }
            for area in ("abdomen", "flanks")
        ],
        assessments=[{"area": "abdomen", "nurnberger_muller_grade": 3}],
    )
    services.session_record_sign(actor=doctor, record=previous)
    return patient, course, today_session, lot


def tap(page, diagram, fx, fy, *, touch=False):
    """Tap the drawing at a fraction of its viewBox (like a finger or a mouse would)."""
    svg = page.get_by_test_id(f"map-{diagram}")
    svg.scroll_into_view_if_needed()
    x, y = svg.evaluate(
        """(svg, [fx, fy]) => {
            const box = svg.viewBox.baseVal, point = svg.createSVGPoint();
            point.x = fx * box.width; point.y = fy * box.height;
            const screen = point.matrixTransform(svg.getScreenCTM());
            return [screen.x, screen.y];
        }""",
        [fx, fy],
    )
    if touch:
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)


def fill_area(row, lot, *, volume, depth, points=""):
    row.get_by_label("Product").select_option(label="PPC + DC")
    row.get_by_label("Lot").select_option(str(lot.pk))
    row.get_by_label("Volume (ml)").fill(volume)
    row.get_by_label("Depth (mm)").fill(depth)
    row.get_by_label("Technique").select_option("point_by_point")
    row.get_by_label("Needle gauge").select_option("30")
    row.get_by_label("Needle length (mm)").fill("4")
    if points:
        row.get_by_label("Injection points").fill(points)


def test_practitioner_records_a_session_in_the_room(
    new_page, screenshot, clinic_setup, front_desk, practitioner_user
):
    patient, course, appointment, lot = scene(clinic_setup, front_desk)
    page = new_page(viewport=LAPTOP)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, practitioner_user.email, PASSWORD)

    # 1. My day: check Zoe in, open her session record.
    page.goto("/my-day/")
    screenshot(page, "session-01-my-day")
    page.get_by_test_id("check-in").click()
    expect(page.get_by_test_id("open-session-record")).to_be_visible()
    page.get_by_test_id("open-session-record").click()
    expect(page).to_have_url(re.compile(r"/session-records/\d+/$"))
    record = SessionRecord.objects.get(appointment=appointment)
    assert Appointment.objects.get(pk=appointment.pk).status == "in_progress"
    record_url = page.url

    # 2. The allergy first; last week's record; session 2 of 3.
    banner = page.get_by_test_id("alerts-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Lidocaine")
    expect(page.get_by_test_id("session-of")).to_have_text("Session 2 of 3")
    expect(page.get_by_test_id("previous-recommendation")).to_contain_text("go to 6 mm")
    screenshot(page, "session-02-alerts-and-last-session")
    page.get_by_test_id("alerts-reviewed").check()

    # 3. Since last time: a bruise; the weight.
    page.get_by_role("button", name="Add a side effect").click()
    effect = page.locator("[data-list-row=side_effects]").first
    effect.get_by_label("Side effect").select_option("bruising")
    effect.get_by_label("Severity").select_option("mild")
    effect.get_by_label("Lasted (days)").fill("3")
    page.get_by_label("Weight (kg)").fill("68.5")

    # 4. The two planned areas, with lots (expired ones are not offered) and volumes.
    rows = page.locator("[data-area-row]")
    expect(rows).to_have_count(2)
    abdomen, flanks = rows.nth(0), rows.nth(1)
    expect(abdomen.get_by_label("Lot").locator("option", has_text="PC-2024-007")).to_have_count(0)
    fill_area(abdomen, lot, volume="4", depth="4")
    fill_area(flanks, lot, volume="3", depth="6", points="24")
    abdomen.locator("summary").click()
    abdomen.get_by_label("Nürnberger-Müller grade").select_option("2")

    # 5. The map: three points on the abdomen, one removed again.
    abdomen.get_by_role("button", name="Mark points on the map").click()
    page.get_by_label("Volume per point (ml)").fill("0.1")
    for fx, fy in ((0.45, 0.4), (0.55, 0.4), (0.5, 0.44)):
        tap(page, "body_front", fx, fy)
    expect(abdomen.locator("[data-map-count]")).to_have_text("3")
    tap(page, "body_front", 0.5, 0.44)  # on the last point: removes it
    expect(abdomen.locator("[data-map-count]")).to_have_text("2")
    expect(abdomen.get_by_label("Injection points")).to_have_value("2")
    abdomen.get_by_label("Injection points").fill("40")  # the real count, typed
    abdomen.get_by_label("Injection points").press("Tab")
    # Wait for the answer to this save, not an earlier one that held the row back.
    expect(page.get_by_test_id("save-status")).not_to_contain_text("missing", timeout=8000)
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=8000)
    expect(page.get_by_test_id("sign-blockers")).not_to_contain_text("treated area")
    screenshot(page, "session-03-areas-and-map")
    treated = record.areas.get(area="abdomen")
    assert treated.points.count() == 2 and treated.volume_ml == Decimal("4.00")
    assert treated.injection_points == 40
    assert not record.areas.get(area="flanks").points.exists()
    assert {p.volume_ml for p in treated.points.all()} == {Decimal("0.10")}

    # 6. On the phone, with a finger: two points on the flanks, from the back.
    phone = new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    phone.on("pageerror", lambda e: errors.append(str(e)))
    log_in(phone, practitioner_user.email, PASSWORD)
    phone.goto(record_url)
    expect(phone.get_by_test_id("alerts-banner")).to_be_visible()
    screenshot(phone, "session-04-phone-draft")
    phone.locator("[data-map-area=flanks]").tap()
    phone.locator("[data-diagram-tab=body_back]").tap()
    tap(phone, "body_back", 0.33, 0.4, touch=True)
    tap(phone, "body_back", 0.67, 0.4, touch=True)
    expect(phone.locator("[data-area-row][data-area=flanks] [data-map-count]")).to_have_text("2")
    expect(phone.get_by_test_id("save-status")).to_contain_text("Saved", timeout=8000)
    screenshot(phone, "session-05-phone-map")
    tablet = new_page(viewport=TABLET, has_touch=True)
    log_in(tablet, practitioner_user.email, PASSWORD)
    tablet.goto(record_url)
    screenshot(tablet, "session-05-tablet-draft")
    assert record.areas.get(area="flanks").points.filter(diagram="body_back").count() == 2

    # 7. Back on the laptop: the phone's points are there; an after photo of the abdomen.
    page.reload()
    expect(page.locator("[data-area-row][data-area=flanks] [data-map-count]")).to_have_text("2")
    photos = page.get_by_test_id("session-photos")
    photos.get_by_label("Area").select_option("abdomen")
    photos.get_by_label("View").select_option("front")
    photos.get_by_text("After injecting").click()
    photos.get_by_label("Injection sites marked").check()
    page.locator("#session-photo-files").set_input_files(
        [{"name": "abdomen-after.jpg", "mimeType": "image/jpeg", "buffer": camera_jpeg()}]
    )
    photos.get_by_test_id("upload-photos").click()
    expect(page).to_have_url(re.compile(rf"/session-records/{record.pk}/#photos$"))
    expect(page.get_by_test_id("session-photo")).to_have_count(1)
    expect(page.locator("#restore-notice")).to_be_hidden()  # nothing was left unsaved
    page.wait_for_load_state("networkidle")
    thumb = page.get_by_test_id("session-photo").locator("img")
    assert thumb.evaluate("i => i.naturalWidth") > 0  # served by the protected view
    assert Photo.objects.get(session_record=record).moment == "after"
    screenshot(page, "session-06-photo")

    # 8. Tolerance, then complete the session.
    page.get_by_test_id("tolerance").get_by_text("Good", exact=True).click()
    expect(page.get_by_test_id("sign-blockers")).to_contain_text("Ready to complete", timeout=8000)
    page.get_by_test_id("complete-session").click()
    expect(page.get_by_test_id("signed-by")).to_be_visible()
    expect(page.get_by_test_id("record-status")).to_have_text("Signed")
    expect(page.locator("[data-testid=map-readonly] circle[data-point]")).to_have_count(4)
    expect(page.get_by_test_id("map-legend")).to_contain_text("Flanks")
    screenshot(page, "session-07-signed")
    record.refresh_from_db()
    assert record.is_signed and record.side_effects.get().kind == "bruising"
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"
    assert InjectionPoint.objects.filter(treated_area__record=record).count() == 4
    phone.goto(record_url)
    screenshot(phone, "session-08-phone-signed")

    # 9. The course view: session 2 of 3 done, the grades' chart.
    page.goto(f"/courses/{course.pk}/record/")
    sessions = page.get_by_test_id("course-record-session")
    expect(sessions).to_have_count(3)
    expect(sessions.nth(1).get_by_test_id("record-status")).to_contain_text("Signed")
    expect(page.get_by_test_id("course-trends")).to_be_visible()
    screenshot(page, "session-09-course")
    assert Course.objects.get(pk=course.pk).review_reason == ""
    assert not errors, errors


def test_a_dropped_connection_loses_nothing(
    new_page, screenshot, clinic_setup, front_desk, practitioner_user
):
    """The wifi drops while Dr Pia adds an extra area and types: what she recorded is kept on
    the tablet and saved as soon as the page is open again with a connection."""
    _patient, _course, appointment, lot = scene(clinic_setup, front_desk)
    appointment_check_in(actor=front_desk, appointment=appointment)
    record = services.session_record_start(actor=practitioner_user, appointment=appointment)
    page = new_page(viewport=TABLET, has_touch=True)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, practitioner_user.email, PASSWORD)
    page.goto(f"/session-records/{record.pk}/")
    page.get_by_label("Add an area").select_option("knees")
    page.get_by_role("button", name="Add an area").click()
    knees = page.locator("[data-area-row][data-area=knees]")
    expect(knees.locator("[data-area-label]")).to_have_text("Knees")
    expect(knees.locator("[data-extra]")).to_be_visible()
    page.context.set_offline(True)
    fill_area(knees, lot, volume="1.5", depth="4", points="12")
    page.get_by_label("Changes in health").fill("Knee pain after running")
    page.get_by_label("Changes in health").blur()
    expect(page.get_by_test_id("save-status")).to_contain_text("no connection", timeout=8000)
    screenshot(page, "session-10-offline")
    assert not record.areas.exists()

    context = page.context
    page.close()
    page = context.new_page()  # the same browser: the copy is in its storage
    page.context.set_offline(False)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"/session-records/{record.pk}/")
    expect(page.locator("#restore-notice")).to_contain_text("Restored what you recorded")
    knees = page.locator("[data-area-row][data-area=knees]")
    expect(knees.locator("[data-area-label]")).to_have_text("Knees")
    expect(knees.get_by_label("Volume (ml)")).to_have_value("1.5")
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved", timeout=8000)
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.health_changes == "Knee pain after running"
    treated = saved.areas.get(area="knees")
    assert treated.is_extra and treated.volume_ml == Decimal("1.50")
    assert not errors, errors
