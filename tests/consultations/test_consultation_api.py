"""The consultation record API: create, patch (the autosave of API clients), review, sign with
409 and its blockers, addenda, the plan, and who may use it."""

import pytest
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from consultations.models import Consultation
from consultations.services import consultations as services

pytestmark = pytest.mark.django_db

THIGHS = {"area": "outer_thighs", "condition": "cellulite", "nurnberger_muller_grade": 2}


@pytest.fixture
def consultation(practitioner_user, consult_appointment):
    return services.consultation_start(
        actor=practitioner_user,
        patient=consult_appointment.patient,
        appointment=consult_appointment,
    )


def test_create_for_an_appointment_is_idempotent(api, practitioner_user, consult_appointment):
    client = api(practitioner_user)
    body = {"patient": consult_appointment.patient_id, "appointment": consult_appointment.pk}
    first = client.post("/api/v1/consultations/", body, format="json")
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["status"] == "draft" and data["appointment"] == consult_appointment.pk
    assert data["weight_kg"] == "62.0" and data["bmi"] == "22.0"
    assert "Review the current medical history." in data["sign_blockers"]
    again = client.post("/api/v1/consultations/", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]


def test_create_for_an_unknown_patient_is_404(api, practitioner_user, clinic_setup):
    response = api(practitioner_user).post(
        "/api/v1/consultations/", {"patient": 999999}, format="json"
    )
    assert response.status_code == 404


def test_list_by_patient_in_a_fixed_number_of_queries(
    api, practitioner_user, consultation, consult_patient, django_assert_max_num_queries
):
    for _ in range(4):
        services.consultation_start(actor=practitioner_user, patient=consult_patient)
    services.consultation_save_draft(
        actor=practitioner_user, consultation=consultation, data={}, assessments=[THIGHS]
    )
    client = api(practitioner_user)
    # 12 with the session and user lookups of a real login.
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/consultations/?patient={consult_patient.pk}")
    data = response.json()
    assert data["count"] == 5
    assert {row["id"] for row in data["results"]} >= {consultation.pk}
    assert all(row["sign_blockers"] is None for row in data["results"])
    assert client.get("/api/v1/consultations/?patient=999999").json()["count"] == 0
    assert AuditEvent.objects.filter(action="consultations.listed").exists()


def test_patch_saves_fields_and_assessments(api, practitioner_user, consultation):
    response = api(practitioner_user).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {"complaint": "Thighs", "explained_side_effects": True, "assessments": [THIGHS]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["complaint"] == "Thighs" and data["explained_side_effects"] is True
    assert data["assessments"][0]["area"] == "outer_thighs"
    assert data["assessments"][0]["nurnberger_muller_grade"] == 2
    assert "Assess at least one area." not in data["sign_blockers"]


@pytest.mark.parametrize(
    ("row", "key"),
    [
        ({**THIGHS, "nurnberger_muller_grade": 4}, "assessments.1.nurnberger_muller_grade"),
        ({**THIGHS, "circumference_cm": "5.0"}, "assessments.1.circumference_cm"),
    ],
)
def test_patch_with_an_invalid_value_is_400_naming_the_row(
    api, practitioner_user, consultation, row, key
):
    response = api(practitioner_user).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {
            "complaint": "Not saved",
            "assessments": [{"area": "abdomen", "condition": "localized_fat"}, row],
        },
        format="json",
    )
    assert response.status_code == 400
    assert key in response.json()
    saved = Consultation.objects.get(pk=consultation.pk)
    assert saved.complaint == "" and not saved.assessments.exists()


def test_sign_is_409_with_blockers_then_200(api, practitioner_user, consultation):
    client = api(practitioner_user)
    url = f"/api/v1/consultations/{consultation.pk}/"
    refused = client.post(url + "sign/")
    assert refused.status_code == 409
    assert refused.json()["blockers"] == [
        "Review the current medical history.",
        "Assess at least one area.",
    ]
    client.patch(url, {"assessments": [THIGHS]}, format="json")
    reviewed = client.post(url + "review-history/")
    assert reviewed.status_code == 200 and reviewed.json()["medical_history_version"] == 1
    signed = client.post(url + "sign/")
    assert signed.status_code == 200
    assert (
        signed.json()["status"] == "signed" and signed.json()["signed_by"] == practitioner_user.pk
    )
    late = client.patch(url, {"notes": "late"}, format="json")
    assert late.status_code == 409
    assert client.put(url + "plan/", {}, format="json").status_code == 400  # input first
    addendum = client.post(url + "addenda/", {"text": "Correction"}, format="json")
    assert addendum.status_code == 201 and addendum.json()["text"] == "Correction"
    assert client.get(url).json()["addenda"][0]["text"] == "Correction"


def test_addendum_on_a_draft_is_409(api, practitioner_user, consultation):
    response = api(practitioner_user).post(
        f"/api/v1/consultations/{consultation.pk}/addenda/", {"text": "x"}, format="json"
    )
    assert response.status_code == 409


def test_put_plan_returns_the_quote(api, practitioner_user, consultation, product, clinic_setup):
    response = api(practitioner_user).put(
        f"/api/v1/consultations/{consultation.pk}/plan/",
        {
            "areas": ["abdomen"],
            "product": product.pk,
            "appointment_type": clinic_setup["type"].pk,
            "planned_sessions": 6,
            "interval_days": 14,
            "price_per_session": "150.00",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["total"] == "900.00"
    assert response.json()["product_name"] == product.name
    too_many = api(practitioner_user).put(
        f"/api/v1/consultations/{consultation.pk}/plan/",
        {
            "areas": ["abdomen"],
            "product": product.pk,
            "appointment_type": clinic_setup["type"].pk,
            "planned_sessions": 40,
            "price_per_session": "150.00",
        },
        format="json",
    )
    assert too_many.status_code == 400 and "planned_sessions" in too_many.json()


def test_manager_reads_consultations(api, manager, consultation):
    response = api(manager).get(f"/api/v1/consultations/{consultation.pk}/")
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="consultation.viewed", actor=manager).exists()


ENDPOINTS = [
    ("get", "/api/v1/consultations/"),
    ("post", "/api/v1/consultations/"),
    ("get", "/api/v1/consultations/{c}/"),
    ("patch", "/api/v1/consultations/{c}/"),
    ("post", "/api/v1/consultations/{c}/review-history/"),
    ("post", "/api/v1/consultations/{c}/sign/"),
    ("post", "/api/v1/consultations/{c}/addenda/"),
    ("put", "/api/v1/consultations/{c}/plan/"),
]


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_front_desk_and_patients_get_403(request, api, consultation, role, method, url):
    client = api(request.getfixturevalue(role))
    response = getattr(client, method)(url.format(c=consultation.pk), {}, format="json")
    assert response.status_code == 403
    assert Consultation.objects.get(pk=consultation.pk).status == "draft"


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_gets_401_or_403(consultation, method, url):
    response = getattr(APIClient(), method)(url.format(c=consultation.pk), {}, format="json")
    assert response.status_code in (401, 403)
