"""The treatment-session record services and selectors: who may start a record and when, the
(auto)saved draft with its areas, lots and injection map, signing and its hook, addenda, lots
and their recall, and the course view's trends."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, ClinicSettings
from consultations.models import (
    AreaAssessment,
    InjectionPoint,
    Product,
    ProductLot,
    SessionRecord,
    TreatedArea,
)
from consultations.selectors.courses import course_clinical_view
from consultations.selectors.lots import lot_recall, lots_for_session
from consultations.selectors.session_records import session_record_get_for_user
from consultations.services import consultations as consultation_services
from consultations.services import lots as lot_services
from consultations.services import session_records as services
from consultations.signals import session_record_signed
from sessions.models import AppointmentStatus, AppointmentType, Course
from sessions.services import appointment_check_in, course_book
from tests.clock import clinic_today
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.clinical import area_row, book_treatment, complete_draft
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(practitioner_user, treatment_appointment):
    return services.session_record_start(actor=practitioner_user, appointment=treatment_appointment)


@pytest.fixture
def other_product(db):
    return Product.objects.create(name="Vitamin cocktail")


def save(actor, record, **kwargs):
    kwargs.setdefault("data", {})
    return services.session_record_save_draft(actor=actor, record=record, **kwargs)


def session_day(appointment):
    return timezone.localdate(appointment.starts_at, timezone=NEW_YORK)


def signed_session(setup, practitioner_user, front_desk, patient, product, lot, **booking):
    """A session booked, checked in, recorded and signed."""
    appointment = book_treatment(setup, front_desk, patient, **booking)
    record = services.session_record_start(actor=practitioner_user, appointment=appointment)
    save(practitioner_user, record, **complete_draft(product, lot))
    return services.session_record_sign(actor=practitioner_user, record=record)


def grant_record_any_session(user):
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="consultations", codename="record_any_session"
        )
    )
    return type(user).objects.get(pk=user.pk)  # a fresh instance: no cached permissions


def book_course_of(setup, actor, patient, days, *, areas=(), hour=11):
    starts = [
        datetime.combine(
            timezone.localdate(timezone=NEW_YORK) + timedelta(days=d), datetime.min.time()
        ).replace(tzinfo=NEW_YORK)
        + timedelta(hours=hour)
        for d in days
    ]
    return course_book(
        actor=actor,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=setup["type"],
        room=setup["room"],
        starts=starts,
        interval_days=7,
        areas=areas,
        allow_outside_hours=True,
    )


def checked_in_sessions(course, actor):
    return [
        appointment_check_in(actor=actor, appointment=a)
        for a in course.appointments.order_by("starts_at")
    ]


# --- Starting ---------------------------------------------------------------------------------


def test_start_opens_a_draft_and_takes_the_patient_in(
    record, practitioner_user, treatment_appointment, clinic_setup
):
    assert record.status == SessionRecord.Status.DRAFT
    assert record.practitioner == clinic_setup["practitioner"]
    assert record.patient_id == treatment_appointment.patient_id
    assert record.weight_kg == Decimal("62")  # from the medical history
    assert record.aftercare_given == ClinicSettings.load().aftercare_template
    treatment_appointment.refresh_from_db()
    assert treatment_appointment.status == AppointmentStatus.IN_PROGRESS
    event = AuditEvent.objects.get(action="session_record.started")
    assert event.actor == practitioner_user and event.patient_id == record.patient_id
    assert event.object_id == str(record.pk)


def test_start_again_returns_the_same_record(record, practitioner_user, treatment_appointment):
    again = services.session_record_start(
        actor=practitioner_user, appointment=treatment_appointment
    )
    assert again.pk == record.pk
    assert SessionRecord.objects.filter(appointment=treatment_appointment).count() == 1
    assert AuditEvent.objects.filter(action="session_record.started").count() == 1


def test_start_before_check_in_is_a_conflict(
    clinic_setup, front_desk, practitioner_user, consult_patient
):
    appointment = book_treatment(clinic_setup, front_desk, consult_patient, check_in=False)
    with pytest.raises(ConflictError) as error:
        services.session_record_start(actor=practitioner_user, appointment=appointment)
    assert error.value.field == "appointment"
    assert error.value.extra == {"status": "booked"}
    assert "Check the patient in" in error.value.message
    assert not SessionRecord.objects.exists()


def test_start_on_a_consultation_is_bad_input_not_a_conflict(
    practitioner_user, consult_appointment
):
    with pytest.raises(ApplicationError) as error:
        services.session_record_start(actor=practitioner_user, appointment=consult_appointment)
    assert not isinstance(error.value, ConflictError)
    assert error.value.field == "appointment"
    assert "consultation record" in error.value.message
    assert not SessionRecord.objects.exists()


def test_maintenance_sessions_are_recorded_but_follow_up_visits_are_not(
    clinic_setup, front_desk, practitioner_user, consult_patient
):
    maintenance = AppointmentType.objects.create(
        name="Maintenance", kind="maintenance", duration_minutes=30
    )
    follow_up = AppointmentType.objects.create(name="Check", kind="follow_up", duration_minutes=15)
    kept = book_treatment(
        clinic_setup, front_desk, consult_patient, appointment_type=maintenance, hour=9
    )
    assert services.session_record_start(actor=practitioner_user, appointment=kept).pk
    check = book_treatment(
        clinic_setup, front_desk, consult_patient, appointment_type=follow_up, hour=15
    )
    with pytest.raises(ApplicationError) as error:
        services.session_record_start(actor=practitioner_user, appointment=check)
    assert error.value.field == "appointment"


def test_another_practitioners_session_is_refused(
    clinic_setup, front_desk, practitioner_user, consult_patient, second_practitioner
):
    appointment = book_treatment(
        clinic_setup, front_desk, consult_patient, practitioner=second_practitioner
    )
    with pytest.raises(PermissionDenied):
        services.session_record_start(actor=practitioner_user, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    assert not SessionRecord.objects.exists()


def test_a_colleague_allowed_to_cover_records_the_session(
    clinic_setup, front_desk, practitioner_user, consult_patient, second_practitioner
):
    appointment = book_treatment(
        clinic_setup, front_desk, consult_patient, practitioner=second_practitioner
    )
    covering = grant_record_any_session(practitioner_user)
    record = services.session_record_start(actor=covering, appointment=appointment)
    assert record.practitioner == clinic_setup["practitioner"]  # who actually recorded it


@pytest.mark.parametrize("role", ["front_desk", "manager", "patient_user"])
def test_only_a_practitioner_starts_a_record(request, role, treatment_appointment):
    with pytest.raises(PermissionDenied):
        services.session_record_start(
            actor=request.getfixturevalue(role), appointment=treatment_appointment
        )


def test_the_weight_starts_from_the_last_session(
    clinic_setup, front_desk, practitioner_user, consult_patient, product, lot
):
    earlier = book_treatment(clinic_setup, front_desk, consult_patient, days=-7)
    first = services.session_record_start(actor=practitioner_user, appointment=earlier)
    save(practitioner_user, first, data={"weight_kg": Decimal("70.5")})
    appointment = book_treatment(clinic_setup, front_desk, consult_patient)
    second = services.session_record_start(actor=practitioner_user, appointment=appointment)
    assert second.weight_kg == Decimal("70.5")


# --- Saving the draft ------------------------------------------------------------------------


def test_save_draft_stores_everything_recorded(record, practitioner_user, product, lot):
    save(
        practitioner_user,
        record,
        data={
            "health_changes": "Started iron supplements",
            "weight_kg": "61.4",
            "alerts_reviewed": True,
            "topical_anaesthetic": "EMLA 5%",
            "tolerance": "fair",
        },
        side_effects=[{"kind": "bruising", "severity": "mild", "duration_days": 3}],
        areas=[area_row(product, lot), area_row(product, lot, area="flanks", volume_ml="2.50")],
        adverse_events=[
            {"kind": "vasovagal", "severity": "moderate", "action_taken": "Lay down, water"}
        ],
        assessments=[
            {"area": "abdomen", "nurnberger_muller_grade": 2, "circumference_cm": "90.5"},
            {"area": "flanks", "nurnberger_muller_grade": None, "circumference_cm": ""},
        ],
    )
    saved = session_record_get_for_user(practitioner_user, record.pk)
    assert saved.health_changes == "Started iron supplements"
    assert saved.weight_kg == Decimal("61.4") and saved.tolerance == "fair"
    assert [(s.kind, s.severity, s.duration_days, s.notes) for s in saved.side_effects.all()] == [
        ("bruising", "mild", 3, "")
    ]
    assert [(a.area, a.volume_ml, a.lot_id, a.is_extra) for a in saved.areas.all()] == [
        ("abdomen", Decimal("4.00"), lot.pk, False),
        ("flanks", Decimal("2.50"), lot.pk, False),
    ]
    (event,) = saved.adverse_events.all()
    assert (event.kind, event.follow_up) == ("vasovagal", "")
    # An area with nothing measured is not stored; the condition comes from a default.
    (assessment,) = saved.assessments.all()
    assert assessment.area == "abdomen" and assessment.circumference_cm == Decimal("90.5")
    assert assessment.recorded_at == record.appointment.starts_at
    assert assessment.patient_id == record.patient_id
    saved_event = AuditEvent.objects.filter(action="session_record.saved").get()
    assert "weight_kg" in saved_event.detail["fields"] and saved_event.detail["areas"] == 2
    assert AuditEvent.objects.filter(action="session_record.viewed").count() == 1


def test_lists_left_out_are_kept_and_an_empty_list_clears(record, practitioner_user, product, lot):
    save(
        practitioner_user,
        record,
        areas=[area_row(product, lot)],
        side_effects=[{"kind": "rash", "severity": "mild", "duration_days": 1}],
    )
    save(practitioner_user, record, data={"notes": "Calm"})
    assert record.areas.count() == 1 and record.side_effects.count() == 1
    save(practitioner_user, record, side_effects=[])
    assert record.areas.count() == 1 and not record.side_effects.exists()


def test_areas_outside_the_course_areas_are_marked_extra(
    clinic_setup, front_desk, practitioner_user, consult_patient, product, lot
):
    course = book_course_of(
        clinic_setup, front_desk, consult_patient, [0, 7], areas=["abdomen", "flanks"]
    )
    first, _second = checked_in_sessions(course, front_desk)
    record = services.session_record_start(actor=practitioner_user, appointment=first)
    save(
        practitioner_user,
        record,
        areas=[area_row(product, lot), area_row(product, lot, area="outer_thighs")],
    )
    assert dict(record.areas.values_list("area", "is_extra")) == {
        "abdomen": False,
        "outer_thighs": True,
    }


def test_areas_outside_the_consultation_plan_are_marked_extra(
    clinic_setup, front_desk, practitioner_user, consult_patient, consult_appointment, product, lot
):
    planned_course(clinic_setup, practitioner_user, front_desk, consult_appointment, product)
    appointment = consult_patient.appointments.filter(session_number=1).get()
    appointment_check_in(actor=front_desk, appointment=appointment)
    record = services.session_record_start(actor=practitioner_user, appointment=appointment)
    save(
        practitioner_user,
        record,
        areas=[area_row(product, lot, area="outer_thighs"), area_row(product, lot, area="knees")],
    )
    assert dict(record.areas.values_list("area", "is_extra")) == {
        "outer_thighs": False,
        "knees": True,
    }


def test_without_a_course_no_area_is_extra(record, practitioner_user, product, lot):
    save(practitioner_user, record, areas=[area_row(product, lot, area="knees")])
    assert not record.areas.get().is_extra


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": {"weight_kg": "12"}}, "weight_kg"),
        ({"data": {"tolerance": "great"}}, "tolerance"),
        ({"areas": [{"volume_ml": "0"}]}, "areas.1.volume_ml"),
        ({"areas": [{"volume_ml": "60"}]}, "areas.1.volume_ml"),
        ({"areas": [{"volume_ml": "1.234"}]}, "areas.1.volume_ml"),
        ({"areas": [{"depth_mm": "20"}]}, "areas.1.depth_mm"),
        ({"areas": [{"depth_mm": "0.1"}]}, "areas.1.depth_mm"),
        ({"areas": [{"needle_gauge": 12}]}, "areas.1.needle_gauge"),
        ({"areas": [{"needle_length_mm": "80"}]}, "areas.1.needle_length_mm"),
        ({"areas": [{"injection_points": 0}]}, "areas.1.injection_points"),
        ({"areas": [{"technique": "freestyle"}]}, "areas.1.technique"),
        ({"areas": [{"area": "elbow"}]}, "areas.1.area"),
        ({"areas": [{"area": "abdomen"}]}, "areas.1.area"),  # twice
        ({"side_effects": [{"duration_days": 120}]}, "side_effects.1.duration_days"),
        ({"side_effects": [{"kind": "itching"}]}, "side_effects.1.kind"),
        ({"adverse_events": [{"action_taken": ""}]}, "adverse_events.1.action_taken"),
        ({"adverse_events": [{"severity": "fatal"}]}, "adverse_events.1.severity"),
        (
            {"assessments": [{"nurnberger_muller_grade": 4}]},
            "assessments.1.nurnberger_muller_grade",
        ),
        ({"assessments": [{"circumference_cm": "5"}]}, "assessments.1.circumference_cm"),
    ],
)
def test_a_bad_value_names_its_field_and_nothing_is_half_written(
    record, practitioner_user, product, lot, kwargs, field
):
    good = {
        "areas": area_row(product, lot),
        "side_effects": {"kind": "bruising", "severity": "mild", "duration_days": 2},
        "adverse_events": {"kind": "pain", "severity": "mild", "action_taken": "Ice"},
        "assessments": {"area": "abdomen", "nurnberger_muller_grade": 1},
    }
    save(
        practitioner_user,
        record,
        data={"notes": "Before"},
        **{name: [row] for name, row in good.items()},
    )
    before = AuditEvent.objects.count()
    call = {"data": {"notes": "Lost", **kwargs.get("data", {})}}
    for name, rows in kwargs.items():
        if name != "data":
            second = {**good[name], "area": "flanks", **rows[0]}
            call[name] = [good[name], second]
    with pytest.raises(ApplicationError) as error:
        save(practitioner_user, record, **call)
    assert error.value.field == field
    assert not isinstance(error.value, ConflictError)
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.notes == "Before"
    assert list(saved.areas.values_list("area", "volume_ml")) == [("abdomen", Decimal("4.00"))]
    assert saved.side_effects.get().duration_days == 2
    assert saved.adverse_events.get().action_taken == "Ice"
    assert saved.assessments.get().nurnberger_muller_grade == 1
    assert AuditEvent.objects.count() == before


# --- Lots ------------------------------------------------------------------------------------


def test_an_expired_lot_is_refused_when_saving(record, practitioner_user, product, expired_lot):
    with pytest.raises(ApplicationError) as error:
        save(practitioner_user, record, areas=[area_row(product, expired_lot)])
    assert error.value.field == "areas.0.lot"
    assert "PC-2024-007 expired on" in error.value.message
    assert not TreatedArea.objects.exists()


def test_a_lot_expiring_on_the_session_day_may_still_be_used(record, practitioner_user, product):
    last_day = ProductLot.objects.create(
        product=product, lot_number="LAST-DAY", expires_on=session_day(record.appointment)
    )
    save(practitioner_user, record, areas=[area_row(product, last_day)])
    assert record.areas.get().lot == last_day


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"lot": 999999}, "areas.0.lot", "Unknown lot"),
        ({"lot": "abc"}, "areas.0.lot", "Unknown lot"),
        ({"lot": None}, "areas.0.lot", "required"),
        ({"product": 999999}, "areas.0.product", "Unknown product"),
    ],
)
def test_an_unknown_lot_or_product_is_refused(
    record, practitioner_user, product, lot, row, field, message
):
    with pytest.raises(ApplicationError) as error:
        save(practitioner_user, record, areas=[{**area_row(product, lot), **row}])
    assert error.value.field == field and message in error.value.message


def test_a_lot_of_another_product_is_refused(
    record, practitioner_user, product, other_product, lot
):
    with pytest.raises(ApplicationError) as error:
        save(practitioner_user, record, areas=[area_row(other_product, lot)])
    assert error.value.field == "areas.0.lot"
    assert "is not a lot of Vitamin cocktail" in error.value.message


def test_a_lot_that_expired_after_it_was_recorded_blocks_signing(
    record, practitioner_user, product, lot
):
    save(practitioner_user, record, **complete_draft(product, lot))
    # The expiry printed on the vial was mistyped; the manager corrects it after the save.
    ProductLot.objects.filter(pk=lot.pk).update(
        expires_on=session_day(record.appointment) - timedelta(days=1)
    )
    with pytest.raises(ConflictError) as error:
        services.session_record_sign(actor=practitioner_user, record=record)
    (blocker,) = error.value.extra["blockers"]
    assert "PC-2026-118 expired on" in blocker
    record.refresh_from_db()
    assert record.status == SessionRecord.Status.DRAFT
    assert record.appointment.status == AppointmentStatus.IN_PROGRESS


def test_lot_add_registers_a_delivery_and_refuses_the_same_number_twice(
    practitioner_user, product, lot
):
    added = lot_services.lot_add(
        actor=practitioner_user,
        product=product,
        lot_number="  PC-2027-001 ",
        expires_on=date(2027, 6, 30),
        received_on=date(2026, 1, 5),
    )
    assert added.lot_number == "PC-2027-001" and added.is_active
    assert AuditEvent.objects.filter(action="lot.added", object_id=str(added.pk)).exists()
    with pytest.raises(ConflictError) as error:
        lot_services.lot_add(
            actor=practitioner_user,
            product=product,
            lot_number="pc-2026-118",
            expires_on=date(2027, 1, 1),
        )
    assert error.value.field == "lot_number" and error.value.extra == {"id": lot.pk}
    # The same number on another product's vial is another lot.
    other = Product.objects.create(name="Other")
    assert lot_services.lot_add(
        actor=practitioner_user,
        product=other,
        lot_number=lot.lot_number,
        expires_on=date(2027, 1, 1),
    ).pk


@pytest.mark.parametrize(
    ("number", "expires_on", "field"),
    [("", date(2027, 1, 1), "lot_number"), ("X-1", None, "expires_on")],
)
def test_lot_add_names_the_missing_field(practitioner_user, product, number, expires_on, field):
    with pytest.raises(ApplicationError) as error:
        lot_services.lot_add(
            actor=practitioner_user, product=product, lot_number=number, expires_on=expires_on
        )
    assert error.value.field == field
    assert not ProductLot.objects.exists()


def test_product_add_refuses_a_name_already_in_the_catalogue(manager, product):
    added = lot_services.product_add(actor=manager, name=" Hyaluronic acid ", composition="HA 1%")
    assert added.name == "Hyaluronic acid" and added.is_active
    assert AuditEvent.objects.filter(action="product.added").count() == 1
    with pytest.raises(ConflictError) as error:
        lot_services.product_add(actor=manager, name="ppc + dc")
    assert error.value.field == "name" and error.value.extra == {"id": product.pk}
    with pytest.raises(ApplicationError) as error:
        lot_services.product_add(actor=manager, name="")
    assert error.value.field == "name"


def test_lots_usable_on_a_day_leave_out_expired_and_out_of_stock_lots(
    manager, product, lot, expired_lot
):
    used_up = ProductLot.objects.create(
        product=product, lot_number="USED-UP", expires_on=clinic_today() + timedelta(days=30)
    )
    lot_services.lot_set_in_stock(actor=manager, lot=used_up, in_stock=False)
    assert list(lots_for_session(clinic_today())) == [lot]
    assert list(lots_for_session(clinic_today() - timedelta(days=2))) == [expired_lot, lot]
    assert list(lots_for_session(clinic_today(), product_ids=[999])) == []
    assert AuditEvent.objects.filter(action="lot.stock_changed", detail__in_stock=False).exists()


# --- The injection map -----------------------------------------------------------------------


def test_injection_points_round_trip(record, practitioner_user, product, lot):
    points = [
        {"diagram": "body_front", "x": "0.4512", "y": 0.55, "volume_ml": "0.10"},
        {"diagram": "body_front", "x": 0.123456789, "y": "1", "volume_ml": None},
        {"diagram": "face", "x": 0, "y": "0.0001", "volume_ml": "0.05"},
    ]
    save(practitioner_user, record, areas=[area_row(product, lot, points=points)])
    saved = session_record_get_for_user(practitioner_user, record.pk)
    (area,) = saved.areas.all()
    assert [(p.diagram, p.x, p.y, p.volume_ml) for p in area.points.all()] == [
        ("body_front", Decimal("0.4512"), Decimal("0.5500"), Decimal("0.10")),
        ("body_front", Decimal("0.1235"), Decimal("1.0000"), None),
        ("face", Decimal("0.0000"), Decimal("0.0001"), Decimal("0.05")),
    ]
    # Saving the areas again replaces the points, never adds to them.
    save(practitioner_user, record, areas=[area_row(product, lot, points=points[:1])])
    assert InjectionPoint.objects.count() == 1


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"x": "1.2"}, "areas.0.points.1.x"),
        ({"y": "-0.1"}, "areas.0.points.1.y"),
        ({"x": "left"}, "areas.0.points.1.x"),
        ({"x": None}, "areas.0.points.1.x"),
        ({"diagram": "hand"}, "areas.0.points.1.diagram"),
        ({"volume_ml": "6"}, "areas.0.points.1.volume_ml"),
        ({"volume_ml": "0"}, "areas.0.points.1.volume_ml"),
    ],
)
def test_a_point_off_the_diagram_is_refused(record, practitioner_user, product, lot, point, field):
    good = {"diagram": "body_back", "x": "0.5", "y": "0.5", "volume_ml": "0.1"}
    with pytest.raises(ApplicationError) as error:
        save(
            practitioner_user,
            record,
            areas=[area_row(product, lot, points=[good, {**good, **point}])],
        )
    assert error.value.field == field
    assert not InjectionPoint.objects.exists() and not TreatedArea.objects.exists()


def test_too_many_points_for_one_area_are_refused(record, practitioner_user, product, lot):
    points = [{"diagram": "face", "x": "0.5", "y": "0.5"}] * (services.MAX_POINTS_PER_AREA + 1)
    with pytest.raises(ApplicationError) as error:
        save(practitioner_user, record, areas=[area_row(product, lot, points=points)])
    assert error.value.field == "areas.0.points"


# --- Signing ---------------------------------------------------------------------------------


def test_a_fresh_record_lists_what_blocks_signing(record, practitioner_user):
    save(practitioner_user, record, data={"aftercare_given": "  "})
    with pytest.raises(ConflictError) as error:
        services.session_record_sign(actor=practitioner_user, record=record)
    assert error.value.extra["blockers"] == [
        "Confirm you reviewed the patient's alerts before injecting.",
        "Record at least one treated area with its product and lot.",
        "Record how the patient tolerated the session.",
        "Record the aftercare given.",
    ]
    assert not SessionRecord.objects.filter(status="signed").exists()


def test_sign_completes_the_session_and_tells_billing_once(record, practitioner_user, product, lot):
    received = []

    def receiver(sender, record, actor, **kwargs):
        received.append((record.pk, record.status, record.appointment.status, actor))

    session_record_signed.connect(receiver, dispatch_uid="test.session_signed")
    try:
        save(practitioner_user, record, **complete_draft(product, lot))
        signed = services.session_record_sign(actor=practitioner_user, record=record)
        with pytest.raises(ConflictError) as twice:
            services.session_record_sign(actor=practitioner_user, record=record)
    finally:
        session_record_signed.disconnect(dispatch_uid="test.session_signed")
    assert received == [(record.pk, "signed", AppointmentStatus.COMPLETED, practitioner_user)]
    assert signed.is_signed and signed.signed_by == practitioner_user and signed.signed_at
    record.refresh_from_db()
    assert record.is_signed
    assert record.appointment.status == AppointmentStatus.COMPLETED
    assert twice.value.extra == {"status": "signed"}
    assert AuditEvent.objects.filter(action="session_record.signed").count() == 1
    assert AuditEvent.objects.filter(action="appointment.completed").count() == 1


def test_a_signed_record_cannot_be_edited(record, practitioner_user, product, lot):
    save(practitioner_user, record, **complete_draft(product, lot))
    services.session_record_sign(actor=practitioner_user, record=record)
    with pytest.raises(ConflictError) as error:
        save(practitioner_user, record, data={"notes": "Too late"}, areas=[])
    assert "addendum" in error.value.message
    record.refresh_from_db()
    assert record.notes == "" and record.areas.count() == 1


def test_only_the_sessions_practitioner_signs(
    record, practitioner_user, manager, second_practitioner, product, lot
):
    save(practitioner_user, record, **complete_draft(product, lot))
    with pytest.raises(PermissionDenied):
        services.session_record_sign(actor=manager, record=record)  # Dr Max, not covering
    with pytest.raises(PermissionDenied):
        save(manager, record, data={"notes": "Not mine"})
    record.refresh_from_db()
    assert record.status == SessionRecord.Status.DRAFT and record.notes == ""


def test_a_second_session_asks_for_the_side_effects_since_the_first(
    clinic_setup, front_desk, practitioner_user, consult_patient, product, lot
):
    signed_session(
        clinic_setup, practitioner_user, front_desk, consult_patient, product, lot, days=-7
    )
    appointment = book_treatment(clinic_setup, front_desk, consult_patient)
    record = services.session_record_start(actor=practitioner_user, appointment=appointment)
    draft = complete_draft(product, lot)
    draft["data"]["no_side_effects_since_last"] = False
    save(practitioner_user, record, **draft)
    with pytest.raises(ConflictError) as error:
        services.session_record_sign(actor=practitioner_user, record=record)
    assert error.value.extra["blockers"] == [
        'Record the side effects since the last session, or tick "none".'
    ]
    save(
        practitioner_user,
        record,
        side_effects=[{"kind": "soreness", "severity": "mild", "duration_days": 2}],
    )
    assert services.session_record_sign(actor=practitioner_user, record=record).is_signed


@pytest.mark.parametrize(("severity", "flagged"), [("severe", True), ("moderate", False)])
def test_a_severe_adverse_event_flags_the_course_for_review(
    clinic_setup, front_desk, practitioner_user, consult_patient, product, lot, severity, flagged
):
    course = book_course_of(clinic_setup, front_desk, consult_patient, [0, 7])
    first, _second = checked_in_sessions(course, front_desk)
    record = services.session_record_start(actor=practitioner_user, appointment=first)
    save(
        practitioner_user,
        record,
        **complete_draft(product, lot),
        adverse_events=[
            {"kind": "allergic", "severity": severity, "action_taken": "Antihistamine"}
        ],
    )
    services.session_record_sign(actor=practitioner_user, record=record)
    course.refresh_from_db()
    assert course.needs_review is flagged
    assert course.review_reason == (services.REVIEW_REASON if flagged else "")
    assert AuditEvent.objects.filter(action="course.review_flagged").exists() is flagged


def test_an_addendum_only_after_signing(record, practitioner_user, front_desk, product, lot):
    with pytest.raises(ConflictError):
        services.session_addendum_add(actor=practitioner_user, record=record, text="Note")
    save(practitioner_user, record, **complete_draft(product, lot))
    services.session_record_sign(actor=practitioner_user, record=record)
    with pytest.raises(ApplicationError) as error:
        services.session_addendum_add(actor=practitioner_user, record=record, text="  ")
    assert error.value.field == "text"
    with pytest.raises(PermissionDenied):
        services.session_addendum_add(actor=front_desk, record=record, text="Desk note")
    addendum = services.session_addendum_add(
        actor=practitioner_user, record=record, text="Lot checked against the delivery note."
    )
    assert list(record.addenda.all()) == [addendum]
    assert addendum.written_by == practitioner_user
    assert AuditEvent.objects.filter(
        action="session_record.addendum_added", detail__addendum=addendum.pk
    ).exists()


# --- Lot recall ------------------------------------------------------------------------------


def test_lot_recall_finds_every_patient_and_session_with_the_lot(
    clinic_setup,
    front_desk,
    practitioner_user,
    manager,
    consult_patient,
    product,
    other_product,
    lot,
):
    signed_session(
        clinic_setup, practitioner_user, front_desk, consult_patient, product, lot, days=-7
    )
    second_patient = PatientFactory(email="second@example.com")
    MedicalHistoryFactory(patient=second_patient)
    draft_appointment = book_treatment(clinic_setup, front_desk, second_patient, hour=14)
    draft = services.session_record_start(actor=practitioner_user, appointment=draft_appointment)
    same_number = ProductLot.objects.create(
        product=other_product, lot_number="pc-2026-118", expires_on=lot.expires_on
    )
    save(
        practitioner_user,
        draft,
        areas=[area_row(product, lot), area_row(other_product, same_number, area="flanks")],
    )
    unrelated = ProductLot.objects.create(
        product=product, lot_number="PC-2026-119", expires_on=lot.expires_on
    )
    third = PatientFactory()
    MedicalHistoryFactory(patient=third)
    signed_session(clinic_setup, practitioner_user, front_desk, third, product, unrelated, hour=16)

    rows = lot_recall(manager, "  Pc-2026-118 ")
    assert [(r.patient.pk, r.treated_area.area, r.treated_area.lot_id) for r in rows] == [
        (consult_patient.pk, "abdomen", lot.pk),
        (second_patient.pk, "abdomen", lot.pk),
        (second_patient.pk, "flanks", same_number.pk),
    ]
    assert rows[1].patient.email == "second@example.com"
    assert rows[1].record == draft and rows[1].appointment == draft_appointment
    assert rows[0].record.status == "signed" and rows[0].treated_area.volume_ml == Decimal("4.00")
    event = AuditEvent.objects.get(action="lot.recall_searched")
    assert event.actor == manager
    assert event.detail["patients"] == sorted([consult_patient.pk, second_patient.pk])
    assert lot_recall(manager, "") == []


@pytest.mark.parametrize("role", ["practitioner_user", "front_desk", "patient_user"])
def test_only_managers_recall_lots(request, role, lot):
    with pytest.raises(Http404):
        lot_recall(request.getfixturevalue(role), lot.lot_number)
    assert not AuditEvent.objects.filter(action="lot.recall_searched").exists()


# --- The course view -------------------------------------------------------------------------


def planned_course(
    setup, practitioner_user, front_desk, consult_appointment, product, days=(1, 8, 15)
):
    """A signed consultation (abdomen 95 cm, outer thighs grade 3, 64 kg) whose plan becomes
    the course booked right after it."""
    consultation = consultation_services.consultation_start(
        actor=practitioner_user,
        patient=consult_appointment.patient,
        appointment=consult_appointment,
    )
    consultation_services.consultation_save_draft(
        actor=practitioner_user,
        consultation=consultation,
        data={"weight_kg": Decimal("64")},
        assessments=[
            {"area": "abdomen", "condition": "localized_fat", "circumference_cm": Decimal("95")},
            {"area": "outer_thighs", "condition": "cellulite", "nurnberger_muller_grade": 3},
        ],
    )
    consultation_services.plan_save(
        actor=practitioner_user,
        consultation=consultation,
        data={
            "areas": ["abdomen", "outer_thighs"],
            "product": product,
            "appointment_type": setup["type"],
            "planned_sessions": len(days),
            "interval_days": 7,
            "price_per_session": Decimal("150"),
        },
    )
    consultation_services.consultation_review_history(
        actor=practitioner_user, consultation=consultation
    )
    consultation_services.consultation_sign(actor=practitioner_user, consultation=consultation)
    course = book_course_of(setup, front_desk, consult_appointment.patient, days)
    assert course.plan.consultation == consultation
    return course


def test_course_view_trends_run_in_time_order_from_the_consultation(
    clinic_setup, front_desk, practitioner_user, consult_appointment, product, lot
):
    course = planned_course(
        clinic_setup, practitioner_user, front_desk, consult_appointment, product
    )
    first, second, _third = checked_in_sessions(course, front_desk)
    # Recorded out of order on purpose: the series follow the session dates.
    for appointment, grade, cm, kg in [(second, 1, "90", "62"), (first, 2, "93", "63")]:
        record = services.session_record_start(actor=practitioner_user, appointment=appointment)
        save(
            practitioner_user,
            record,
            data={"weight_kg": kg},
            assessments=[
                {"area": "outer_thighs", "nurnberger_muller_grade": grade},
                {"area": "abdomen", "circumference_cm": cm},
            ],
        )
    view = course_clinical_view(practitioner_user, course.pk)
    consulted = timezone.localdate(timezone=NEW_YORK).isoformat()
    day1, day2 = (session_day(a).isoformat() for a in (first, second))
    (grades,) = view["trends"]["grades"]
    assert (grades.key, grades.unit) == ("outer_thighs", "grade")
    assert grades.points == [(consulted, 3), (day1, 2), (day2, 1)]
    (circumference,) = view["trends"]["circumferences"]
    assert circumference.points == [(consulted, 95.0), (day1, 93.0), (day2, 90.0)]
    assert view["trends"]["weight"].points == [(consulted, 64.0), (day1, 63.0), (day2, 62.0)]
    assert [s.appointment.session_number for s in view["sessions"]] == [1, 2, 3]
    assert [s.record is not None for s in view["sessions"]] == [True, True, False]
    assert view["plan"] == course.plan
    assert AuditEvent.objects.filter(
        action="course.clinical_viewed", object_id=str(course.pk), detail__records=2
    ).exists()
    # The condition of an assessed area defaults to the consultation's.
    assert set(
        AreaAssessment.objects.filter(session_record__isnull=False).values_list("area", "condition")
    ) == {("outer_thighs", "cellulite"), ("abdomen", "localized_fat")}


def test_an_evening_session_stays_on_its_own_day_in_the_trends(
    clinic_setup, front_desk, practitioner_user, consult_patient
):
    # 20:30 in New York is already the next day in UTC.
    course = book_course_of(clinic_setup, front_desk, consult_patient, [1, 8], hour=20.5)
    first, _second = checked_in_sessions(course, front_desk)
    record = services.session_record_start(actor=practitioner_user, appointment=first)
    save(
        practitioner_user,
        record,
        data={"weight_kg": "60"},
        assessments=[{"area": "abdomen", "nurnberger_muller_grade": 2}],
    )
    assert first.starts_at.astimezone(UTC).date() != session_day(first)
    trends = course_clinical_view(practitioner_user, course.pk)["trends"]
    assert trends["grades"][0].points == [(session_day(first).isoformat(), 2)]
    assert trends["weight"].points == [(session_day(first).isoformat(), 60.0)]


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
def test_the_course_view_is_for_clinicians_only(request, role, clinic_setup, consult_patient):
    course = Course.objects.create(
        patient=consult_patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        planned_sessions=1,
    )
    with pytest.raises(Http404):
        course_clinical_view(request.getfixturevalue(role), course.pk)


def test_a_lot_out_of_stock_cannot_be_chosen_but_stays_on_the_record_that_used_it(
    practitioner_user, manager, treatment_appointment, product, lot
):
    from consultations.services.lots import lot_set_in_stock
    from tests.fixtures.clinical import complete_draft

    record = services.session_record_start(
        actor=practitioner_user, appointment=treatment_appointment
    )
    lot_set_in_stock(actor=manager, lot=lot, in_stock=False)
    with pytest.raises(ApplicationError) as refused:
        services.session_record_save_draft(
            actor=practitioner_user, record=record, **complete_draft(product, lot)
        )
    assert refused.value.field == "areas.0.lot"
    assert "out of stock" in refused.value.message
    # The last vial was used in this session, then the lot was marked used up: the draft
    # still saves and signs.
    lot_set_in_stock(actor=manager, lot=lot, in_stock=True)
    services.session_record_save_draft(
        actor=practitioner_user, record=record, **complete_draft(product, lot)
    )
    lot_set_in_stock(actor=manager, lot=lot, in_stock=False)
    services.session_record_save_draft(
        actor=practitioner_user, record=record, **complete_draft(product, lot)
    )
    assert services.session_record_sign(actor=practitioner_user, record=record).is_signed
