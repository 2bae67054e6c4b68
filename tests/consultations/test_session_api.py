"""The session-record API (open for an appointment, the autosave, sign with 409 and its
blockers, addenda), products and lots, the lot recall, and who may use them."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from consultations.models import Photo, Product, ProductLot, SessionRecord
from consultations.services import session_records as services
from sessions.models import AppointmentStatus
from sessions.services import appointment_check_in
from tests.clock import clinic_today
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.fixtures.clinical import area_row, book_treatment, complete_draft
from tests.fixtures.scheduling import book_course

pytestmark = pytest.mark.django_db

LIST = "/api/v1/session-records/"


@pytest.fixture
def record(practitioner_user, treatment_appointment):
    return services.session_record_start(actor=practitioner_user, appointment=treatment_appointment)


def url(record, suffix=""):
    return f"{LIST}{record.pk}/{suffix}"


def patch(client, record, body):
    return client.patch(url(record), body, format="json")


def make_photo(record, actor, area="abdomen", moment="before"):
    return Photo.objects.create(
        patient_id=record.patient_id,
        session_record=record,
        moment=moment,
        area=area,
        view="front",
        taken_by=actor,
        file="x.jpg",
        preview="x-p.jpg",
        thumbnail="x-t.jpg",
        width=10,
        height=10,
        original_format="JPEG",
        sha256="0" * 64,
    )


FULL = {
    "no_side_effects_since_last": False,
    "side_effects": [{"kind": "bruising", "severity": "mild", "duration_days": 3}],
    "weight_kg": "61.5",
    "alerts_reviewed": True,
    "topical_anaesthetic": "EMLA",
    "tolerance": "good",
    "adverse_events": [
        {"kind": "haematoma", "severity": "moderate", "action_taken": "Cold pack", "follow_up": ""}
    ],
    "assessments": [{"area": "abdomen", "nurnberger_muller_grade": 2, "circumference_cm": "91.5"}],
    "next_session_recommendation": "Same dose",
}


def full_body(product, lot):
    return {
        **FULL,
        "areas": [
            area_row(
                product,
                lot,
                points=[
                    {"diagram": "body_front", "x": 0.41234567, "y": "0.5", "volume_ml": "0.1"},
                    {"diagram": "body_front", "x": "0.45", "y": 0.52},
                ],
            ),
            area_row(product, lot, area="flanks", volume_ml="2.5"),
        ],
    }


# --- Opening a record ------------------------------------------------------------------------


def test_open_for_an_appointment_then_again_returns_it(
    api, practitioner_user, treatment_appointment
):
    client = api(practitioner_user)
    first = client.post(LIST, {"appointment": treatment_appointment.pk}, format="json")
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["status"] == "draft" and data["appointment"] == treatment_appointment.pk
    assert data["weight_kg"] == "62.0" and data["areas"] == [] and data["photos"] == []
    assert datetime.fromisoformat(data["starts_at"]) == treatment_appointment.starts_at
    assert data["starts_at"].endswith(("-05:00", "-04:00"))  # New York, with its offset
    assert "Record how the patient tolerated the session." in data["sign_blockers"]
    again = client.post(LIST, {"appointment": treatment_appointment.pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    treatment_appointment.refresh_from_db()
    assert treatment_appointment.status == AppointmentStatus.IN_PROGRESS


def test_open_before_check_in_is_409_with_the_status(
    api, practitioner_user, clinic_setup, front_desk, consult_patient
):
    appointment = book_treatment(clinic_setup, front_desk, consult_patient, check_in=False)
    response = api(practitioner_user).post(LIST, {"appointment": appointment.pk}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "booked" and "Check the patient in" in body["detail"]
    assert not SessionRecord.objects.exists()


@pytest.mark.parametrize("body", [{}, {"appointment": "x"}, {"appointment": 999999}])
def test_open_with_bad_input_is_400(api, practitioner_user, clinic_setup, body):
    response = api(practitioner_user).post(LIST, body, format="json")
    assert response.status_code == 400
    assert "appointment" in response.json()


def test_open_on_a_consultation_appointment_is_400(api, practitioner_user, consult_appointment):
    response = api(practitioner_user).post(
        LIST, {"appointment": consult_appointment.pk}, format="json"
    )
    assert response.status_code == 400
    assert "consultation record" in response.json()["appointment"][0]


def test_open_for_another_practitioners_patient_is_403_unless_allowed_to_cover(
    api, practitioner_user, clinic_setup, front_desk, consult_patient, second_practitioner
):
    appointment = book_treatment(
        clinic_setup, front_desk, consult_patient, practitioner=second_practitioner
    )
    body = {"appointment": appointment.pk}
    assert api(practitioner_user).post(LIST, body, format="json").status_code == 403
    assert not SessionRecord.objects.exists()
    practitioner_user.user_permissions.add(Permission.objects.get(codename="record_any_session"))
    fresh = type(practitioner_user).objects.get(pk=practitioner_user.pk)
    assert api(fresh).post(LIST, body, format="json").status_code == 201


# --- Reading ---------------------------------------------------------------------------------


def test_retrieve_gives_the_full_record(api, practitioner_user, record, product, lot):
    client = api(practitioner_user)
    assert patch(client, record, full_body(product, lot)).status_code == 200
    before = make_photo(record, practitioner_user)
    after = make_photo(record, practitioner_user, moment="after")
    response = client.get(url(record))
    assert response.status_code == 200
    data = response.json()
    assert data["side_effects"] == [
        {"kind": "bruising", "severity": "mild", "duration_days": 3, "notes": ""}
    ]
    abdomen, flanks = data["areas"]
    assert abdomen["product"] == product.pk and abdomen["product_name"] == "PPC + DC"
    assert abdomen["lot"] == lot.pk and abdomen["lot_number"] == "PC-2026-118"
    assert abdomen["lot_expires_on"] == lot.expires_on.isoformat()
    assert abdomen["volume_ml"] == "4.00" and abdomen["depth_mm"] == "4.0"
    assert abdomen["is_extra"] is False and abdomen["technique"] == "point_by_point"
    assert abdomen["points"] == [
        {"diagram": "body_front", "x": "0.4123", "y": "0.5000", "volume_ml": "0.10"},
        {"diagram": "body_front", "x": "0.4500", "y": "0.5200", "volume_ml": None},
    ]
    assert flanks["volume_ml"] == "2.50" and flanks["points"] == []
    assert data["adverse_events"] == [
        {"kind": "haematoma", "severity": "moderate", "action_taken": "Cold pack", "follow_up": ""}
    ]
    (assessment,) = data["assessments"]
    assert assessment["nurnberger_muller_grade"] == 2 and assessment["circumference_cm"] == "91.5"
    assert [(p["id"], p["moment"]) for p in data["photos"]] == [
        (after.pk, "after"),
        (before.pk, "before"),
    ]
    assert data["weight_kg"] == "61.5" and data["addenda"] == []
    assert data["session_number"] is None and data["sessions_in_course"] is None
    assert data["sign_blockers"] == []
    assert AuditEvent.objects.filter(
        action="session_record.viewed", actor=practitioner_user, patient_id=record.patient_id
    ).exists()


def test_retrieve_unknown_is_404(api, practitioner_user, clinic_setup):
    assert api(practitioner_user).get(f"{LIST}999999/").status_code == 404


def test_manager_reads_records(api, manager, record):
    response = api(manager).get(url(record))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="session_record.viewed", actor=manager).exists()


def recorded_sessions(setup, front_desk, practitioner_user, product, lot, count, first_day=1):
    """``count`` records of different patients on past days, each with two areas, points,
    side effects, an adverse event, an assessment and a photo."""
    records = []
    for index in range(count):
        patient = PatientFactory()
        MedicalHistoryFactory(patient=patient)
        appointment = book_treatment(setup, front_desk, patient, days=-(index + first_day))
        record = services.session_record_start(actor=practitioner_user, appointment=appointment)
        services.session_record_save_draft(
            actor=practitioner_user,
            record=record,
            data={},
            side_effects=FULL["side_effects"],
            adverse_events=FULL["adverse_events"],
            assessments=FULL["assessments"],
            areas=full_body(product, lot)["areas"],
        )
        make_photo(record, practitioner_user)
        records.append(record)
    return records


def test_list_costs_the_same_queries_for_2_and_20_records(
    api, practitioner_user, clinic_setup, front_desk, product, lot, django_assert_max_num_queries
):
    client = api(practitioner_user)
    counts = []
    for total in (2, 20):
        done = 2 * len(counts)
        recorded_sessions(
            clinic_setup, front_desk, practitioner_user, product, lot, total - done, done + 1
        )
        # 16 with a real login: session, user and groups read, the idle-timeout session write.
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(16):
            response = client.get(LIST)
        assert response.status_code == 200
        assert response.json()["count"] == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
    row = response.json()["results"][0]
    assert len(row["areas"]) == 2 and len(row["areas"][0]["points"]) == 2
    assert len(row["photos"]) == 1 and row["sign_blockers"] is None
    event = AuditEvent.objects.filter(action="session_records.listed").latest("id")
    assert len(event.detail["patients"]) == 20 and event.patient_id is None


def test_list_filters_by_patient_course_appointment_and_status(
    api, practitioner_user, clinic_setup, front_desk, consult_patient, product, lot, record
):
    course = book_course(
        clinic_setup,
        front_desk,
        consult_patient,
        [record.appointment.starts_at + timedelta(days=7 * k, hours=3) for k in range(2)],
        allow_outside_hours=True,
    )
    first = course.appointments.order_by("starts_at").first()
    appointment_check_in(actor=front_desk, appointment=first)
    in_course = services.session_record_start(actor=practitioner_user, appointment=first)
    services.session_record_save_draft(
        actor=practitioner_user, record=in_course, **complete_draft(product, lot)
    )
    services.session_record_sign(actor=practitioner_user, record=in_course)
    (other,) = recorded_sessions(clinic_setup, front_desk, practitioner_user, product, lot, 1)
    client = api(practitioner_user)

    def ids(query):
        response = client.get(LIST + query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert set(ids("")) == {record.pk, in_course.pk, other.pk}
    assert set(ids(f"?patient={consult_patient.pk}")) == {record.pk, in_course.pk}
    assert ids(f"?course={course.pk}") == [in_course.pk]
    assert ids(f"?appointment={record.appointment_id}") == [record.pk]
    assert set(ids("?status=draft")) == {record.pk, other.pk}
    assert ids("?status=signed") == [in_course.pk]
    (row,) = client.get(f"{LIST}?course={course.pk}").json()["results"]
    assert row["course"] == course.pk and row["session_number"] == 1
    assert row["sessions_in_course"] == 2
    assert client.get(LIST + "?status=lost").status_code == 400
    event = AuditEvent.objects.filter(action="session_records.listed").latest("id")
    assert event.patient_id == consult_patient.pk and event.detail["records"] == [in_course.pk]


# --- The autosave ----------------------------------------------------------------------------


def test_patch_saves_fields_and_replaces_lists(api, practitioner_user, record, product, lot):
    client = api(practitioner_user)
    response = patch(client, record, full_body(product, lot))
    assert response.status_code == 200, response.json()
    assert len(response.json()["areas"]) == 2 and response.json()["tolerance"] == "good"
    response = patch(client, record, {"notes": "Calm", "areas": [area_row(product, lot)]})
    data = response.json()
    assert data["notes"] == "Calm" and [a["area"] for a in data["areas"]] == ["abdomen"]
    assert data["areas"][0]["points"] == []
    assert len(data["side_effects"]) == 1  # not sent: kept
    assert AuditEvent.objects.filter(action="session_record.saved").count() == 2


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"areas": [{"lot": "EXPIRED"}]}, "areas.1.lot"),
        ({"areas": [{"lot": 999999}]}, "areas.1.lot"),
        ({"areas": [{"volume_ml": "75"}]}, "areas.1.volume_ml"),
        ({"areas": [{"volume_ml": "lots"}]}, "areas.1.volume_ml"),
        ({"areas": [{"depth_mm": "14"}]}, "areas.1.depth_mm"),
        ({"areas": [{"technique": "freestyle"}]}, "areas.1.technique"),
        ({"areas": [{"lot": None}]}, "areas.1.lot"),
        (
            {"areas": [{"points": [{"diagram": "body_back", "x": "1.5", "y": 0}]}]},
            "areas.1.points.0.x",
        ),
        (
            {"areas": [{"points": [{"diagram": "hand", "x": 0, "y": 0}]}]},
            "areas.1.points.0.diagram",
        ),
        (
            {"side_effects": [{"kind": "itch", "severity": "mild", "duration_days": 1}]},
            "side_effects.0.kind",
        ),
        ({"weight_kg": "500"}, "weight_kg"),
        ({"tolerance": "great"}, "tolerance"),
    ],
)
def test_patch_with_a_bad_value_is_400_naming_the_path_and_saves_nothing(
    api, practitioner_user, record, product, lot, expired_lot, change, key
):
    client = api(practitioner_user)
    patch(client, record, {"notes": "Kept", "areas": [area_row(product, lot)]})
    body = {"notes": "Lost", **change}
    if "areas" in change:
        second = {**area_row(product, lot, area="flanks"), **change["areas"][0]}
        if second["lot"] == "EXPIRED":
            second["lot"] = expired_lot.pk
        body["areas"] = [area_row(product, lot), second]
    response = patch(client, record, body)
    assert response.status_code == 400
    data = response.json()
    assert key in data, data
    assert data["detail"]
    saved = SessionRecord.objects.get(pk=record.pk)
    assert saved.notes == "Kept"
    assert list(saved.areas.values_list("area", flat=True)) == ["abdomen"]


def test_patch_of_another_practitioners_record_is_403(api, manager, second_practitioner, record):
    assert patch(api(manager), record, {"notes": "Not mine"}).status_code == 403
    assert SessionRecord.objects.get(pk=record.pk).notes == ""


# --- Signing and addenda ---------------------------------------------------------------------


def test_sign_is_409_with_blockers_then_200_then_409(api, practitioner_user, record, product, lot):
    client = api(practitioner_user)
    refused = client.post(url(record, "sign/"))
    assert refused.status_code == 409
    assert refused.json()["blockers"] == [
        "Confirm you reviewed the patient's alerts before injecting.",
        "Record at least one treated area with its product and lot.",
        "Record how the patient tolerated the session.",
    ]
    draft = complete_draft(product, lot)
    patch(client, record, {**draft["data"], "areas": draft["areas"]})
    signed = client.post(url(record, "sign/"))
    assert signed.status_code == 200, signed.json()
    data = signed.json()
    assert data["status"] == "signed" and data["signed_by"] == practitioner_user.pk
    assert data["signed_at"] and data["sign_blockers"] == []
    record.appointment.refresh_from_db()
    assert record.appointment.status == AppointmentStatus.COMPLETED
    again = client.post(url(record, "sign/"))
    assert again.status_code == 409 and again.json()["status"] == "signed"
    late = patch(client, record, {"notes": "late"})
    assert late.status_code == 409 and "addendum" in late.json()["detail"]


def test_sign_refuses_a_lot_expired_since_it_was_recorded(
    api, practitioner_user, record, product, lot
):
    client = api(practitioner_user)
    draft = complete_draft(product, lot)
    patch(client, record, {**draft["data"], "areas": draft["areas"]})
    ProductLot.objects.filter(pk=lot.pk).update(expires_on=date(2020, 1, 1))
    refused = client.post(url(record, "sign/"))
    assert refused.status_code == 409
    assert "PC-2026-118 expired on 2020-01-01" in refused.json()["blockers"][0]


def test_addenda_only_on_a_signed_record(api, practitioner_user, record, product, lot):
    client = api(practitioner_user)
    assert client.post(url(record, "addenda/"), {"text": "x"}, format="json").status_code == 409
    draft = complete_draft(product, lot)
    patch(client, record, {**draft["data"], "areas": draft["areas"]})
    client.post(url(record, "sign/"))
    empty = client.post(url(record, "addenda/"), {"text": ""}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()
    added = client.post(url(record, "addenda/"), {"text": "Bruise at 48 h"}, format="json")
    assert added.status_code == 201
    assert added.json()["text"] == "Bruise at 48 h"
    assert added.json()["written_by"] == practitioner_user.pk
    assert client.get(url(record)).json()["addenda"][0]["id"] == added.json()["id"]


# --- Products and lots -----------------------------------------------------------------------


def test_products_list_with_their_lots_in_fixed_queries(
    api, practitioner_user, product, lot, expired_lot, django_assert_max_num_queries
):
    client = api(practitioner_user)
    with CaptureQueriesContext(connection) as two:
        response = client.get("/api/v1/products/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["name"] == "PPC + DC"
    assert [lot_row["lot_number"] for lot_row in row["lots"]] == ["PC-2024-007", "PC-2026-118"]
    for index in range(20):
        extra = Product.objects.create(name=f"Product {index:02}")
        ProductLot.objects.create(
            product=extra, lot_number="A", expires_on=clinic_today() + timedelta(days=3 * 365)
        )
    with django_assert_max_num_queries(len(two)):
        assert client.get("/api/v1/products/").json()["count"] == 21
    assert client.get("/api/v1/products/?is_active=false").json()["count"] == 0


def test_managers_add_products_and_a_duplicate_is_409(api, manager, practitioner_user, product):
    body = {"name": "Hyaluronic acid", "composition": "HA 1%"}
    assert api(practitioner_user).post("/api/v1/products/", body, format="json").status_code == 403
    created = api(manager).post("/api/v1/products/", body, format="json")
    assert created.status_code == 201
    assert created.json()["name"] == "Hyaluronic acid" and created.json()["lots"] == []
    again = api(manager).post("/api/v1/products/", {"name": "ppc + dc"}, format="json")
    assert again.status_code == 409 and again.json()["id"] == product.pk
    assert api(manager).post("/api/v1/products/", {}, format="json").status_code == 400


@pytest.mark.parametrize("role", ["practitioner_user", "manager"])
def test_practitioners_and_managers_register_lots(request, api, role, product, lot):
    client = api(request.getfixturevalue(role))
    lots_url = f"/api/v1/products/{product.pk}/lots/"
    created = client.post(
        lots_url, {"lot_number": "PC-2027-001", "expires_on": "2031-06-30"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["product"] == product.pk and created.json()["is_active"] is True
    duplicate = client.post(
        lots_url, {"lot_number": "pc-2026-118", "expires_on": "2027-06-30"}, format="json"
    )
    assert duplicate.status_code == 409 and duplicate.json()["id"] == lot.pk
    assert "lot_number" in duplicate.json()
    bad = client.post(lots_url, {"lot_number": "X", "expires_on": "soon"}, format="json")
    assert bad.status_code == 400 and "expires_on" in bad.json()
    listed = client.get(lots_url).json()
    assert [row["lot_number"] for row in listed["results"]] == ["PC-2026-118", "PC-2027-001"]
    assert client.get("/api/v1/products/999999/lots/").status_code == 404
    assert client.post("/api/v1/products/999999/lots/", {}, format="json").status_code == 404


def test_lots_usable_on_a_day(api, practitioner_user, product, lot, expired_lot):
    client = api(practitioner_user)
    today = clinic_today().isoformat()
    everything = client.get("/api/v1/lots/").json()
    assert {row["id"] for row in everything["results"]} == {lot.pk, expired_lot.pk}
    usable = client.get(f"/api/v1/lots/?usable_on={today}").json()
    assert [row["id"] for row in usable["results"]] == [lot.pk]
    by_number = client.get("/api/v1/lots/?lot_number=pc-2024-007").json()
    assert [row["id"] for row in by_number["results"]] == [expired_lot.pk]
    bad = client.get("/api/v1/lots/?usable_on=tomorrow")
    assert bad.status_code == 400 and "usable_on" in bad.json()


def test_managers_take_a_lot_out_of_stock(api, manager, practitioner_user, lot):
    body = {"is_active": False}
    path = f"/api/v1/lots/{lot.pk}/"
    assert api(practitioner_user).patch(path, body, format="json").status_code == 403
    response = api(manager).patch(path, body, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api(manager).patch(path, {}, format="json").status_code == 400
    assert api(manager).patch("/api/v1/lots/999999/", body, format="json").status_code == 404


# --- Lot recall ------------------------------------------------------------------------------


def test_recall_lists_patients_with_contact_details(
    api, manager, practitioner_user, record, product, lot, django_assert_max_num_queries
):
    services.session_record_save_draft(
        actor=practitioner_user, record=record, data={}, areas=[area_row(product, lot)]
    )
    client = api(manager)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/lots/recall/?lot_number=pc-2026-118")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    patient = record.patient
    assert row["patient"] == patient.pk and row["patient_name"] == patient.full_name
    assert row["email"] == patient.email
    assert row["mobile_phone"] == (patient.mobile_phone.as_e164 if patient.mobile_phone else "")
    assert row["session_record"] == record.pk and row["record_status"] == "draft"
    assert datetime.fromisoformat(row["session_starts_at"]) == record.appointment.starts_at
    assert row["product_name"] == "PPC + DC" and row["lot_number"] == "PC-2026-118"
    assert row["volume_ml"] == "4.00" and row["area"] == "abdomen"
    event = AuditEvent.objects.get(action="lot.recall_searched")
    assert event.actor == manager and event.detail["patients"] == [patient.pk]
    assert client.get("/api/v1/lots/recall/?lot_number=NOPE").json()["count"] == 0
    missing = client.get("/api/v1/lots/recall/")
    assert missing.status_code == 400 and "lot_number" in missing.json()


def test_recall_is_for_managers_only(api, practitioner_user, lot):
    response = api(practitioner_user).get(f"/api/v1/lots/recall/?lot_number={lot.lot_number}")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="lot.recall_searched").exists()


# --- Who may use it --------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/session-records/"),
    ("post", "/api/v1/session-records/"),
    ("get", "/api/v1/session-records/{r}/"),
    ("patch", "/api/v1/session-records/{r}/"),
    ("post", "/api/v1/session-records/{r}/sign/"),
    ("post", "/api/v1/session-records/{r}/addenda/"),
    ("get", "/api/v1/products/"),
    ("post", "/api/v1/products/"),
    ("get", "/api/v1/products/{p}/lots/"),
    ("post", "/api/v1/products/{p}/lots/"),
    ("get", "/api/v1/lots/"),
    ("patch", "/api/v1/lots/{l}/"),
    ("get", "/api/v1/lots/recall/?lot_number={n}"),
]


def _call(client, method, path, record, product, lot):
    path = path.format(r=record.pk, p=product.pk, l=lot.pk, n=lot.lot_number)
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, {}, format="json")


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_front_desk_and_patients_get_403(request, api, record, product, lot, role, method, path):
    response = _call(api(request.getfixturevalue(role)), method, path, record, product, lot)
    assert response.status_code == 403
    assert SessionRecord.objects.get(pk=record.pk).status == "draft"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_gets_401_or_403(record, product, lot, method, path):
    response = _call(APIClient(), method, path, record, product, lot)
    assert response.status_code in (401, 403)
