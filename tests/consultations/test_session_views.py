"""The treatment-session record page: opening it from "my day", the alerts first, the autosave
(a status, never the form; incomplete rows held back), areas with lots and map points that
round-trip and are drawn again, errors at the row and field with everything kept, photos,
completing (signing) the session, the read-only record, who may do what, and its cost."""

import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import AuditEvent, Practitioner
from clinic.roles import Role
from consultations.models import (
    InjectionPoint,
    Photo,
    SessionAddendum,
    SessionRecord,
    TreatedArea,
)
from consultations.services import session_records as services
from patients.models import Allergy
from patients.selectors import current_history
from sessions.models import Appointment, Course
from sessions.services import appointment_check_in, course_book
from tests.fixtures.clinical import (
    area_row,
    book_treatment,
    complete_draft,
    give_photo_consent,
    upload,
)
from tests.fixtures.forms import FormFields
from tests.fixtures.people import make_user
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db

POINTS = [
    {"diagram": "body_front", "x": 0.5, "y": 0.41, "volume_ml": 0.05},
    {"diagram": "body_front", "x": 0.4512, "y": 0.43, "volume_ml": None},
]


# --- scene ------------------------------------------------------------------------------------


@pytest.fixture
def record(practitioner_user, treatment_appointment):
    return services.session_record_start(actor=practitioner_user, appointment=treatment_appointment)


def page_url(record, suffix=""):
    return f"/session-records/{record.pk}/{suffix}"


def form_of(client, record):
    """The record form as a browser would post it."""
    page = client.get(page_url(record))
    assert page.status_code == 200
    parser = FormFields("session-form")
    parser.feed(page.content.decode())
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def with_rows(data, prefix, *rows):
    """The form with these rows (dicts) in the list ``prefix`` instead of those shown."""
    data = {k: v for k, v in data.items() if not k.startswith(f"{prefix}-")}
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": [str(len(rows))],
            f"{prefix}-INITIAL_FORMS": ["0"],
            f"{prefix}-MIN_NUM_FORMS": ["0"],
            f"{prefix}-MAX_NUM_FORMS": ["1000"],
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = [value if isinstance(value, str) else str(value)]
    return data


def posted_area(product, lot, area="abdomen", **overrides):
    row = {
        "area": area,
        "product": product.pk,
        "lot": lot.pk,
        "volume_ml": "4.00",
        "injection_points": "40",
        "depth_mm": "4.0",
        "technique": "point_by_point",
        "needle_gauge": "30",
        "needle_length_mm": "4.0",
        "points": "",
    }
    row.update(overrides)
    return row


def ready(data):
    """What else a record needs to be completed."""
    data = dict(data)
    data.update({"alerts_reviewed": ["on"], "tolerance": ["good"]})
    return data


def course_today(setup, desk, patient, product, lot):
    """A weekly course of 3 for abdomen and flanks: the first session a week ago, recorded and
    signed with a recommendation and a photo; the second today at 11:00, checked in."""
    today = timezone.localdate(timezone=NEW_YORK)
    course = course_book(
        actor=desk,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        room=setup["room"],
        appointment_type=setup["type"],
        starts=[
            datetime.combine(today + timedelta(weeks=k - 1), time(11), tzinfo=NEW_YORK)
            for k in range(3)
        ],
        interval_days=7,
        areas=["abdomen", "flanks"],
        allow_outside_hours=True,
    )
    first, second, _third = course.appointments.order_by("starts_at")
    doctor = setup["practitioner"].user
    appointment_check_in(actor=desk, appointment=first)
    previous = services.session_record_start(actor=doctor, appointment=first)
    draft = complete_draft(product, lot)
    draft["data"]["next_session_recommendation"] = "Go deeper on the flanks"
    services.session_record_save_draft(actor=doctor, record=previous, **draft)
    services.session_record_sign(actor=doctor, record=previous)
    photo_row(previous, "after", doctor)
    appointment_check_in(actor=desk, appointment=second)
    return Course.objects.get(pk=course.pk), previous, second


def photo_row(record, moment, doctor, area="abdomen"):
    """A photo row of the record (the page only links to the protected file)."""
    return Photo.objects.create(
        patient=record.patient,
        session_record=record,
        moment=moment,
        area=area,
        view="front",
        taken_by=doctor,
        file=f"photos/{record.pk}-{moment}.jpg",
        preview=f"photos/{record.pk}-{moment}-p.jpg",
        thumbnail=f"photos/{record.pk}-{moment}-t.jpg",
        width=640,
        height=480,
        original_format="JPEG",
        sha256="0" * 64,
    )


@pytest.fixture
def in_course(clinic_setup, front_desk, consult_patient, product, lot):
    return course_today(clinic_setup, front_desk, consult_patient, product, lot)


@pytest.fixture
def other_practitioner(clinic_setup):
    user = make_user(Role.PRACTITIONER, "olli@test.clinic", "Dr Olli Other")
    Practitioner.objects.create(user=user, display_name="Olli", title="Dr")
    return user


# --- "my day" ---------------------------------------------------------------------------------


def test_my_day_checks_in_then_opens_the_session_record(
    clinic_setup, client_for, practitioner_user, front_desk, consult_patient
):
    appointment = book_treatment(clinic_setup, front_desk, consult_patient, check_in=False)
    client = client_for(practitioner_user)
    page = client.get("/my-day/").content.decode()
    check_in = f"/day/appointments/{appointment.pk}/check-in/"
    assert f'action="{check_in}"' in page and 'data-testid="check-in"' in page
    assert 'data-testid="open-session-record"' not in page
    response = client.post(check_in, {"next": "/my-day/"}, follow=True)
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"
    page = response.content.decode()
    assert f'action="/appointments/{appointment.pk}/session-record/"' in page
    assert 'data-testid="check-in"' not in page

    response = client.post(f"/appointments/{appointment.pk}/session-record/")
    record = SessionRecord.objects.get(appointment=appointment)
    assert response.status_code == 302 and response["Location"] == page_url(record)
    assert Appointment.objects.get(pk=appointment.pk).status == "in_progress"
    # Again (in progress now): the same record.
    again = client.post(f"/appointments/{appointment.pk}/session-record/")
    assert again["Location"] == page_url(record)
    assert SessionRecord.objects.count() == 1


def test_my_day_views_the_record_of_a_completed_session(
    client_for, practitioner_user, record, product, lot
):
    services.session_record_save_draft(
        actor=practitioner_user, record=record, **complete_draft(product, lot)
    )
    services.session_record_sign(actor=practitioner_user, record=record)
    client = client_for(practitioner_user)
    page = client.get("/my-day/").content.decode()
    assert 'data-testid="open-session-record"' not in page
    link = f'href="/appointments/{record.appointment_id}/session-record/"'
    assert link in page and 'data-testid="view-session-record"' in page
    response = client.get(f"/appointments/{record.appointment_id}/session-record/")
    assert response["Location"] == page_url(record)


def test_my_day_shows_the_review_flag_of_the_course(
    client_for, practitioner_user, in_course, django_assert_max_num_queries
):
    course, _previous, _today = in_course
    client = client_for(practitioner_user)
    assert 'data-testid="review-badge"' not in client.get("/my-day/").content.decode()
    Course.objects.filter(pk=course.pk).update(review_reason="Haematoma last time")
    with django_assert_max_num_queries(20):  # the course comes with the appointment
        page = client.get("/my-day/").content.decode()
    assert 'data-testid="review-badge"' in page and "Review before next session" in page
    assert 'title="Haematoma last time"' in page


def test_a_consultation_or_an_unchecked_appointment_cannot_be_recorded(
    clinic_setup, client_for, practitioner_user, front_desk, consult_patient, consult_appointment
):
    client = client_for(practitioner_user)
    response = client.post(f"/appointments/{consult_appointment.pk}/session-record/")
    assert response.status_code == 302 and response["Location"] == "/my-day/"
    booked = book_treatment(clinic_setup, front_desk, consult_patient, hour=15, check_in=False)
    response = client.post(f"/appointments/{booked.pk}/session-record/", follow=True)
    assert "Check the patient in before recording the session" in response.content.decode()
    assert not SessionRecord.objects.exists()


# --- the draft page ---------------------------------------------------------------------------


def test_page_shows_the_allergy_banner_plan_and_last_session_first(
    client_for, practitioner_user, in_course
):
    course, previous, today = in_course
    Allergy.objects.create(
        history=current_history(today.patient), substance="Lidocaine", severity="severe"
    )
    client = client_for(practitioner_user)
    client.post(f"/appointments/{today.pk}/session-record/")
    record = SessionRecord.objects.get(appointment=today)
    page = client.get(page_url(record)).content.decode()
    banner = page.index('data-testid="alerts-banner"')
    assert "Lidocaine" in page and banner < page.index('id="session-form"') + 2000
    assert banner < page.index('id="before"')
    assert 'name="alerts_reviewed"' in page
    assert "Session 2 of 3" in page
    assert 'data-testid="plan"' in page and "Abdomen, Flanks" in page
    assert "Go deeper on the flanks" in page  # the last session's recommendation
    photo = previous.photos.get()
    assert f'src="/photos/{photo.pk}/thumb/"' in page
    assert f'hx-post="/session-records/{record.pk}/autosave/"' in page
    # The planned areas are rows already, with the plan's product (no plan here: the course's
    # areas), and the lots of the day grouped by product with their expiry.
    assert 'name="areas-0-area" value="abdomen"' in page
    assert 'name="areas-1-area" value="flanks"' in page
    assert "PC-2026-118 · exp." in page
    assert "Planned but not recorded: Abdomen, Flanks." in page
    assert AuditEvent.objects.filter(action="session_record.viewed", object_id=str(record.pk))


def test_expired_lots_are_not_offered(client_for, practitioner_user, record, lot, expired_lot):
    page = client_for(practitioner_user).get(page_url(record)).content.decode()
    template = page.split('id="areas-row-template"')[1]
    assert lot.lot_number in template and expired_lot.lot_number not in template
    assert f'data-product="{lot.product_id}"' in template


def test_autosave_saves_areas_and_map_points_that_are_drawn_again(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, record),
        "areas",
        posted_area(product, lot, points=json.dumps(POINTS), grade="2", circumference_cm="91"),
        posted_area(product, lot, "flanks", volume_ml="2.5", injection_points="20"),
    )
    data.update({"health_changes": ["Started running"], "weight_kg": ["71.5"]})
    response = client.post(page_url(record, "autosave/"), data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200, body
    assert 'data-state="saved"' in body and 'name="health_changes"' not in body
    assert 'id="sign-blockers"' in body and 'hx-swap-oob="true"' in body
    abdomen, flanks = TreatedArea.objects.filter(record=record).order_by("id")
    assert (abdomen.area, abdomen.volume_ml, flanks.volume_ml) == (
        "abdomen",
        Decimal("4.00"),
        Decimal("2.50"),
    )
    points = list(abdomen.points.values_list("diagram", "x", "y", "volume_ml"))
    assert points == [
        ("body_front", Decimal("0.5000"), Decimal("0.4100"), Decimal("0.05")),
        ("body_front", Decimal("0.4512"), Decimal("0.4300"), None),
    ]
    assessment = record.assessments.get()
    assert (assessment.area, assessment.nurnberger_muller_grade) == ("abdomen", 2)
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.health_changes == "Started running" and saved.weight_kg == Decimal("71.5")

    # The page brings them back: the points in the row's hidden input, the values in the row.
    again = form_of(client, record)
    assert json.loads(again["areas-0-points"][0]) == POINTS
    assert again["areas-0-lot"] == [str(lot.pk)] and again["areas-1-volume_ml"] == ["2.50"]
    assert again["areas-0-grade"] == ["2"]
    # Posting the page unchanged keeps everything.
    assert client.post(page_url(record, "autosave/"), again).status_code == 200
    assert InjectionPoint.objects.filter(treated_area__record=record).count() == 2


def test_the_signed_record_draws_the_map_with_its_legend(
    client_for, practitioner_user, record, product, lot
):
    draft = complete_draft(product, lot, points=POINTS)
    services.session_record_save_draft(actor=practitioner_user, record=record, **draft)
    services.session_record_sign(actor=practitioner_user, record=record)
    page = client_for(practitioner_user).get(page_url(record)).content.decode()
    assert 'id="session-form"' not in page and "hx-post" not in page
    assert 'data-testid="map-readonly"' in page
    circles = re.findall(r'<circle class="map-point" data-point cx="([\d.]+)" cy="([\d.]+)"', page)
    assert circles == [("100.0", "180.4"), ("90.24", "189.2")]  # x * 200, y * 440
    assert 'fill="#1f77b4"' in page  # the abdomen's colour
    legend = page.split('data-testid="map-legend"')[1]
    assert "Abdomen" in legend and "PC-2026-118" in legend and "2 points on the map" in legend


def test_an_incomplete_row_is_held_back_by_the_autosave_and_refused_by_save(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, record),
        "areas",
        {"area": "abdomen", "product": product.pk, "lot": lot.pk, "points": json.dumps(POINTS)},
    )
    data["medication_changes"] = ["Stopped aspirin"]
    response = client.post(page_url(record, "autosave/"), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-state="saved"' in body
    assert "Abdomen not saved until complete (missing: Volume (ml)" in body
    assert SessionRecord.objects.get(pk=record.pk).medication_changes == "Stopped aspirin"
    assert not TreatedArea.objects.exists()

    response = client.post(page_url(record), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Abdomen · Volume (ml): This field is required." in page
    assert re.search(
        r'name="areas-0-volume_ml"[^>]*is-invalid|is-invalid[^>]*name="areas-0-volume_ml"', page
    )
    assert "&quot;x&quot;: 0.4512" in page  # the points typed are kept


def test_the_autosave_saves_complete_areas_and_keeps_the_saved_version_of_one_being_edited(
    client_for, practitioner_user, record, product, lot
):
    services.session_record_save_draft(
        actor=practitioner_user,
        record=record,
        data={},
        areas=[area_row(product, lot, "flanks", points=POINTS)],
    )
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, record),
        "areas",
        posted_area(product, lot, volume_ml="5"),
        posted_area(product, lot, "flanks", depth_mm="", volume_ml="1"),  # being edited
        {"area": "hips", "product": product.pk, "volume_ml": "2"},  # just started
    )
    response = client.post(page_url(record, "autosave/"), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-state="saved"' in body
    assert "Flanks not saved until complete (missing: Depth (mm))" in body
    assert "Hips not saved until complete" in body
    saved = {t.area: t for t in TreatedArea.objects.filter(record=record)}
    assert sorted(saved) == ["abdomen", "flanks"]
    assert saved["abdomen"].volume_ml == Decimal("5.00")
    assert saved["flanks"].volume_ml == Decimal("4.00") and saved["flanks"].points.count() == 2


def test_an_expired_lot_is_refused_at_its_field_and_everything_is_kept(
    client_for, practitioner_user, record, product, lot, expired_lot
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, record),
        "areas",
        posted_area(product, lot),
        posted_area(product, expired_lot, "flanks", volume_ml="3.25", points=json.dumps(POINTS)),
    )
    data["health_changes"] = ["Typed before the mistake"]
    response = client.post(page_url(record), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Lot PC-2024-007 expired on" in page
    lot_field = re.search(r'<select name="areas-1-lot"[^>]*>', page)[0]
    assert "is-invalid" in lot_field
    assert re.search(rf'<option value="{expired_lot.pk}"[^>]*selected[^>]*>PC-2024-007', page)
    assert 'value="3.25"' in page and "Typed before the mistake" in page
    assert 'data-testid="form-error-summary"' in page and 'data-bound="1"' in page
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.health_changes == "" and not TreatedArea.objects.exists()

    autosave = client.post(page_url(record, "autosave/"), data)
    body = autosave.content.decode()
    assert autosave.status_code == 400
    assert 'data-field="areas-1-lot"' in body and "Flanks · Lot: Lot PC-2024-007 expired" in body
    assert not TreatedArea.objects.exists()


def test_out_of_range_values_are_refused_at_their_row(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    data = with_rows(
        form_of(client, record),
        "areas",
        posted_area(product, lot, depth_mm="20", points='[{"diagram": "body_front", "x": 3}]'),
    )
    data = with_rows(data, "side_effects", {"kind": "bruising", "duration_days": "4"})
    data["weight_kg"] = ["900"]
    response = client.post(page_url(record), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Abdomen · Depth (mm): Ensure this value is less than or equal to 13" in page
    assert "A map point is not a number" in page or "A map point is off the diagram" in page
    assert "Side effect 1 · Severity: This field is required." in page
    assert 'value="900"' in page
    assert not TreatedArea.objects.exists()


def test_side_effects_and_adverse_events_are_saved(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    data = with_rows(form_of(client, record), "areas", posted_area(product, lot))
    data = with_rows(
        data,
        "side_effects",
        {"kind": "bruising", "severity": "mild", "duration_days": "3", "notes": "left flank"},
        {},  # an empty row is left out
    )
    data = with_rows(
        data,
        "adverse_events",
        {"kind": "vasovagal", "severity": "moderate", "action_taken": "Lay down, water"},
    )
    response = client.post(page_url(record), data)
    assert response.status_code == 302 and response["Location"] == page_url(record)
    saved = SessionRecord.objects.get(pk=record.pk)
    (effect,) = saved.side_effects.all()
    assert (effect.kind, effect.duration_days, effect.notes) == ("bruising", 3, "left flank")
    (event,) = saved.adverse_events.all()
    assert (event.kind, event.action_taken) == ("vasovagal", "Lay down, water")


def test_without_javascript_an_extra_area_is_added_and_marked(
    client_for, practitioner_user, in_course, product, lot
):
    _course, _previous, today = in_course
    client = client_for(practitioner_user)
    client.post(f"/appointments/{today.pk}/session-record/")
    record = SessionRecord.objects.get(appointment=today)
    data = form_of(client, record)
    data.update({"add_area": ["knees"], "action": ["add_area"]})
    response = client.post(page_url(record), data)
    assert response["Location"] == page_url(record, "?add=knees#areas")
    page = client.get(response["Location"]).content.decode()
    row = page.split('name="areas-2-area" value="knees"')[1].split("</legend>")[0]
    assert "extra: not in the plan" in row and " hidden" not in row.split("data-extra")[1][:10]


# --- completing -------------------------------------------------------------------------------


def test_complete_lists_what_is_missing_then_signs_and_completes_the_appointment(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    response = client.post(page_url(record, "complete/"), form_of(client, record), follow=True)
    page = response.content.decode()
    assert "The session is not completed yet" in page
    blockers = page.split('data-testid="sign-blockers"')[1].split("</div>")[0]
    assert "Confirm you reviewed the patient" in blockers and 'href="#alerts"' in blockers
    assert "Record at least one treated area" in blockers and 'href="#areas"' in blockers
    assert 'href="#tolerance"' in blockers
    assert not SessionRecord.objects.get(pk=record.pk).is_signed

    data = with_rows(ready(form_of(client, record)), "areas", posted_area(product, lot))
    response = client.post(page_url(record, "complete/"), data)
    assert response.status_code == 302 and response["Location"] == page_url(record)
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.is_signed and saved.signed_by == practitioner_user
    assert Appointment.objects.get(pk=record.appointment_id).status == "completed"


def test_complete_with_a_bad_entry_saves_nothing_and_signs_nothing(
    client_for, practitioner_user, record, product, expired_lot
):
    client = client_for(practitioner_user)
    data = with_rows(ready(form_of(client, record)), "areas", posted_area(product, expired_lot))
    response = client.post(page_url(record, "complete/"), data)
    assert response.status_code == 400
    assert "expired on" in response.content.decode()
    assert not SessionRecord.objects.get(pk=record.pk).is_signed


def test_a_severe_adverse_event_flags_the_course(
    client_for, practitioner_user, in_course, product, lot
):
    course, _previous, today = in_course
    client = client_for(practitioner_user)
    client.post(f"/appointments/{today.pk}/session-record/")
    record = SessionRecord.objects.get(appointment=today)
    data = with_rows(
        ready(form_of(client, record)),
        "areas",
        posted_area(product, lot),
        posted_area(product, lot, "flanks"),
    )
    data["no_side_effects_since_last"] = ["on"]
    data = with_rows(
        data,
        "adverse_events",
        {"kind": "allergic", "severity": "severe", "action_taken": "Antihistamine, observed 1 h"},
    )
    assert client.post(page_url(record, "complete/"), data).status_code == 302
    assert Course.objects.get(pk=course.pk).review_reason


def test_the_signed_record_is_read_only_with_addenda(
    client_for, practitioner_user, record, product, lot
):
    client = client_for(practitioner_user)
    data = with_rows(ready(form_of(client, record)), "areas", posted_area(product, lot))
    services.session_record_save_draft(
        actor=practitioner_user, record=record, **complete_draft(product, lot)
    )
    services.session_record_sign(actor=practitioner_user, record=record)
    page = client.get(page_url(record)).content.decode()
    assert 'data-testid="signed-by"' in page and "Dr Pia Practitioner" in page
    assert 'name="health_changes"' not in page and 'data-testid="addendum-form"' in page
    assert 'data-testid="photo-upload"' not in page

    data["health_changes"] = ["Changed after signing"]
    assert client.post(page_url(record), data).status_code == 302
    autosave = client.post(page_url(record, "autosave/"), data)
    assert autosave.status_code == 409 and 'data-state="signed"' in autosave.content.decode()
    assert client.post(page_url(record, "complete/"), data).status_code == 302
    photo = client.post(
        page_url(record, "photos/"),
        {
            "photo-area": "abdomen",
            "photo-view": "front",
            "photo-moment": "after",
            "photos": upload(),
        },
    )
    assert photo.status_code == 302 and not Photo.objects.exists()
    assert SessionRecord.objects.get(pk=record.pk).health_changes == ""

    response = client.post(page_url(record, "addenda/"), {"text": "Bruise reported by phone."})
    assert response["Location"] == page_url(record, "#addenda")
    assert SessionAddendum.objects.get().text == "Bruise reported by phone."
    assert "Bruise reported by phone." in client.get(page_url(record)).content.decode()


# --- photos -----------------------------------------------------------------------------------


def test_an_after_photo_is_added_to_the_record_and_shown_through_the_protected_view(
    client_for, practitioner_user, front_desk, record
):
    client = client_for(practitioner_user)
    fields = {"photo-area": "abdomen", "photo-view": "front", "photo-moment": "after"}
    refused = client.post(page_url(record, "photos/"), {**fields, "photos": upload()})
    assert refused.status_code == 400
    assert "has not signed the consent to clinical photographs" in refused.content.decode()
    assert not Photo.objects.exists()

    give_photo_consent(record.patient, front_desk)
    response = client.post(page_url(record, "photos/"), {**fields, "photos": upload()})
    assert response.status_code == 302 and response["Location"] == page_url(record, "#photos")
    photo = Photo.objects.get()
    assert (photo.session_record_id, photo.moment, photo.area) == (record.pk, "after", "abdomen")
    page = client.get(page_url(record)).content.decode()
    assert f'src="/photos/{photo.pk}/thumb/"' in page
    assert "no-store" in client.get(f"/photos/{photo.pk}/thumb/")["Cache-Control"]


# --- who may do what --------------------------------------------------------------------------

URLS = [
    ("get", "/session-records/{r}/"),
    ("post", "/session-records/{r}/"),
    ("post", "/session-records/{r}/autosave/"),
    ("post", "/session-records/{r}/complete/"),
    ("post", "/session-records/{r}/photos/"),
    ("post", "/session-records/{r}/addenda/"),
    ("get", "/appointments/{a}/session-record/"),
    ("post", "/appointments/{a}/session-record/"),
]


def _url(template, record):
    return template.format(r=record.pk, a=record.appointment_id)


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
@pytest.mark.parametrize(("method", "url"), URLS)
def test_front_desk_and_patients_are_refused_every_url(
    request, client_for, record, role, method, url
):
    client = client_for(request.getfixturevalue(role))
    response = getattr(client, method)(_url(url, record))
    assert response.status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="session_record.viewed").exists()
    assert SessionRecord.objects.get(pk=record.pk).updated_at == record.updated_at


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_visitors_are_sent_to_login(client, record, method, url):
    response = getattr(client, method)(_url(url, record))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_practitioner_sees_the_draft_read_only_and_cannot_record(
    client_for, other_practitioner, record, product, lot
):
    client = client_for(other_practitioner)
    page = client.get(page_url(record))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="refusal"' in body and "This session is booked with Dr Pia" in body
    assert 'id="session-form"' not in body
    data = with_rows(
        {"alerts_reviewed": ["on"], "health_changes": ["Not mine"]},
        "areas",
        posted_area(product, lot),
    )
    for suffix in ("", "complete/"):
        refused = client.post(page_url(record, suffix), data)
        assert refused.status_code == 403
        assert "This session is booked with Dr Pia" in refused.content.decode()
    autosave = client.post(page_url(record, "autosave/"), data)
    assert autosave.status_code == 403 and 'data-state="refused"' in autosave.content.decode()
    start = client.post(f"/appointments/{record.appointment_id}/session-record/")
    assert start.status_code == 403 and "This session is booked with" in start.content.decode()
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.health_changes == "" and not saved.is_signed and not TreatedArea.objects.exists()


def test_a_manager_reads_the_record_but_only_a_practitioner_records(client_for, manager, record):
    client = client_for(manager)
    page = client.get(page_url(record)).content.decode()
    assert "Only a practitioner can record a treatment session." in page
    assert 'id="session-form"' not in page
    assert client.post(page_url(record, "autosave/"), {}).status_code == 403


def test_unknown_record_is_404(client_for, practitioner_user, record):
    assert client_for(practitioner_user).get("/session-records/999999/").status_code == 404


# --- cost -------------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_page_costs_a_fixed_number_of_queries(
    client_for,
    practitioner_user,
    in_course,
    product,
    lot,
    expired_lot,
    django_assert_max_num_queries,
):
    _course, _previous, today = in_course
    client = client_for(practitioner_user)
    client.post(f"/appointments/{today.pk}/session-record/")
    record = SessionRecord.objects.get(appointment=today)
    url = page_url(record)
    services.session_record_save_draft(
        actor=practitioner_user,
        record=record,
        data={},
        areas=[area_row(product, lot, points=POINTS[:1])],
        side_effects=[{"kind": "rash", "severity": "mild", "duration_days": 1}],
    )
    client.get(url)
    few = _queries(client, url)
    areas = ("abdomen", "flanks", "hips", "knees", "outer_thighs", "inner_thighs")
    services.session_record_save_draft(
        actor=practitioner_user,
        record=record,
        data={},
        areas=[area_row(product, lot, area, points=POINTS * 10) for area in areas],
        side_effects=[{"kind": "rash", "severity": "mild", "duration_days": 1}] * 3,
        adverse_events=[{"kind": "pain", "severity": "mild", "action_taken": "Paused"}] * 2,
        assessments=[{"area": area, "nurnberger_muller_grade": 2} for area in areas],
    )
    for moment in ("before", "after", "after"):
        photo_row(record, moment, practitioner_user)
    assert _queries(client, url) == few
    with django_assert_max_num_queries(40):
        client.get(url)
    # Completed, with addenda: also bounded.
    data = {"alerts_reviewed": True, "tolerance": "good", "no_side_effects_since_last": False}
    services.session_record_save_draft(actor=practitioner_user, record=record, data=data)
    services.session_record_sign(actor=practitioner_user, record=record)
    for n in range(3):
        services.session_addendum_add(actor=practitioner_user, record=record, text=f"a{n}")
    with django_assert_max_num_queries(32):
        client.get(url)
