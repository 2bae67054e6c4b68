"""Front desk's today list and the practitioner's day: what they show, the quick actions,
who may use them, and their query counts."""

from datetime import timedelta

import pytest

from clinic.models import AuditEvent
from patients.models import Allergy
from sessions.models import Appointment
from sessions.services import appointment_check_in
from tests.clock import local_moment, next_weekday
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.scheduling import NEW_YORK, book_today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _late_afternoon(today_at):
    """The lists are read at 16:00 on the suite's day, after the visits these tests book."""
    today_at(16)


def test_today_lists_the_days_appointments_with_alerts_and_arrivals(
    clinic_setup, front_desk, client_for
):
    patient = PatientFactory(legal_first_name="Zoé", legal_last_name="Dubois")
    history = MedicalHistoryFactory(patient=patient)
    Allergy.objects.create(history=history, substance="Lidocaine", severity="severe")
    first = book_today(clinic_setup, front_desk, patient, 10)
    book_today(clinic_setup, front_desk, PatientFactory(legal_last_name="Other"), 11)
    appointment_check_in(actor=front_desk, appointment=first)
    page = client_for(front_desk).get("/today/").content.decode()
    assert "Zoé Dubois" in page and "Other" in page
    assert "Lidocaine" in page
    assert 'data-testid="count-arrived">1<' in page
    assert 'data-testid="count-expected">1<' in page


def test_front_desk_checks_in_from_the_list(clinic_setup, front_desk, client_for):
    appointment = book_today(clinic_setup, front_desk, PatientFactory(), 10)
    response = client_for(front_desk).post(
        f"/day/appointments/{appointment.pk}/check-in/", {"next": "/today/"}
    )
    assert response.status_code == 302 and response["Location"] == "/today/"
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"
    assert AuditEvent.objects.filter(action="appointment.checked_in").exists()


def test_an_illegal_action_is_a_message_not_a_change(clinic_setup, front_desk, client_for):
    appointment = book_today(clinic_setup, front_desk, PatientFactory(), 10)
    client = client_for(front_desk)
    client.post(f"/day/appointments/{appointment.pk}/check-in/", {"next": "/today/"})
    response = client.post(
        f"/day/appointments/{appointment.pk}/no-show/", {"next": "/today/"}, follow=True
    )
    assert "cannot become no-show" in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"


def test_practitioner_sees_their_day_and_takes_the_patient_in(
    clinic_setup, front_desk, practitioner_user, client_for
):
    appointment = book_today(clinic_setup, front_desk, PatientFactory(legal_last_name="Mine"), 10)
    appointment_check_in(actor=front_desk, appointment=appointment)
    client = client_for(practitioner_user)
    assert "Mine" in client.get("/my-day/").content.decode()
    client.post(f"/day/appointments/{appointment.pk}/start/", {"next": "/my-day/"})
    assert Appointment.objects.get(pk=appointment.pk).status == "in_progress"
    # They may check a patient in when nobody is at the desk...
    other = book_today(clinic_setup, front_desk, PatientFactory(), 12)
    client.post(f"/day/appointments/{other.pk}/check-in/", {"next": "/my-day/"})
    assert Appointment.objects.get(pk=other.pk).status == "checked_in"
    # ...but marking a patient missing, and front desk's list, are front desk's.
    third = book_today(clinic_setup, front_desk, PatientFactory(), 14)
    assert client.post(f"/day/appointments/{third.pk}/no-show/").status_code == 403
    assert client.get("/today/").status_code == 403


@pytest.mark.parametrize("url", ["/today/", "/my-day/"])
def test_patients_cannot_open_staff_day_pages(clinic_setup, patient_user, client_for, url):
    assert client_for(patient_user).get(url).status_code == 403


def test_patient_cannot_act_on_appointments(clinic_setup, front_desk, patient_user, client_for):
    appointment = book_today(clinic_setup, front_desk, PatientFactory(), 10)
    response = client_for(patient_user).post(f"/day/appointments/{appointment.pk}/check-in/")
    assert response.status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"


def test_today_costs_a_fixed_number_of_queries(
    clinic_setup, front_desk, client_for, django_assert_max_num_queries
):
    for hour in range(8, 20):
        patient = PatientFactory()
        MedicalHistoryFactory(patient=patient)
        book_today(clinic_setup, front_desk, patient, hour)
    client = client_for(front_desk)
    with django_assert_max_num_queries(16):
        assert client.get("/today/").status_code == 200


def test_the_patient_chart_shows_the_course_and_next_visits(clinic_setup, front_desk, client_for):
    from sessions.services import course_book

    patient = PatientFactory()
    first = local_moment(next_weekday(1, zone=NEW_YORK), 12, 30, zone=NEW_YORK)
    course_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        interval_days=7,
        starts=[first + timedelta(weeks=k) for k in range(4)],
    )
    page = client_for(front_desk).get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-testid="chart-schedule"' in page
    assert "0 of 4 done" in page
    assert "Session 1 of 4" in page
    # Front desk does not see the clinical panel (consultations are for clinicians).
    assert 'data-testid="chart-clinical"' not in page
