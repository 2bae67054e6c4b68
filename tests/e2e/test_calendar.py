"""The front-desk calendar in the browser.

Front desk opens the week, sees the appointments (alerts, course place, status), drags one onto
a slot that clashes and is refused (it goes back, the message names the clash, nothing
changes), drags it to a free slot (it moves), opens an appointment in the side panel and
checks the patient in, then books a new appointment from an empty slot.
"""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Location, Practitioner, Room
from sessions import services
from sessions.models import Appointment, AppointmentType
from tests.e2e.pages import LAPTOP, log_in
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.people import PASSWORD
from tests.fixtures.scheduling import NEW_YORK, give_hours

pytestmark = pytest.mark.django_db(transaction=True)


def next_weeks_tuesday():
    """Tuesday of next week in New York: always in the future, always a working day."""
    today = timezone.localdate(timezone=NEW_YORK)
    return today + timedelta(days=7 - today.weekday() + 1)


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture
def clinic(roles, front_desk, practitioner_user, manager):
    location = Location.objects.create(name="Park Avenue", code="NYC", time_zone="America/New_York")
    room = Room.objects.create(location=location, name="Room 1")
    Room.objects.create(location=location, name="Room 2")
    pia = Practitioner.objects.create(user=practitioner_user, display_name="Pia", title="Dr")
    max_ = Practitioner.objects.create(user=manager, display_name="Max", title="Dr")
    for practitioner in (pia, max_):
        give_hours(practitioner, location)
    session = AppointmentType.objects.create(
        name="Treatment session",
        kind="treatment",
        duration_minutes=30,
        buffer_after_minutes=10,
        colour="#0f5c6e",
    )
    consultation = AppointmentType.objects.create(
        name="Consultation", kind="consultation", duration_minutes=45, colour="#f0b429"
    )
    return {
        "location": location,
        "room": room,
        "pia": pia,
        "max": max_,
        "session": session,
        "consultation": consultation,
    }


def book(clinic, actor, patient, start, practitioner="pia", kind="session", room=None):
    return services.appointment_book(
        actor=actor,
        patient=patient,
        practitioner=clinic[practitioner],
        location=clinic["location"],
        appointment_type=clinic[kind],
        room=room or clinic["room"],
        starts_at=start,
    )


def drag(page, event, column, slot_time, scroll_to):
    """Drag ``event`` so that it starts at ``slot_time`` in ``column``, the way a person does:
    move, look at where the dragged copy says it will land, nudge, let go. The grid is first
    scrolled to ``scroll_to`` so that neither end is near its edge (where FullCalendar would
    scroll while dragging)."""
    page.evaluate("document.getElementById('calendar').scrollIntoView()")
    page.evaluate(f"window.clinicCalendar.scrollToTime('{scroll_to}')")
    # Wait until the event is stable and really under the pointer (a busy machine may still be
    # laying the grid out): pressing on a stale position starts a booking selection instead.
    event.hover(position={"x": event.bounding_box()["width"] / 2, "y": 5})
    row = page.locator(f'.fc-timegrid-slot-lane[data-time="{slot_time}"]').bounding_box()
    source = event.bounding_box()
    target = column.bounding_box()
    px_per_minute = row["height"] / 15  # quarter-hour rows
    x, y = target["x"] + target["width"] / 2, row["y"] + 5
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 5)
    page.mouse.down()
    page.mouse.move(source["x"] + source["width"] / 2 + 4, source["y"] + 9, steps=3)
    page.mouse.move(x, y, steps=15)
    wanted = int(slot_time[:2]) * 60 + int(slot_time[3:5])
    for _attempt in range(4):
        shown = re.search(r"(\d\d):(\d\d)", page.locator(".fc-event-mirror").first.inner_text())
        off = wanted - (int(shown[1]) * 60 + int(shown[2]))
        if not off:
            break
        y += off * px_per_minute
        page.mouse.move(x, y, steps=2)
    page.mouse.up()


def test_front_desk_moves_an_appointment_by_drag_and_drop_refused_on_a_clash(
    new_page, screenshot, front_desk, patient_user, clinic
):
    day = next_weeks_tuesday()
    ann = PatientFactory(legal_first_name="Ann", legal_last_name="Clash")
    MedicalHistoryFactory(patient=ann, bleeding_disorder=True)
    ben = PatientFactory(legal_first_name="Ben", legal_last_name="Mover")
    cora = PatientFactory(legal_first_name="Cora", legal_last_name="Course")
    dan = PatientFactory(legal_first_name="Dan", legal_last_name="Early")
    PatientFactory(legal_first_name="Eve", legal_last_name="Newcomer")
    clash = book(clinic, front_desk, ann, at(day, 10))
    moving = book(clinic, front_desk, ben, at(day, 12))
    course = services.course_book(
        actor=front_desk,
        patient=cora,
        practitioner=clinic["max"],
        location=clinic["location"],
        appointment_type=clinic["session"],
        room=Room.objects.get(name="Room 2"),
        starts=[at(day + timedelta(days=7 * n), 12, 30) for n in range(3)],
        interval_days=7,
    )
    arrived = book(clinic, front_desk, dan, at(day, 9), practitioner="max", kind="consultation")
    services.appointment_check_in(actor=front_desk, appointment=arrived)
    fay = PatientFactory(legal_first_name="Fay", legal_last_name="Online", portal_user=patient_user)
    online = book(clinic, front_desk, fay, at(day, 11), practitioner="max")
    services.portal_appointment_cancel(
        actor=patient_user, patient=fay, appointment=online, reason="Away that week"
    )

    page = new_page(viewport=LAPTOP)
    import sys

    page.on("console", lambda m: print("CONSOLE", m.type, m.text, file=sys.stderr))
    page.on("pageerror", lambda e: print("PAGEERROR", e, file=sys.stderr))
    log_in(page, front_desk.email, PASSWORD)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Calendar"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendar")
    expect(page.locator(".fc-resourceTimeGridWeek-view")).to_be_visible()
    page.locator(".fc-next-button").click()  # next week, where the appointments are

    ann_event = page.locator(f'.fc-event[data-appointment-id="{clash.pk}"]')
    ben_event = page.locator(f'.fc-event[data-appointment-id="{moving.pk}"]')
    expect(ann_event).to_contain_text("Ann Clash")
    expect(ann_event.locator(".appt-alert-icon")).to_have_attribute(
        "aria-label", "Alerts: Bleeding disorder"
    )
    expect(ann_event).to_have_attribute("title", re.compile("Bleeding disorder"))
    expect(page.locator(".fc-event", has_text="Cora Course")).to_contain_text("Session 1 of 3")
    expect(page.locator(f'.fc-event[data-appointment-id="{arrived.pk}"]')).to_have_class(
        re.compile(r"\bappt-checked_in\b")
    )
    expect(ben_event).to_contain_text("12:00")
    expect(page.locator(f'.fc-event[data-appointment-id="{online.pk}"]')).to_have_count(0)
    inbox = page.get_by_test_id("inbox")
    expect(inbox.get_by_test_id("inbox-item")).to_contain_text("Fay Online")
    expect(inbox.get_by_test_id("inbox-item")).to_contain_text("Cancelled online")
    expect(inbox.get_by_test_id("inbox-item")).to_contain_text("Away that week")
    screenshot(page, "calendar-01-week")

    pia_column = page.locator(
        f'.fc-timegrid-col[data-resource-id="p{clinic["pia"].pk}"][data-date="{day.isoformat()}"]'
    )

    # Onto Ann's appointment: refused, the event goes back, the message names the clash.
    drag(page, ben_event, pia_column, "10:00:00", scroll_to="09:30")
    message = page.get_by_test_id("calendar-message")
    expect(message).to_contain_text("Not moved")
    expect(message).to_contain_text("Ann Clash")
    expect(message.get_by_role("button", name="Open the clashing appointment")).to_be_visible()
    expect(ben_event).to_contain_text("12:00")
    screenshot(page, "calendar-02-clash-refused")
    moving.refresh_from_db()
    assert moving.starts_at == at(day, 12)

    # To a free slot: moved, and the database says so.
    drag(page, ben_event, pia_column, "15:00:00", scroll_to="11:30")
    expect(message).to_contain_text("Moved Ben Mover")
    expect(ben_event).to_contain_text("15:00")
    moving.refresh_from_db()
    assert moving.starts_at == at(day, 15)
    assert moving.ends_at == at(day, 15, 30)
    screenshot(page, "calendar-03-moved")

    # After Dr Pia's hours: refused, then moved with front desk's explicit override.
    drag(page, ben_event, pia_column, "19:30:00", scroll_to="14:45")
    expect(message).to_contain_text("Outside Dr Pia's hours")
    expect(ben_event).to_contain_text("15:00")
    message.get_by_role("button", name="Move anyway (outside working hours)").click()
    expect(message).to_contain_text("Moved Ben Mover")
    expect(ben_event).to_contain_text("19:30")
    moving.refresh_from_db()
    assert moving.starts_at == at(day, 19, 30)
    assert moving.outside_working_hours

    # The side panel: the patient, the alert, check in.
    ann_event.click()
    panel = page.get_by_test_id("appointment-panel")
    expect(panel.get_by_test_id("panel-patient")).to_have_text("Ann Clash")
    expect(panel.get_by_test_id("panel-alerts")).to_contain_text("Bleeding disorder")
    # Bootstrap's slide-in is over once "showing" gives way to "show".
    page.wait_for_function(
        "() => { const c = document.getElementById('calendar-panel').classList;"
        " return c.contains('show') && !c.contains('showing'); }"
    )
    page.wait_for_timeout(350)
    screenshot(page, "calendar-04-panel")
    panel.get_by_role("button", name="Check in").click()
    expect(page.get_by_test_id("panel-notice")).to_contain_text("Ann Clash is checked in")
    expect(ann_event).to_have_class(re.compile(r"\bappt-checked_in\b"))
    clash.refresh_from_db()
    assert clash.status == "checked_in"
    page.locator("#calendar-panel .btn-close").click()
    expect(page.locator("#calendar-panel")).not_to_be_visible()

    # A session of a course, an hour later: asked whether the later sessions move too; yes.
    cora_event = page.locator(".fc-event", has_text="Cora Course")
    max_column = page.locator(
        f'.fc-timegrid-col[data-resource-id="p{clinic["max"].pk}"][data-date="{day.isoformat()}"]'
    )
    drag(page, cora_event, max_column, "13:30:00", scroll_to="11:00")
    modal = page.get_by_role("dialog", name="Move the later sessions too?")
    expect(modal).to_contain_text("Cora Course, session 1 of 3")
    screenshot(page, "calendar-04b-shift-later")
    modal.get_by_role("button", name="This and every later session").click()
    expect(message).to_contain_text("Moved Cora Course")
    starts = [a.starts_at for a in course.appointments.order_by("starts_at")]
    assert starts == [at(day + timedelta(days=7 * n), 13, 30) for n in range(3)]

    # Book from an empty slot: Dr Pia at 16:00, the patient found by name.
    page.locator('.fc-timegrid-slot-lane[data-time="16:00:00"]').scroll_into_view_if_needed()
    box = pia_column.bounding_box()
    row = page.locator('.fc-timegrid-slot-lane[data-time="16:00:00"]').bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, row["y"] + row["height"] / 2)
    form = page.get_by_test_id("booking-form")
    expect(form.get_by_label("Time")).to_have_value("16:00")
    expect(form.get_by_label("Practitioner")).to_have_value(str(clinic["pia"].pk))
    form.get_by_role("combobox", name="Patient").fill("newcom")
    form.get_by_role("option", name="Eve Newcomer").click()
    form.get_by_label("Type").select_option(label="Consultation (45 min)")
    screenshot(page, "calendar-05-book")
    form.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_test_id("panel-notice")).to_contain_text("Booked: Eve Newcomer")
    booked = Appointment.objects.get(patient__legal_last_name="Newcomer")
    assert booked.starts_at == at(day, 16)
    assert booked.ends_at == at(day, 16, 45)
    expect(page.locator(f'.fc-event[data-appointment-id="{booked.pk}"]')).to_contain_text(
        "Eve Newcomer"
    )
    screenshot(page, "calendar-06-booked")
    page.locator("#calendar-panel .btn-close").click()
    expect(page.locator("#calendar-panel")).not_to_be_visible()

    # The day, by room, with the cancelled appointment shown struck through; the inbox done.
    page.locator(f'.fc-col-header-cell[data-date="{day.isoformat()}"] a').first.click()
    expect(page.locator(".fc-resourceTimeGridDay-view")).to_be_visible()
    page.get_by_text("By room").click()
    expect(page.locator(".fc-col-header-cell", has_text="Room 2")).to_be_visible()
    page.get_by_label("Show cancelled").check()
    cancelled = page.locator(f'.fc-event[data-appointment-id="{online.pk}"]')
    expect(cancelled).to_have_class(re.compile(r"\bappt-cancelled\b"))
    inbox.get_by_role("button", name="Done").click()
    expect(inbox.get_by_test_id("inbox-empty")).to_be_visible()
    page.evaluate("window.clinicCalendar.scrollToTime('08:30')")
    screenshot(page, "calendar-07-day-by-room")
