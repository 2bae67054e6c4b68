"""The consultation record services: starting, the (auto)saved draft, signing and what blocks
it, addenda, the plan and its quote."""

from decimal import Decimal

import pytest

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent
from consultations.models import AreaAssessment, Consultation
from consultations.services import consultations as services
from patients.models import Allergy
from patients.selectors import current_alerts, current_history
from patients.services import alert_acknowledge
from tests.clock import clinic_today, local_moment, next_weekday
from tests.factories import MedicalHistoryFactory, PatientFactory

pytestmark = pytest.mark.django_db

ABDOMEN = {"area": "abdomen", "condition": "localized_fat", "circumference_cm": Decimal("92.5")}
THIGHS = {
    "area": "outer_thighs",
    "condition": "cellulite",
    "nurnberger_muller_grade": 2,
    "hexsel_depressions": 1,
    "hexsel_depth": 2,
    "hexsel_morphology": 1,
    "hexsel_laxity": 0,
}


@pytest.fixture
def consultation(clinic_setup, practitioner_user, consult_appointment):
    return services.consultation_start(
        actor=practitioner_user,
        patient=consult_appointment.patient,
        appointment=consult_appointment,
    )


def ready_to_sign(actor, consultation):
    services.consultation_save_draft(
        actor=actor, consultation=consultation, data={}, assessments=[ABDOMEN]
    )
    return services.consultation_review_history(actor=actor, consultation=consultation)


def test_start_is_idempotent_per_appointment(consultation, practitioner_user, consult_appointment):
    again = services.consultation_start(
        actor=practitioner_user,
        patient=consult_appointment.patient,
        appointment=consult_appointment,
    )
    assert again.pk == consultation.pk
    assert Consultation.objects.filter(appointment=consult_appointment).count() == 1
    assert consultation.status == "draft"
    assert consultation.practitioner.user == practitioner_user


def test_start_takes_weight_and_height_from_the_history(consultation):
    assert consultation.height_cm == 168 and consultation.weight_kg == 62
    assert consultation.bmi == Decimal("22.0")
    assert AuditEvent.objects.filter(action="consultation.started").count() == 1


def test_start_refuses_someone_who_is_not_a_practitioner(manager, consult_patient):
    with pytest.raises(ApplicationError):
        services.consultation_start(actor=manager, patient=consult_patient)


def test_start_refuses_another_patients_appointment(
    clinic_setup, practitioner_user, consult_appointment
):
    with pytest.raises(ApplicationError) as error:
        services.consultation_start(
            actor=practitioner_user, patient=PatientFactory(), appointment=consult_appointment
        )
    assert error.value.field == "appointment"


def test_autosave_of_partial_data_keeps_what_was_not_sent(consultation, practitioner_user):
    services.consultation_save_draft(
        actor=practitioner_user, consultation=consultation, data={"complaint": "Belly fat"}
    )
    services.consultation_save_draft(
        actor=practitioner_user,
        consultation=consultation,
        data={"goals": "Flatter abdomen"},
        assessments=[ABDOMEN],
    )
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.complaint == "Belly fat" and saved.goals == "Flatter abdomen"
    assert saved.weight_kg == 62  # untouched
    assert [a.area for a in saved.assessments.all()] == ["abdomen"]
    # No assessments argument: the areas stay as they are.
    services.consultation_save_draft(
        actor=practitioner_user, consultation=consultation, data={"notes": "n"}
    )
    assert saved.assessments.count() == 1


def test_areas_left_out_of_the_list_are_removed_and_the_rest_updated(
    consultation, practitioner_user
):
    services.consultation_save_draft(
        actor=practitioner_user, consultation=consultation, data={}, assessments=[ABDOMEN, THIGHS]
    )
    services.consultation_save_draft(
        actor=practitioner_user,
        consultation=consultation,
        data={},
        assessments=[{**THIGHS, "nurnberger_muller_grade": 3}],
    )
    (only,) = AreaAssessment.objects.filter(consultation=consultation)
    assert only.area == "outer_thighs" and only.nurnberger_muller_grade == 3
    assert only.hexsel_total == 3 + 1 + 2 + 1 + 0
    assert only.patient_id == consultation.patient_id


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({**THIGHS, "nurnberger_muller_grade": 4}, "nurnberger_muller_grade"),
        ({**THIGHS, "hexsel_depth": 4}, "hexsel_depth"),
        ({**THIGHS, "circumference_cm": Decimal("5")}, "circumference_cm"),
    ],
)
def test_an_invalid_value_names_the_row_and_field_and_nothing_is_saved(
    consultation, practitioner_user, row, field
):
    with pytest.raises(ApplicationError) as error:
        services.consultation_save_draft(
            actor=practitioner_user,
            consultation=consultation,
            data={"complaint": "Should not be saved"},
            assessments=[ABDOMEN, row],
        )
    assert error.value.field == f"assessments.1.{field}"
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.complaint == ""
    assert not saved.assessments.exists()
    assert not AuditEvent.objects.filter(action="consultation.saved").exists()


def test_the_same_area_twice_is_refused(consultation, practitioner_user):
    with pytest.raises(ApplicationError) as error:
        services.consultation_save_draft(
            actor=practitioner_user, consultation=consultation, data={}, assessments=[ABDOMEN] * 2
        )
    assert error.value.field == "assessments.1.area"


def test_sign_is_blocked_until_the_current_history_is_reviewed(consultation, practitioner_user):
    services.consultation_save_draft(
        actor=practitioner_user, consultation=consultation, data={}, assessments=[ABDOMEN]
    )
    with pytest.raises(ConflictError) as error:
        services.consultation_sign(actor=practitioner_user, consultation=consultation)
    assert error.value.status_code == 409
    assert error.value.extra["blockers"] == ["Review the current medical history."]


def test_a_newer_history_version_must_be_reviewed_again(consultation, practitioner_user):
    ready_to_sign(practitioner_user, consultation)
    MedicalHistoryFactory(patient=consultation.patient)  # version 2 arrives
    with pytest.raises(ConflictError):
        services.consultation_sign(actor=practitioner_user, consultation=consultation)
    reviewed = services.consultation_review_history(
        actor=practitioner_user, consultation=consultation
    )
    assert reviewed.medical_history.version == 2
    services.consultation_sign(actor=practitioner_user, consultation=consultation)


def test_sign_is_blocked_by_an_unacknowledged_alert(consultation, practitioner_user):
    history = current_history(consultation.patient)
    Allergy.objects.create(history=history, substance="Lidocaine", severity="severe")
    ready_to_sign(practitioner_user, consultation)
    with pytest.raises(ConflictError) as error:
        services.consultation_sign(actor=practitioner_user, consultation=consultation)
    assert "Lidocaine" in error.value.extra["blockers"][0]
    (alert,) = current_alerts(consultation.patient, current_history(consultation.patient))
    alert_acknowledge(
        actor=practitioner_user,
        patient=consultation.patient,
        alert_key=alert.key,
        note="Lidocaine-free formulation",
    )
    signed = services.consultation_sign(actor=practitioner_user, consultation=consultation)
    assert signed.is_signed


def test_sign_is_blocked_without_an_assessed_area(consultation, practitioner_user):
    services.consultation_review_history(actor=practitioner_user, consultation=consultation)
    with pytest.raises(ConflictError) as error:
        services.consultation_sign(actor=practitioner_user, consultation=consultation)
    assert error.value.extra["blockers"] == ["Assess at least one area."]


def test_sign_is_blocked_for_a_patient_without_history(clinic_setup, practitioner_user):
    consultation = services.consultation_start(actor=practitioner_user, patient=PatientFactory())
    with pytest.raises(ConflictError):
        services.consultation_review_history(actor=practitioner_user, consultation=consultation)
    assert ("alerts", "The patient has no medical history.") in services.sign_blockers(consultation)


def test_sign_records_who_and_when(consultation, practitioner_user):
    ready_to_sign(practitioner_user, consultation)
    services.consultation_sign(actor=practitioner_user, consultation=consultation)
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.status == "signed" and saved.signed_by == practitioner_user
    assert saved.signed_at is not None
    assert AuditEvent.objects.filter(action="consultation.signed", object_id=str(saved.pk)).exists()


def test_only_the_practitioner_holding_the_consultation_signs(
    consultation, practitioner_user, second_practitioner, manager
):
    ready_to_sign(practitioner_user, consultation)
    with pytest.raises(ConflictError):
        services.consultation_sign(actor=manager, consultation=consultation)


def test_a_signed_consultation_cannot_be_changed(consultation, practitioner_user, product):
    ready_to_sign(practitioner_user, consultation)
    services.consultation_sign(actor=practitioner_user, consultation=consultation)
    with pytest.raises(ConflictError) as error:
        services.consultation_save_draft(
            actor=practitioner_user, consultation=consultation, data={"notes": "late"}
        )
    assert error.value.status_code == 409
    with pytest.raises(ConflictError):
        services.consultation_review_history(actor=practitioner_user, consultation=consultation)
    with pytest.raises(ConflictError):
        services.consultation_sign(actor=practitioner_user, consultation=consultation)
    assert Consultation.objects.get(pk=consultation.pk).notes == ""


def test_addenda_only_after_signing(consultation, practitioner_user):
    with pytest.raises(ConflictError):
        services.addendum_add(actor=practitioner_user, consultation=consultation, text="Later")
    ready_to_sign(practitioner_user, consultation)
    services.consultation_sign(actor=practitioner_user, consultation=consultation)
    with pytest.raises(ApplicationError) as error:
        services.addendum_add(actor=practitioner_user, consultation=consultation, text="  ")
    assert error.value.field == "text"
    addendum = services.addendum_add(
        actor=practitioner_user, consultation=consultation, text="Patient recalls a 2019 lipo."
    )
    assert addendum.written_by == practitioner_user
    assert list(consultation.addenda.all()) == [addendum]


def test_plan_total_is_sessions_times_price(consultation, practitioner_user, product, clinic_setup):
    plan = services.plan_save(
        actor=practitioner_user,
        consultation=consultation,
        data={
            "areas": ["abdomen", "flanks"],
            "product": product,
            "appointment_type": clinic_setup["type"],
            "planned_sessions": 8,
            "interval_days": 7,
            "price_per_session": Decimal("120.00"),
        },
    )
    assert plan.total == Decimal("960.00")
    assert plan.currency == "USD"
    changed = services.plan_save(
        actor=practitioner_user, consultation=consultation, data={"planned_sessions": 10}
    )
    assert changed.pk == plan.pk and changed.total == Decimal("1200.00")


def test_plan_out_of_range_is_refused(consultation, practitioner_user, product, clinic_setup):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.plan_save(
            actor=practitioner_user,
            consultation=consultation,
            data={
                "areas": ["abdomen"],
                "product": product,
                "appointment_type": clinic_setup["type"],
                "planned_sessions": 30,
                "price_per_session": Decimal("100"),
            },
        )
    assert "planned_sessions" in error.value.message_dict


def test_booking_the_course_links_it_to_the_signed_plan(
    consultation, practitioner_user, product, clinic_setup
):
    from datetime import timedelta

    from sessions.services import course_book
    from tests.fixtures.scheduling import NEW_YORK

    ready_to_sign(practitioner_user, consultation)
    plan = services.plan_save(
        actor=practitioner_user,
        consultation=consultation,
        data={
            "areas": ["abdomen"],
            "product": product,
            "appointment_type": clinic_setup["type"],
            "planned_sessions": 3,
            "interval_days": 7,
            "price_per_session": Decimal("300.00"),
        },
    )
    services.consultation_sign(actor=practitioner_user, consultation=consultation)
    first = local_moment(
        next_weekday(1, after=clinic_today() + timedelta(weeks=8), zone=NEW_YORK),
        12,
        30,
        zone=NEW_YORK,
    )
    course = course_book(
        actor=practitioner_user,
        patient=consultation.patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        interval_days=7,
        starts=[first + timedelta(weeks=k) for k in range(3)],
    )
    plan.refresh_from_db()
    assert plan.course == course
    assert AuditEvent.objects.filter(action="consultation.plan_booked").exists()
