"""The clinical course view (every session with what was done, photos, progress and the chart
of the assessment values), who may open it, what it costs in queries, the "review before next
session" flag on front desk's and the practitioner's pages, and the chart's clinical panel."""

import json
import re
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from consultations.models import Photo
from consultations.selectors.consultations import chart_clinical_panel
from consultations.services.session_records import (
    session_record_save_draft,
    session_record_sign,
    session_record_start,
)
from sessions.models import Course
from sessions.services import appointment_check_in, course_book, course_flag_for_review
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.clinical import area_row
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db

REASON = "Severe adverse event at the last session: a practitioner reviews first."


def _photo(record, moment, doctor):
    """A photo row of the record (the page only links to the protected file)."""
    return Photo.objects.create(
        patient=record.patient,
        session_record=record,
        moment=moment,
        area="abdomen",
        view="front",
        taken_by=doctor,
        taken_at=record.appointment.starts_at,
        file=f"photos/{record.pk}-{moment}.jpg",
        preview=f"photos/{record.pk}-{moment}-preview.jpg",
        thumbnail=f"photos/{record.pk}-{moment}-thumb.jpg",
        width=640,
        height=480,
        original_format="JPEG",
        sha256="0" * 64,
    )


def course_with_records(setup, desk, patient, product, lot, *, sessions, recorded, hour=11):
    """A weekly course of ``sessions`` at ``hour`` New York whose first ``recorded`` sessions
    (in the past) were recorded and signed through the services: two areas, a point on the
    map, side effects from the second session on, a grade that improves, a circumference and
    a weight that go down, and a before and an after photo."""
    today = timezone.localdate(timezone=NEW_YORK)
    first = today - timedelta(weeks=recorded)
    starts = [
        datetime.combine(first + timedelta(weeks=k), time(hour), tzinfo=NEW_YORK)
        for k in range(sessions)
    ]
    course = course_book(
        actor=desk,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        room=setup["room"],
        appointment_type=setup["type"],
        starts=starts,
        interval_days=7,
        areas=["abdomen", "flanks"],
        allow_outside_hours=True,
    )
    doctor = setup["practitioner"].user
    appointments = list(course.appointments.order_by("starts_at"))[:recorded]
    for k, appointment in enumerate(appointments):
        appointment_check_in(actor=desk, appointment=appointment)
        record = session_record_start(actor=doctor, appointment=appointment)
        session_record_save_draft(
            actor=doctor,
            record=record,
            data={
                "alerts_reviewed": True,
                "no_side_effects_since_last": k == 0,
                "tolerance": "good",
                "weight_kg": Decimal("80.0") - k,
            },
            side_effects=[]
            if k == 0
            else [{"kind": "bruising", "severity": "mild", "duration_days": 3, "notes": ""}],
            areas=[
                area_row(
                    product,
                    lot,
                    "abdomen",
                    points=[{"diagram": "body_front", "x": "0.50", "y": "0.45"}],
                ),
                area_row(product, lot, "flanks", volume_ml="2.50"),
            ],
            assessments=[
                {
                    "area": "abdomen",
                    "nurnberger_muller_grade": max(3 - k, 0),
                    "circumference_cm": Decimal("92.0") - k,
                }
            ],
        )
        session_record_sign(actor=doctor, record=record)
        _photo(record, "before", doctor)
        _photo(record, "after", doctor)
    return Course.objects.get(pk=course.pk)


@pytest.fixture
def course(clinic_setup, front_desk, consult_patient, product, lot):
    return course_with_records(
        clinic_setup, front_desk, consult_patient, product, lot, sessions=4, recorded=3
    )


def url(course):
    return reverse("course_clinical", args=[course.pk])


def chart_json(response):
    match = re.search(
        r'<script id="course-chart-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the chart data is on the page"
    return json.loads(match[1])


# --- The course view ------------------------------------------------------------------------


def test_course_view_lists_each_session_with_what_was_done(client_for, practitioner_user, course):
    response = client_for(practitioner_user).get(url(course))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="course-record-session"') == 4
    for k in (1, 2, 3, 4):
        assert f"Session {k} of 4" in page
    assert "PC-2026-118" in page
    assert "4.00 ml" in page and "2.50 ml" in page
    assert "(1 on the map)" in page
    assert "Bruising (mild, 3 days)" in page
    assert "Not recorded yet" in page  # the fourth session, still to come
    assert page.count('data-testid="record-status"') == 3
    first = course.appointments.order_by("starts_at").first()
    thumb = reverse(
        "consultations:photo_file", args=[first.session_record.photos.first().pk, "thumb"]
    )
    assert thumb in page
    assert "Before:" in page and "After:" in page
    record_url = reverse("session_record_detail", args=[first.session_record.pk])
    assert f'href="{record_url}"' in page


def test_course_view_shows_the_date_in_the_locations_zone(client_for, practitioner_user, course):
    first = course.appointments.order_by("starts_at").first()
    local = timezone.localtime(first.starts_at, NEW_YORK)

    page = client_for(practitioner_user).get(url(course)).content.decode()

    assert f"{local:%a} {local.day} {local:%b %Y}, 11:00" in page


def test_course_view_shows_progress_done_of_planned(client_for, practitioner_user, course):
    page = client_for(practitioner_user).get(url(course)).content.decode()

    assert 'aria-valuenow="3"' in page and 'aria-valuemax="4"' in page


def test_course_view_passes_the_trend_as_json_for_chart_js(client_for, manager, course):
    response = client_for(manager).get(url(course))

    data = chart_json(response)
    (grade,) = data["grades"]
    assert grade["key"] == "abdomen" and grade["label"] == "Abdomen"
    assert [value for _day, value in grade["points"]] == [3, 2, 1]
    (circumference,) = data["circumferences"]
    assert [value for _day, value in circumference["points"]] == [92.0, 91.0, 90.0]
    (weight,) = data["weight"]
    assert [value for _day, value in weight["points"]] == [80.0, 79.0, 78.0]
    days = [day for day, _value in grade["points"]]
    assert days == sorted(days)
    page = response.content.decode()
    assert "vendor/chart.js/dist/chart.umd.js" in page
    assert "js/course_chart.js" in page
    assert "cdn" not in page.lower()


def test_course_view_shows_the_values_as_a_table_too(client_for, practitioner_user, course):
    page = client_for(practitioner_user).get(url(course)).content.decode()

    tables = page.split('data-testid="trend-tables"')[1]
    assert "Grade per area (grade 0-3)" in tables
    assert "Circumference per area (cm)" in tables
    assert "Weight (kg)" in tables
    assert "92.0" in tables and "78.0" in tables


def test_course_without_values_says_so_and_loads_no_chart_library(
    client_for, practitioner_user, clinic_setup, front_desk, consult_patient, product, lot
):
    course = course_with_records(
        clinic_setup, front_desk, consult_patient, product, lot, sessions=2, recorded=0
    )

    response = client_for(practitioner_user).get(url(course))

    page = response.content.decode()
    assert 'data-testid="no-trends"' in page
    assert "chart.umd.js" not in page


def test_course_view_is_audited(client_for, practitioner_user, course):
    client_for(practitioner_user).get(url(course))

    event = AuditEvent.objects.get(action="course.clinical_viewed")
    assert event.patient_id == course.patient_id
    assert event.actor == practitioner_user


@pytest.mark.parametrize("role", ["front_desk", "patient_user", "other_patient_user"])
def test_course_view_is_not_found_for_anyone_but_clinicians(client_for, course, request, role):
    user = request.getfixturevalue(role)

    response = client_for(user).get(url(course))

    assert response.status_code == 404


def test_course_view_asks_an_anonymous_visitor_to_log_in(client, course):
    response = client.get(url(course))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_unknown_course_is_not_found(client_for, practitioner_user, db):
    assert client_for(practitioner_user).get("/courses/999999/record/").status_code == 404


def test_course_view_costs_the_same_queries_for_two_or_eight_sessions(
    client_for,
    practitioner_user,
    clinic_setup,
    front_desk,
    product,
    lot,
    django_assert_max_num_queries,
):
    small, large = (
        course_with_records(
            clinic_setup, front_desk, PatientFactory(), product, lot, sessions=n, recorded=n, hour=h
        )
        for n, h in ((2, 9), (8, 14))
    )
    client = client_for(practitioner_user)
    client.get(url(small))  # the session and the user are loaded once per request anyway

    with CaptureQueriesContext(connection) as few:
        assert client.get(url(small)).status_code == 200
    with django_assert_max_num_queries(len(few)):
        response = client.get(url(large))

    assert response.content.decode().count('data-testid="record-status"') == 8


# --- Review before next session -------------------------------------------------------------


@pytest.fixture
def flagged(course, practitioner_user):
    course_flag_for_review(actor=practitioner_user, course=course, reason=REASON)
    return Course.objects.get(pk=course.pk)


def test_today_list_shows_the_review_badge_with_the_reason(
    client_for, front_desk, clinic_setup, flagged
):
    """The course's last session is today: front desk sees the flag on the arrival list."""
    today = timezone.localdate(timezone=NEW_YORK)
    last = flagged.appointments.order_by("starts_at").last()
    assert timezone.localtime(last.starts_at, NEW_YORK).date() == today

    page = client_for(front_desk).get(reverse("treatment_sessions:today")).content.decode()

    assert 'data-testid="review-badge"' in page
    assert "Review before next session" in page
    assert REASON in page


def test_calendar_panel_shows_the_review_flag(client_for, front_desk, flagged):
    upcoming = flagged.appointments.order_by("starts_at").last()

    response = client_for(front_desk).get(
        reverse("treatment_sessions:calendar_appointment", args=[upcoming.pk]),
        HTTP_HX_REQUEST="true",
    )

    page = response.content.decode()
    assert 'data-testid="panel-review"' in page and REASON in page


def test_today_list_has_no_badge_without_the_flag(client_for, front_desk, course):
    page = client_for(front_desk).get(reverse("treatment_sessions:today")).content.decode()

    assert 'data-testid="review-badge"' not in page


def test_course_detail_shows_the_flag_and_a_practitioner_may_mark_it_reviewed(
    client_for, practitioner_user, flagged
):
    detail = reverse("treatment_sessions:course_detail", args=[flagged.pk])
    client = client_for(practitioner_user)

    page = client.get(detail).content.decode()
    assert 'data-testid="review-flag"' in page and REASON in page
    assert 'data-testid="review-clear"' in page

    response = client.post(
        reverse("course_review_clear", args=[flagged.pk]), {"next": detail}, follow=True
    )

    assert response.redirect_chain[-1][0] == detail
    flagged.refresh_from_db()
    assert not flagged.needs_review and flagged.review_flagged_at is None
    page = response.content.decode()
    assert 'data-testid="review-flag"' not in page
    assert "Marked as reviewed" in page
    event = AuditEvent.objects.get(action="course.review_cleared")
    assert event.actor == practitioner_user and event.detail["was"] == REASON


def test_front_desk_sees_the_flag_but_cannot_clear_it(client_for, front_desk, flagged):
    client = client_for(front_desk)
    page = client.get(
        reverse("treatment_sessions:course_detail", args=[flagged.pk])
    ).content.decode()

    assert REASON in page
    assert 'data-testid="review-clear"' not in page
    assert client.post(reverse("course_review_clear", args=[flagged.pk])).status_code == 403
    flagged.refresh_from_db()
    assert flagged.needs_review


def test_clearing_a_course_that_is_not_flagged_says_so(client_for, practitioner_user, course):
    response = client_for(practitioner_user).post(
        reverse("course_review_clear", args=[course.pk]), follow=True
    )

    assert response.status_code == 200
    assert "not waiting for a review" in response.content.decode()


def test_clearing_ignores_a_next_address_on_another_site(client_for, practitioner_user, flagged):
    response = client_for(practitioner_user).post(
        reverse("course_review_clear", args=[flagged.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("treatment_sessions:course_detail", args=[flagged.pk])


def test_course_record_page_shows_the_flag_too(client_for, practitioner_user, flagged):
    page = client_for(practitioner_user).get(url(flagged)).content.decode()

    assert 'data-testid="review-flag"' in page and 'data-testid="review-clear"' in page


def test_course_detail_links_to_the_clinical_record_for_clinicians_only(
    client_for, practitioner_user, front_desk, course
):
    detail = reverse("treatment_sessions:course_detail", args=[course.pk])

    clinician_page = client_for(practitioner_user).get(detail).content.decode()
    desk_page = client_for(front_desk).get(detail).content.decode()

    assert f'href="{url(course)}"' in clinician_page
    assert f'href="{url(course)}"' not in desk_page


# --- The chart's clinical panel -------------------------------------------------------------


def test_chart_panel_lists_the_last_session_records(client_for, practitioner_user, course):
    page = (
        client_for(practitioner_user)
        .get(reverse("patients:chart", args=[course.patient_id]))
        .content.decode()
    )

    panel = page.split('data-testid="chart-session-records"')[1].split("</ul>")[0]
    assert panel.count("<li") == 3
    assert "session 3 of 4" in panel and "session 1 of 4" in panel
    assert "Abdomen, Flanks" in panel
    assert "Signed" in panel
    assert f'href="{url(course)}"' in panel


def test_chart_panel_costs_one_query_more_for_the_session_records(
    practitioner_user, clinic_setup, front_desk, product, lot, django_assert_num_queries
):
    patient = PatientFactory()
    MedicalHistoryFactory(patient=patient)
    course_with_records(clinic_setup, front_desk, patient, product, lot, sessions=6, recorded=6)
    practitioner_user.role  # noqa: B018 - the role is loaded once per request

    with django_assert_num_queries(3):  # consultations, session records, photos by area
        panel = chart_clinical_panel(practitioner_user, patient)

    assert len(panel["session_records"]) == 5
    assert panel["session_records"][0].area_labels == ["Abdomen", "Flanks"]


def test_chart_panel_has_no_session_records_for_front_desk(front_desk, course):
    panel = chart_clinical_panel(front_desk, course.patient)

    assert panel is None or panel["session_records"] == []
