"""Front desk's course pages: book a course (propose, adjust, check, book all or nothing),
the course page (progress, move with the later sessions, cancel and replace), the list, and
who may open what."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import Appointment, Course
from tests.factories import PatientFactory
from tests.fixtures.scheduling import NEW_YORK, book

pytestmark = pytest.mark.django_db

NEW_URL = reverse("treatment_sessions:course_new")
LIST_URL = reverse("treatment_sessions:course_list")


def first_monday(weeks_ahead=2):
    """A Monday a few weeks from today, so every date of the tests is in the future."""
    today = timezone.localdate()
    return today + timedelta(days=(7 - today.weekday()) % 7 + 7 * weeks_ahead)


def local(day, hour=12, minute=30):
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def weekly(first, sessions=10, hour=12, minute=30):
    return [local(first + timedelta(weeks=k), hour, minute) for k in range(sessions)]


def plan(setup, patient, **overrides):
    data = {
        "patient": patient.pk,
        "appointment_type": setup["type"].pk,
        "practitioner": setup["practitioner"].pk,
        "location": setup["location"].pk,
        "room": setup["room"].pk,
        "sessions": 10,
        "interval": "7",
        "custom_days": "",
        "first_day": first_monday().isoformat(),
        "weekday": "0",
        "at_time": "12:30",
        "areas": ["abdomen", "flanks"],
        "notes": "Lunch hour only",
    }
    data.update(overrides)
    return data


def rows_data(response, edits=None):
    """The step-2 rows as the browser would send them back, with ``edits`` {row index: (day,
    "HH:MM")} typed over them."""
    data = {}
    formset = response.context["formset"]
    for key, value in formset.management_form.initial.items():
        data[f"s-{key}"] = value
    data["s-TOTAL_FORMS"] = len(formset.forms)
    data["s-INITIAL_FORMS"] = len(formset.forms)
    for index, form in enumerate(formset.forms):
        day, at = form["day"].value(), form["at"].value()
        data[f"s-{index}-day"] = day.isoformat() if isinstance(day, date) else day
        data[f"s-{index}-at"] = at.strftime("%H:%M") if isinstance(at, time) else at
        data[f"s-{index}-proposed"] = form["proposed"].value() or ""
        data[f"s-{index}-reason"] = form["reason"].value() or ""
    for index, (day, at) in (edits or {}).items():
        data[f"s-{index}-day"], data[f"s-{index}-at"] = day.isoformat(), at
    return data


def propose(client, setup, patient, **overrides):
    response = client.post(NEW_URL, {**plan(setup, patient, **overrides), "action": "propose"})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


def book_course(setup, actor, patient, starts):
    return services.course_book(
        actor=actor,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=setup["type"],
        room=setup["room"],
        starts=starts,
        interval_days=7,
    )


def course_url(course, name="course_detail", *extra):
    return reverse(f"treatment_sessions:{name}", args=[course.pk, *extra])


# -- who may open what -------------------------------------------------------------------------


@pytest.fixture
def course(clinic_setup, front_desk):
    return book_course(clinic_setup, front_desk, PatientFactory(), weekly(first_monday(), 3))


def _urls(course):
    session = course.appointments.order_by("starts_at").first()
    return {
        "list": LIST_URL,
        "new": NEW_URL,
        "new_for_patient": f"{NEW_URL}?patient={course.patient_id}",
        "detail": course_url(course),
        "move": course_url(course, "course_session_move", session.pk),
        "cancel": course_url(course, "course_session_cancel", session.pk),
    }


@pytest.mark.parametrize("role", ["manager", "front_desk"])
def test_manager_and_front_desk_open_every_course_page(request, client_for, course, role):
    client = client_for(request.getfixturevalue(role))
    for name, url in _urls(course).items():
        assert client.get(url).status_code == 200, name


def test_practitioner_reads_the_course_but_may_not_act(client_for, practitioner_user, course):
    client = client_for(practitioner_user)
    urls = _urls(course)
    page = client.get(urls["detail"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Session 1 of 3" in html
    assert "Move session" not in html and "Cancel session" not in html
    assert "Add this session" not in html
    for name in ("list", "move", "cancel"):
        assert client.get(urls[name]).status_code == 403, name
    assert client.post(course_url(course, "course_session_add"), {}).status_code == 403
    # ...but books the course they have just planned at the end of a consultation.
    assert client.get(urls["new_for_patient"]).status_code == 200


def test_patient_is_refused_every_course_page_even_their_own(client_for, patient_user, course):
    course.patient.portal_user = patient_user
    course.patient.save()
    client = client_for(patient_user)
    for name, url in _urls(course).items():
        assert client.get(url).status_code == 403, name
    assert client.post(course_url(course, "course_session_add"), {}).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client, course):
    for name, url in _urls(course).items():
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], name


def test_unknown_course_or_session_of_another_course_is_404(
    client_for, front_desk, course, clinic_setup
):
    other = book_course(
        clinic_setup, front_desk, PatientFactory(), weekly(first_monday(), 1, hour=15)
    )
    client = client_for(front_desk)
    assert client.get(reverse("treatment_sessions:course_detail", args=[999999])).status_code == 404
    foreign = other.appointments.get()
    assert client.get(course_url(course, "course_session_move", foreign.pk)).status_code == 404
    assert client.get(course_url(course, "course_session_cancel", foreign.pk)).status_code == 404
    assert client.get(f"{NEW_URL}?patient=999999").status_code == 404
    assert client.get(f"{NEW_URL}?patient=abc").status_code == 404


# -- book a course -----------------------------------------------------------------------------


def test_without_a_patient_the_page_asks_to_find_one(client_for, front_desk, clinic_setup):
    PatientFactory(legal_first_name="Zoé", legal_last_name="Lefèvre")
    client = client_for(front_desk)
    page = client.get(NEW_URL)
    assert page.status_code == 200 and "First find the patient." in page.content.decode()
    found = client.get(NEW_URL, {"q": "lefevre"}).content.decode()
    assert "Zoé Lefèvre" in found
    assert re.search(r'href="/courses/new/\?patient=\d+"', found)


def test_step_one_is_pre_filled_for_the_patient(client_for, front_desk, clinic_setup):
    patient = PatientFactory()
    page = client_for(front_desk).get(f"{NEW_URL}?patient={patient.pk}")
    form = page.context["form"]
    assert form.initial["patient"] == patient.pk
    assert form.initial["sessions"] == 10
    assert form.initial["practitioner"] == clinic_setup["practitioner"].pk
    assert form.initial["appointment_type"] == clinic_setup["type"].pk
    assert "Propose dates" in page.content.decode()


def test_a_custom_interval_needs_its_days_and_keeps_the_entries(
    client_for, front_desk, clinic_setup
):
    patient = PatientFactory()
    data = {**plan(clinic_setup, patient, interval="custom", sessions="12"), "action": "propose"}
    response = client_for(front_desk).post(NEW_URL, data)
    assert response.status_code == 400
    assert response.context["form"].errors["custom_days"] == [
        "Give the number of days between sessions."
    ]
    html = response.content.decode()
    assert 'name="sessions" value="12"' in html
    assert 'value="abdomen"' in html and "checked" in html
    assert not Course.objects.exists()


def test_propose_shows_a_clashing_session_flagged_and_moved_to_the_nearest_free_time(
    client_for, front_desk, clinic_setup
):
    monday = first_monday()
    clash_day = monday + timedelta(weeks=2)
    other = PatientFactory(legal_first_name="Olivia", legal_last_name="Other")
    book(clinic_setup, front_desk, other, local(clash_day, 12, 15))
    response = propose(client_for(front_desk), clinic_setup, PatientFactory())

    rows = response.context["rows"]
    assert [r.number for r in rows] == list(range(1, 11))
    assert [r.moved for r in rows] == [False, False, True] + [False] * 7
    third = rows[2]
    assert third.moved_from == datetime.combine(clash_day, time(12, 30))
    assert "Clashes with Treatment session for Olivia Other" in third.reason
    assert third.start != local(clash_day) and not third.problem
    alternative = timezone.localtime(third.start, NEW_YORK)
    assert third.form.initial["day"] == alternative.date()
    assert third.form.initial["at"] == alternative.strftime("%H:%M")
    assert third.start not in weekly(monday)
    html = response.content.decode()
    assert "1 session was moved to the nearest free time" in html
    assert f"Moved from {clash_day:%a} {clash_day.day} {clash_day:%b}, 12:30" in html
    assert "Book all 10 sessions" in html
    assert not Course.objects.exists()


def test_book_all_creates_the_course_with_sessions_numbered_1_to_n(
    client_for, front_desk, clinic_setup
):
    client = client_for(front_desk)
    patient = PatientFactory()
    proposed = propose(client, clinic_setup, patient)
    response = client.post(
        NEW_URL, {**plan(clinic_setup, patient), **rows_data(proposed), "action": "book"}
    )

    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == course_url(course)
    sessions = list(course.appointments.order_by("starts_at"))
    assert [a.session_number for a in sessions] == list(range(1, 11))
    assert [a.starts_at for a in sessions] == weekly(first_monday())
    assert course.planned_sessions == 10 and course.interval_days == 7
    assert course.areas == ["abdomen", "flanks"] and course.notes == "Lunch hour only"
    assert {a.patient for a in sessions} == {patient}
    page = client.get(response["Location"]).content.decode()
    assert "All 10 sessions booked for" in page
    assert "Session 1 of 10" in page


def test_a_clash_on_one_edited_row_books_nothing_and_shows_on_that_row(
    client_for, front_desk, clinic_setup
):
    client = client_for(front_desk)
    patient = PatientFactory()
    monday = first_monday()
    proposed = propose(client, clinic_setup, patient)
    # Someone takes a time, and front desk moves session 5 onto it, between sessions 1 and 2
    # (so the row's place in time differs from its place in the table).
    taken_day = monday + timedelta(days=2)
    book(clinic_setup, front_desk, PatientFactory(), local(taken_day, 16, 0))
    data = rows_data(proposed, edits={4: (taken_day, "16:10")})
    response = client.post(NEW_URL, {**plan(clinic_setup, patient), **data, "action": "book"})

    assert response.status_code == 400
    assert not Course.objects.exists()
    assert Appointment.objects.count() == 1
    rows = response.context["rows"]
    assert "already booked" in rows[4].problem
    assert rows[4].problem.startswith("Session 2 ")  # the service counts in time order
    assert [bool(r.problem) for r in rows] == [False] * 4 + [True] + [False] * 5
    html = response.content.decode()
    assert "Nothing was booked." in html
    assert f'name="s-4-day" value="{taken_day.isoformat()}"' in html
    assert 'name="s-4-at" value="16:10"' in html
    assert 'name="notes" value="Lunch hour only"' in html


def test_check_again_flags_an_edited_row_with_its_alternative(client_for, front_desk, clinic_setup):
    client = client_for(front_desk)
    patient = PatientFactory()
    proposed = propose(client, clinic_setup, patient, sessions="3")
    taken_day = first_monday() + timedelta(weeks=1)
    book(clinic_setup, front_desk, PatientFactory(), local(taken_day, 9, 0))
    data = rows_data(proposed, edits={1: (taken_day, "09:00")})
    response = client.post(
        NEW_URL, {**plan(clinic_setup, patient, sessions="3"), **data, "action": "check"}
    )

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [bool(r.problem) for r in rows] == [False, True, False]
    assert "Clashes with" in rows[1].problem
    assert rows[1].alternative is not None
    assert 'name="s-1-at" value="09:00"' in response.content.decode()
    assert not Course.objects.exists()


def test_check_again_flags_two_sessions_of_the_course_on_top_of_each_other(
    client_for, front_desk, clinic_setup
):
    client = client_for(front_desk)
    patient = PatientFactory()
    proposed = propose(client, clinic_setup, patient, sessions="3")
    data = rows_data(proposed, edits={2: (first_monday() + timedelta(weeks=1), "12:45")})
    response = client.post(
        NEW_URL, {**plan(clinic_setup, patient, sessions="3"), **data, "action": "check"}
    )
    rows = response.context["rows"]
    assert rows[2].problem == "Overlaps session 2 of this course."


def next_spring_forward():
    """The next second Sunday of March (clocks go forward in New York)."""
    year = timezone.localdate().year + 1
    march = date(year, 3, 1)
    return march + timedelta(days=(6 - march.weekday()) % 7 + 7)


def test_a_time_that_does_not_exist_on_the_dst_night_is_refused_on_its_row(
    client_for, front_desk, clinic_setup
):
    client = client_for(front_desk)
    patient = PatientFactory()
    proposed = propose(client, clinic_setup, patient, sessions="2")
    data = rows_data(proposed, edits={1: (next_spring_forward(), "02:30")})
    response = client.post(
        NEW_URL, {**plan(clinic_setup, patient, sessions="2"), **data, "action": "book"}
    )
    assert response.status_code == 400
    assert "does not exist in America/New_York" in response.context["rows"][1].problem
    assert not Course.objects.exists()


def test_change_the_plan_goes_back_to_step_one_with_the_entries(
    client_for, front_desk, clinic_setup
):
    client = client_for(front_desk)
    patient = PatientFactory()
    proposed = propose(client, clinic_setup, patient, sessions="4")
    response = client.post(
        NEW_URL,
        {**plan(clinic_setup, patient, sessions="4"), **rows_data(proposed), "action": "edit"},
    )
    assert response.status_code == 200
    assert not response.context["rows"]
    assert 'name="sessions" value="4"' in response.content.decode()


# -- moving, cancelling, replacing -------------------------------------------------------------


def test_move_previews_the_later_sessions_then_shifts_them_all(
    client_for, front_desk, clinic_setup
):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 4))
    second = course.appointments.get(session_number=2)
    url = course_url(course, "course_session_move", second.pk)
    client = client_for(front_desk)
    new_day = monday + timedelta(weeks=1, days=1)

    preview = client.post(url, {"day": new_day.isoformat(), "at": "13:00", "action": "preview"})
    assert preview.status_code == 200
    moves = preview.context["moves"]
    assert [m.appointment.session_number for m in moves] == [2, 3, 4]
    assert [m.start for m in moves] == [
        local(new_day + timedelta(weeks=k), 13, 0) for k in range(3)
    ]
    html = preview.content.decode()
    assert "Move only this one" in html and "Move this and the 2 later sessions" in html
    assert Appointment.objects.filter(starts_at__in=[m.start for m in moves]).count() == 0

    response = client.post(
        url,
        {
            "day": new_day.isoformat(),
            "at": "13:00",
            "action": "all",
            "previewed": preview.context["previewed"],
        },
    )
    assert response.status_code == 302
    starts = list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True))
    assert starts == [local(monday)] + [m.start for m in moves]


def test_move_only_this_one_leaves_the_later_sessions(client_for, front_desk, clinic_setup):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 3))
    first = course.appointments.get(session_number=1)
    url = course_url(course, "course_session_move", first.pk)
    client = client_for(front_desk)
    preview = client.post(url, {"day": monday.isoformat(), "at": "15:00", "action": "preview"})
    response = client.post(
        url,
        {
            "day": monday.isoformat(),
            "at": "15:00",
            "action": "only",
            "previewed": preview.context["previewed"],
        },
    )
    assert response.status_code == 302
    starts = list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True))
    assert starts == [local(monday, 15, 0)] + weekly(monday, 3)[1:]


def test_move_shows_a_later_clash_first_and_applying_after_a_new_clash_moves_nothing(
    client_for, front_desk, clinic_setup
):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 3))
    first = course.appointments.get(session_number=1)
    before = list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True))
    book(clinic_setup, front_desk, PatientFactory(), local(monday + timedelta(weeks=2), 14, 0))
    url = course_url(course, "course_session_move", first.pk)
    client = client_for(front_desk)

    preview = client.post(url, {"day": monday.isoformat(), "at": "14:00", "action": "preview"})
    assert [bool(m.problem) for m in preview.context["moves"]] == [False, False, True]
    html = preview.content.decode()
    assert re.search(r'value="all"\s+disabled', html)

    # The first session's new time is taken by someone else after the preview.
    book(clinic_setup, front_desk, PatientFactory(), local(monday, 14, 0))
    response = client.post(
        url,
        {
            "day": monday.isoformat(),
            "at": "14:00",
            "action": "only",
            "previewed": preview.context["previewed"],
        },
    )
    assert response.status_code == 400
    assert "Clashes with" in " ".join(response.context["form"].non_field_errors())
    after = list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True))
    assert after == before


def test_applying_a_time_that_was_not_previewed_previews_it_first(
    client_for, front_desk, clinic_setup
):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 2))
    first = course.appointments.get(session_number=1)
    url = course_url(course, "course_session_move", first.pk)
    response = client_for(front_desk).post(
        url, {"day": monday.isoformat(), "at": "16:00", "action": "all", "previewed": "stale"}
    )
    assert response.status_code == 200 and response.context["stale"]
    first.refresh_from_db()
    assert first.starts_at == local(monday)


def test_cancel_then_add_a_replacement_at_the_end(client_for, front_desk, clinic_setup):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 3))
    second = course.appointments.get(session_number=2)
    client = client_for(front_desk)

    refused = client.post(course_url(course, "course_session_cancel", second.pk), {"reason": ""})
    assert refused.status_code == 400
    response = client.post(
        course_url(course, "course_session_cancel", second.pk),
        {"reason": "Travelling", "by_patient": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == course_url(course) + "#replacement"
    second.refresh_from_db()
    assert second.status == "cancelled"

    page = client.get(course_url(course))
    html = page.content.decode()
    end = monday + timedelta(weeks=3)
    assert f"Add a replacement at the end: {end:%a} {end.day} {end:%b %Y}, 12:30" in html
    assert page.context["progress"].cancelled == 1 and page.context["progress"].unbooked == 1
    assert page.context["add_form"].initial == {"day": end, "at": "12:30"}

    # Front desk changes the time before adding it.
    added = client.post(
        course_url(course, "course_session_add"), {"day": end.isoformat(), "at": "13:30"}
    )
    assert added.status_code == 302
    counting = course.appointments.exclude(status="cancelled").order_by("starts_at")
    assert [a.session_number for a in counting] == [1, 2, 3]
    assert counting.last().starts_at == local(end, 13, 30)
    assert "Add a replacement" not in client.get(course_url(course)).content.decode()


def test_adding_a_replacement_on_a_taken_time_shows_the_error_and_keeps_the_entries(
    client_for, front_desk, clinic_setup
):
    monday = first_monday()
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 2))
    services.appointment_cancel(
        actor=front_desk,
        appointment=course.appointments.get(session_number=2),
        by_patient=False,
        reason="Practitioner ill",
    )
    end = monday + timedelta(weeks=2)
    book(clinic_setup, front_desk, PatientFactory(), local(end, 10, 0))
    response = client_for(front_desk).post(
        course_url(course, "course_session_add"), {"day": end.isoformat(), "at": "10:00"}
    )
    assert response.status_code == 400
    assert "already booked" in " ".join(response.context["add_form"].non_field_errors())
    assert 'name="at" value="10:00"' in response.content.decode()
    assert course.appointments.count() == 2


def test_a_closed_session_cannot_be_moved_or_cancelled(client_for, front_desk, clinic_setup):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(first_monday(), 2))
    first = course.appointments.get(session_number=1)
    services.appointment_cancel(actor=front_desk, appointment=first, by_patient=True, reason="x")
    client = client_for(front_desk)
    for name in ("course_session_move", "course_session_cancel"):
        response = client.get(course_url(course, name, first.pk))
        assert response.status_code == 302 and response["Location"] == course_url(course)


# -- progress, the list, query counts ----------------------------------------------------------


def test_course_page_shows_progress_and_cadence_flags(client_for, front_desk, clinic_setup):
    monday = first_monday()
    starts = weekly(monday, 3)
    starts[2] += timedelta(weeks=2)  # a gap of three weeks before session 3
    course = book_course(clinic_setup, front_desk, PatientFactory(), starts)
    html = client_for(front_desk).get(course_url(course)).content.decode()
    assert "Session 1 of 3" in html
    assert "Off the cadence" in html
    assert "Gap of 21 days before session 3" in html
    assert "3 upcoming" in html and "0 cancelled" in html


def test_course_page_costs_a_fixed_number_of_queries(
    client_for, front_desk, clinic_setup, django_assert_max_num_queries
):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(first_monday(), 25))
    client = client_for(front_desk)
    client.get(course_url(course))  # warm the session and the user's permissions
    with django_assert_max_num_queries(14):
        assert client.get(course_url(course)).status_code == 200
    services.appointment_cancel(
        actor=front_desk,
        appointment=course.appointments.get(session_number=3),
        by_patient=True,
        reason="Ill",
    )
    with django_assert_max_num_queries(24):  # plus the replacement's proposal
        assert client.get(course_url(course)).status_code == 200


def test_list_puts_courses_off_the_cadence_first_in_a_fixed_number_of_queries(
    client_for, front_desk, clinic_setup, django_assert_max_num_queries
):
    monday = first_monday()
    on_track = []
    for k in range(6):
        on_track.append(
            book_course(clinic_setup, front_desk, PatientFactory(), weekly(monday, 4, hour=8 + k))
        )
    gap = weekly(monday, 3, hour=16)
    gap[2] += timedelta(weeks=3)
    behind = book_course(
        clinic_setup,
        front_desk,
        PatientFactory(legal_first_name="Gabi", legal_last_name="Gap"),
        gap,
    )
    client = client_for(front_desk)
    client.get(LIST_URL)
    with django_assert_max_num_queries(14):
        response = client.get(LIST_URL)
    assert [p.course for p in response.context["attention"]] == [behind]
    assert len(response.context["active"]) == 7
    html = response.content.decode()
    assert html.index("Gabi Gap") < html.index("All active courses")
    assert "Gap of 28 days before session 3" in html


@pytest.mark.django_db
def test_book_course_is_prefilled_from_a_plan_in_the_query_string(
    clinic_setup, front_desk, client_for
):
    patient = PatientFactory()
    query = (
        f"?patient={patient.pk}&type={clinic_setup['type'].pk}"
        f"&practitioner={clinic_setup['practitioner'].pk}&sessions=12&interval_days=14"
        "&areas=abdomen&areas=flanks"
    )
    page = client_for(front_desk).get("/courses/new/" + query).content.decode()
    assert re.search(r'name="sessions" value="12"', page)
    assert re.search(r'value="14"[^>]*selected', page)
    assert re.search(r'value="abdomen"[^>]*checked', page)
    assert not re.search(r'value="face"[^>]*checked', page)
