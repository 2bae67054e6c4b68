"""The patient REST API: registration and search, medical history versions, alerts, consents,
the patient's own record, permissions per role, audit and query counts."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import (
    AlertAcknowledgement,
    Allergy,
    ConsentKind,
    ConsentSignature,
    MedicalHistory,
    Medication,
    Patient,
)
from tests.factories import (
    ConsentTemplateFactory,
    MedicalHistoryFactory,
    PatientFactory,
    signature_data_url,
)

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "legal_first_name": "Zoé",
    "legal_last_name": "Lefèvre",
    "date_of_birth": "1990-04-02",
    "sex": "female",
    "email": "Zoe.Lefevre@Example.com",
    "mobile_phone": "+33 6 12 34 56 78",
}

HISTORY = {
    "height_cm": "168.0",
    "weight_kg": "61.5",
    "diabetes": True,
    "goals": ["cellulite"],
    "allergies": [{"substance": "Lidocaïne", "reaction": "Hives", "severity": "severe"}],
    "medications": [{"name": "Warfarin", "dose": "5 mg", "is_anticoagulant": True}],
}


@pytest.fixture
def patient(patient_user):
    """The record linked to ``patient_user``'s portal account."""
    return PatientFactory(
        legal_first_name="Pat", legal_last_name="Portal", portal_user=patient_user
    )


@pytest.fixture
def other_patient(other_patient_user):
    return PatientFactory(
        legal_first_name="Olga", legal_last_name="Other", portal_user=other_patient_user
    )


@pytest.fixture
def template(db):
    return ConsentTemplateFactory(kind=ConsentKind.TREATMENT)


def patient_url(patient, suffix=""):
    return f"/api/v1/patients/{patient.pk}/{suffix}"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def sign(client, patient, template, **overrides):
    body = {
        "template": template.pk,
        "signed_name": patient.full_name,
        "signature": signature_data_url(),
        **overrides,
    }
    return client.post(patient_url(patient, "consents/"), body, format="json")


# --- Registration ---------------------------------------------------------------------------


def test_front_desk_registers_a_patient_and_the_write_is_audited(api, front_desk):
    response = api(front_desk).post("/api/v1/patients/", NEW_PATIENT, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["mobile_phone"] == "+33612345678"
    assert body["email"] == "zoe.lefevre@example.com"
    assert body["date_of_birth"] == "1990-04-02"
    assert body["full_name"] == "Zoé Lefèvre"
    assert body["is_active"] is True
    created_at = body["created_at"]
    assert created_at.endswith("Z") or "+" in created_at[10:]
    patient = Patient.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(
        action="patient.created", patient_id=patient.pk, actor=front_desk
    ).exists()


def test_likely_duplicate_is_409_with_candidates_and_nothing_written(api, front_desk):
    existing = PatientFactory(
        legal_first_name="Zoe", legal_last_name="Lefevre", date_of_birth=date(1990, 4, 2)
    )

    response = api(front_desk).post("/api/v1/patients/", NEW_PATIENT, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["detail"]
    assert [c["id"] for c in body["candidates"]] == [existing.pk]
    assert body["candidates"][0]["date_of_birth"] == "1990-04-02"
    assert Patient.objects.count() == 1


def test_same_phone_number_is_a_likely_duplicate(api, front_desk):
    existing = PatientFactory(mobile_phone="+33612345678")

    response = api(front_desk).post("/api/v1/patients/", NEW_PATIENT, format="json")

    assert response.status_code == 409
    assert [c["id"] for c in response.json()["candidates"]] == [existing.pk]


@pytest.mark.parametrize("where", ["query", "body"])
def test_force_registers_despite_duplicates(api, front_desk, where):
    PatientFactory(
        legal_first_name="Zoe", legal_last_name="Lefevre", date_of_birth=date(1990, 4, 2)
    )
    client = api(front_desk)

    if where == "query":
        response = client.post("/api/v1/patients/?force=true", NEW_PATIENT, format="json")
    else:
        response = client.post("/api/v1/patients/", {**NEW_PATIENT, "force": True}, format="json")

    assert response.status_code == 201, response.json()
    assert "force" not in response.json()
    assert Patient.objects.count() == 2
    event = AuditEvent.objects.get(action="patient.created", patient_id=response.json()["id"])
    assert event.detail == {"forced_despite_duplicates": True}


def test_a_new_registration_cannot_be_archived_at_once(api, front_desk):
    response = api(front_desk).post(
        "/api/v1/patients/", {**NEW_PATIENT, "is_active": False}, format="json"
    )

    assert response.status_code == 201
    assert Patient.objects.get().is_active is True


def _years_ago(years):
    today = timezone.localdate()
    return date(today.year - years, 1, 1).isoformat()


BAD_PATIENT_INPUT = [
    ("mobile_phone", "12"),
    ("mobile_phone", "call me maybe"),
    ("emergency_contact_phone", "+33 1"),
    ("email", "not-an-email"),
    ("date_of_birth", (timezone.localdate() + timedelta(days=1)).isoformat()),
    ("date_of_birth", _years_ago(121)),
    ("date_of_birth", "02/30/1990"),
    ("sex", "robot"),
    ("legal_last_name", ""),
    ("preferred_language", "xx"),
]


@pytest.mark.parametrize(("field", "value"), BAD_PATIENT_INPUT)
def test_bad_registration_is_400_naming_the_field_and_writes_nothing(api, front_desk, field, value):
    response = api(front_desk).post(
        "/api/v1/patients/", {**NEW_PATIENT, field: value}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Patient.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.created").exists()


def test_missing_required_fields_are_each_named(api, front_desk):
    response = api(front_desk).post("/api/v1/patients/", {}, format="json")

    assert response.status_code == 400
    assert {"legal_first_name", "legal_last_name", "date_of_birth", "sex"} <= set(response.json())


# --- Search and filters --------------------------------------------------------------------


@pytest.fixture
def search_patients(db):
    return {
        "zoe": PatientFactory(
            legal_first_name="Zoé",
            legal_last_name="Lefèvre",
            date_of_birth=date(1990, 4, 2),
            email="zoe@example.com",
            mobile_phone="+33612345678",
        ),
        "zoltan": PatientFactory(
            legal_first_name="Zoltan",
            legal_last_name="Kovacs",
            date_of_birth=date(1975, 1, 9),
            email="zoltan@example.com",
            mobile_phone="+14155552671",
        ),
        "ana": PatientFactory(
            legal_first_name="Ana",
            legal_last_name="Lefort",
            date_of_birth=date(1990, 4, 2),
            email="ana@example.com",
            mobile_phone="+12125550123",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zoe", ["zoe"]),
        ("ZOÉ lefevre", ["zoe"]),
        ("lefèv", ["zoe"]),
        ("LEF", ["zoe", "ana"]),
        ("zo", ["zoltan", "zoe"]),
        ("06 12 34 56 78", ["zoe"]),
        ("+33 6 12 34 56 78", ["zoe"]),
        ("0612345678", ["zoe"]),
        ("(415) 555-2671", ["zoltan"]),
        ("415.555.2671", ["zoltan"]),
        ("zoltan@example.com", ["zoltan"]),
        ("1990-04-02", ["ana", "zoe"]),
        ("nobody", []),
    ],
)
def test_search_by_accented_name_phone_email_or_birth_date(
    api, front_desk, search_patients, query, expected
):
    response = api(front_desk).get("/api/v1/patients/", {"search": query})

    assert response.status_code == 200
    names = {p.pk: key for key, p in search_patients.items()}
    found = [names[pk] for pk in ids(response)]
    # Ordered by last name, then first name.
    assert found == sorted(expected, key=lambda k: search_patients[k].legal_last_name)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_of_birth": "1990-04-02"}, {"zoe", "ana"}),
        ({"email": "ZOLTAN@example.com"}, {"zoltan"}),
        ({"email": "zoltan"}, set()),
        ({"phone": "06 12 34 56 78"}, {"zoe"}),
        ({"phone": "+1 415 555 2671"}, {"zoltan"}),
        ({"search": "lef", "date_of_birth": "1990-04-02"}, {"zoe", "ana"}),
        ({"search": "lef", "email": "ana@example.com"}, {"ana"}),
        ({}, {"zoe", "zoltan", "ana"}),
    ],
)
def test_list_filters(api, practitioner_user, search_patients, params, expected):
    response = api(practitioner_user).get("/api/v1/patients/", params)

    assert response.status_code == 200
    names = {p.pk: key for key, p in search_patients.items()}
    assert {names[pk] for pk in ids(response)} == expected
    assert response.json()["count"] == len(expected)


def test_bad_date_filter_is_400_naming_the_parameter(api, front_desk):
    response = api(front_desk).get("/api/v1/patients/", {"date_of_birth": "yesterday"})

    assert response.status_code == 400
    assert "date_of_birth" in response.json()


def test_patient_list_costs_a_fixed_number_of_queries(
    api, front_desk, django_assert_max_num_queries
):
    client = api(front_desk)
    PatientFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/patients/").status_code == 200
    PatientFactory.create_batch(27)

    # Session, user, two permission lookups, count, page, session save (with its savepoint).
    with django_assert_max_num_queries(9) as many:
        response = client.get("/api/v1/patients/")

    assert response.json()["count"] == 30
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Reading and changing a record --------------------------------------------------------------


def test_retrieve_is_audited_as_a_read(api, practitioner_user):
    patient = PatientFactory()

    response = api(practitioner_user).get(patient_url(patient))

    assert response.status_code == 200
    assert response.json()["id"] == patient.pk
    assert AuditEvent.objects.filter(
        action="patient.viewed", patient_id=patient.pk, actor=practitioner_user
    ).exists()


def test_unknown_patient_is_404_for_staff(api, manager):
    assert api(manager).get("/api/v1/patients/999999/").status_code == 404


def test_front_desk_changes_details_and_the_change_is_audited(api, front_desk):
    patient = PatientFactory()

    response = api(front_desk).patch(
        patient_url(patient),
        {"mobile_phone": "(415) 555-2671", "consents_sms_reminders": True},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["mobile_phone"] == "+14155552671"
    assert response.json()["consents_sms_reminders_at"] is not None
    patient.refresh_from_db()
    assert patient.phone_digits == "14155552671"
    event = AuditEvent.objects.get(action="patient.updated", patient_id=patient.pk)
    assert event.detail == {"fields": ["consents_sms_reminders", "mobile_phone"]}


def test_same_email_in_other_case_is_not_a_change(api, front_desk):
    patient = PatientFactory(email="ann@example.com")

    response = api(front_desk).patch(
        patient_url(patient), {"email": " Ann@Example.COM "}, format="json"
    )

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="patient.updated").exists()


def test_full_update_replaces_the_details(api, manager):
    patient = PatientFactory()

    response = api(manager).put(
        patient_url(patient), {**NEW_PATIENT, "is_active": False}, format="json"
    )

    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert (patient.legal_last_name, patient.is_active) == ("Lefèvre", False)


def test_full_update_needs_the_required_fields(api, manager):
    patient = PatientFactory()

    response = api(manager).put(patient_url(patient), {"city": "Lyon"}, format="json")

    assert response.status_code == 400
    assert "legal_first_name" in response.json()


@pytest.mark.parametrize(("field", "value"), BAD_PATIENT_INPUT)
def test_bad_change_is_400_naming_the_field_and_changes_nothing(api, front_desk, field, value):
    patient = PatientFactory()
    before = Patient.objects.values().get(pk=patient.pk)

    response = api(front_desk).patch(patient_url(patient), {field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert Patient.objects.values().get(pk=patient.pk) == before
    assert not AuditEvent.objects.filter(action="patient.updated").exists()


# --- Medical history ----------------------------------------------------------------------


def test_two_submissions_make_versions_1_and_2_listed_newest_first(api, practitioner_user):
    patient = PatientFactory()
    client = api(practitioner_user)
    url = patient_url(patient, "medical-history/")

    first = client.post(url, HISTORY, format="json")
    second = client.post(url, {**HISTORY, "weight_kg": "60.0", "allergies": []}, format="json")

    assert (first.status_code, second.status_code) == (201, 201), first.json()
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert first.json()["source"] == "clinic"
    assert first.json()["submitted_by_name"] == practitioner_user.full_name
    listed = client.get(url)
    assert listed.status_code == 200
    versions = listed.json()["results"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["allergies"] == []
    assert versions[1]["allergies"] == [
        {"substance": "Lidocaïne", "reaction": "Hives", "severity": "severe"}
    ]
    assert versions[1]["medications"][0]["name"] == "Warfarin"
    assert versions[1]["height_cm"] == "168.0"
    assert versions[1]["bmi"] == 21.8
    submitted = AuditEvent.objects.filter(action="medical_history.submitted", patient_id=patient.pk)
    assert submitted.count() == 2
    assert AuditEvent.objects.filter(
        action="medical_history.list_viewed", patient_id=patient.pk, actor=practitioner_user
    ).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("height_cm", "300"),
        ("height_cm", "20"),
        ("weight_kg", "10"),
        ("weight_kg", "400"),
        ("height_cm", "tall"),
        ("goals", ["eternal_youth"]),
        ("allergies", [{"substance": "Latex", "severity": "catastrophic"}]),
        ("allergies", [{"reaction": "Hives", "severity": "mild"}]),
    ],
)
def test_bad_history_is_400_naming_the_field_and_writes_nothing(
    api, practitioner_user, field, value
):
    patient = PatientFactory()

    response = api(practitioner_user).post(
        patient_url(patient, "medical-history/"), {**HISTORY, field: value}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not MedicalHistory.objects.exists()
    assert not Allergy.objects.exists() and not Medication.objects.exists()


def test_history_list_costs_a_fixed_number_of_queries(
    api, practitioner_user, django_assert_max_num_queries
):
    patient = PatientFactory()
    client = api(practitioner_user)
    url = patient_url(patient, "medical-history/")

    def add_versions(count):
        for _ in range(count):
            history = MedicalHistoryFactory(patient=patient)
            Allergy.objects.create(history=history, substance="Latex", severity="mild")
            Allergy.objects.create(history=history, substance="Iodine", severity="severe")
            Medication.objects.create(history=history, name="Aspirin", is_antiplatelet=True)

    add_versions(1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add_versions(9)

    # Session, user, permissions (2), patient, role, audit row, count, page, allergies,
    # medications, session save (with its savepoint).
    with django_assert_max_num_queries(14) as many:
        response = client.get(url)

    assert response.json()["count"] == 10
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Alerts -------------------------------------------------------------------------------


def test_alerts_list_and_acknowledge(api, practitioner_user):
    patient = PatientFactory()
    client = api(practitioner_user)
    client.post(patient_url(patient, "medical-history/"), HISTORY, format="json")

    alerts = client.get(patient_url(patient, "alerts/"))

    assert alerts.status_code == 200
    keys = [a["key"] for a in alerts.json()]
    assert keys == ["allergy:lidocaine", "medication:warfarin", "condition:diabetes"]
    assert all(a["acknowledgement"] is None for a in alerts.json())

    ack_url = patient_url(patient, "alerts/acknowledge/")
    body = {"alert_key": "medication:warfarin", "note": "Stop 48h before, INR checked."}
    acknowledged = client.post(ack_url, body, format="json")

    assert acknowledged.status_code == 201, acknowledged.json()
    assert acknowledged.json()["acknowledged_by_name"] == practitioner_user.full_name
    after = {a["key"]: a for a in client.get(patient_url(patient, "alerts/")).json()}
    assert after["medication:warfarin"]["acknowledgement"]["note"] == body["note"]
    assert AuditEvent.objects.filter(action="alert.acknowledged", patient_id=patient.pk).exists()
    assert client.post(ack_url, body, format="json").status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"alert_key": "condition:diabetes", "note": ""}, "note"),
        ({"alert_key": "condition:diabetes"}, "note"),
        ({"note": "ok"}, "alert_key"),
    ],
)
def test_acknowledging_without_a_note_or_key_is_400(api, manager, body, field):
    patient = PatientFactory()
    client = api(manager)
    client.post(patient_url(patient, "medical-history/"), HISTORY, format="json")

    response = client.post(patient_url(patient, "alerts/acknowledge/"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not AlertAcknowledgement.objects.exists()


def test_acknowledging_an_alert_not_on_the_history_is_400(api, manager):
    patient = PatientFactory()
    client = api(manager)
    client.post(patient_url(patient, "medical-history/"), HISTORY, format="json")

    response = client.post(
        patient_url(patient, "alerts/acknowledge/"),
        {"alert_key": "condition:heart_condition", "note": "n/a"},
        format="json",
    )

    assert response.status_code == 400
    assert not AlertAcknowledgement.objects.exists()


# --- Consents -----------------------------------------------------------------------------


def test_sign_at_desk_then_withdraw_keeps_the_signature(api, front_desk, template):
    patient = PatientFactory()
    client = api(front_desk)

    signed = sign(client, patient, template)

    assert signed.status_code == 201, signed.json()
    body = signed.json()
    assert body["signed_via"] == "desk"
    assert body["is_valid"] is True
    assert body["template"] == {
        "id": template.pk,
        "kind": "treatment",
        "version": template.version,
        "title": template.title,
    }
    assert "signature" not in body and "signature_png" not in body
    assert AuditEvent.objects.filter(action="consent.signed", patient_id=patient.pk).exists()

    withdraw_url = f"/api/v1/consents/{body['id']}/withdraw/"
    withdrawn = client.post(withdraw_url, {"reason": "Changed her mind"}, format="json")

    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["withdrawn_at"] is not None
    assert withdrawn.json()["is_valid"] is False
    row = ConsentSignature.objects.get(pk=body["id"])
    assert row.withdrawn_by == front_desk and row.withdrawal_reason == "Changed her mind"
    assert bytes(row.signature_png).startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(action="consent.withdrawn", patient_id=patient.pk).exists()

    again = client.post(withdraw_url, {}, format="json")
    assert again.status_code == 409
    assert again.json()["detail"]

    listed = client.get(patient_url(patient, "consents/"))
    assert listed.status_code == 200
    [only] = listed.json()["results"]
    assert only["id"] == body["id"] and only["withdrawn_at"] is not None
    assert "signature_png" not in only


def test_signing_the_same_consent_twice_is_409(api, front_desk, template):
    patient = PatientFactory()
    client = api(front_desk)
    assert sign(client, patient, template).status_code == 201

    assert sign(client, patient, template).status_code == 409
    assert ConsentSignature.objects.count() == 1


def test_signing_a_replaced_consent_text_is_409(api, front_desk, manager, template):
    services.consent_template_publish(
        actor=manager, kind=template.kind, title="New text", body="Updated."
    )

    response = sign(api(front_desk), PatientFactory(), template)

    assert response.status_code == 409
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"signature": None}, "signature"),
        ({"signature": ""}, "signature"),
        ({"signature": "data:image/png;base64,not-base64!"}, "signature"),
        ({"signature": "data:image/jpeg;base64,AAAA"}, "signature"),
        ({"signature": signature_data_url(inked=False)}, "signature"),
        ({"signed_name": ""}, "signed_name"),
        ({"signed_name": "   "}, "signed_name"),
        ({"template": 999999}, "template"),
    ],
)
def test_bad_signature_is_400_naming_the_field(api, front_desk, template, overrides, field):
    patient = PatientFactory()
    body = {"template": template.pk, "signed_name": "Ann", "signature": signature_data_url()}
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}

    response = api(front_desk).post(patient_url(patient, "consents/"), body, format="json")

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ConsentSignature.objects.exists()


# --- Permissions per role -------------------------------------------------------------------


def staff_endpoints(patient, signature):
    return [
        ("get", "/api/v1/patients/", None),
        ("post", "/api/v1/patients/", NEW_PATIENT),
        ("get", patient_url(patient), None),
        ("patch", patient_url(patient), {"city": "Nice"}),
        ("put", patient_url(patient), NEW_PATIENT),
        ("get", patient_url(patient, "medical-history/"), None),
        ("post", patient_url(patient, "medical-history/"), HISTORY),
        ("get", patient_url(patient, "alerts/"), None),
        ("post", patient_url(patient, "alerts/acknowledge/"), {"alert_key": "x", "note": "y"}),
        ("get", patient_url(patient, "consents/"), None),
        ("post", patient_url(patient, "consents/"), {}),
        ("post", f"/api/v1/consents/{signature.pk}/withdraw/", {}),
    ]


@pytest.fixture
def signed(patient, template, manager):
    return services.consent_sign(
        actor=manager,
        patient=patient,
        template=template,
        signed_name="Pat Portal",
        signature=signature_data_url(),
        via="desk",
    )


def test_patient_gets_403_on_every_staff_endpoint_even_for_their_own_record(
    api, patient_user, patient, signed
):
    client = api(patient_user)
    for method, url, body in staff_endpoints(patient, signed):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url, response.status_code)
    signed.refresh_from_db()
    assert signed.is_valid
    assert Patient.objects.count() == 1
    assert not MedicalHistory.objects.exists()


def test_anonymous_gets_401_or_403_everywhere(api, patient, signed):
    client = api()
    endpoints = [
        *staff_endpoints(patient, signed),
        ("get", "/api/v1/me/patient/", None),
        ("get", "/api/v1/me/medical-history/", None),
        ("get", "/api/v1/me/consents/", None),
        ("post", f"/api/v1/me/consents/{signed.pk}/withdraw/", {}),
    ]
    for method, url, body in endpoints:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code in (401, 403), (method, url, response.status_code)


# Who gets 403 where: ("role", "method", "suffix")
FORBIDDEN = {
    "practitioner_user": {("post", ""), ("patch", "{id}"), ("put", "{id}")},
    "front_desk": {
        ("get", "{id}/medical-history/"),
        ("post", "{id}/medical-history/"),
        ("get", "{id}/alerts/"),
        ("post", "{id}/alerts/acknowledge/"),
    },
    "manager": set(),
}
ROLE_ENDPOINTS = [
    ("get", ""),
    ("post", ""),
    ("get", "{id}"),
    ("patch", "{id}"),
    ("put", "{id}"),
    ("get", "{id}/medical-history/"),
    ("post", "{id}/medical-history/"),
    ("get", "{id}/alerts/"),
    ("post", "{id}/alerts/acknowledge/"),
    ("get", "{id}/consents/"),
]


@pytest.mark.parametrize("role", ["manager", "front_desk", "practitioner_user"])
@pytest.mark.parametrize(("method", "suffix"), ROLE_ENDPOINTS)
def test_staff_roles_reach_only_their_endpoints(request, api, role, method, suffix):
    user = request.getfixturevalue(role)
    patient = PatientFactory(legal_first_name="Role", legal_last_name="Check")
    MedicalHistoryFactory(patient=patient, diabetes=True)
    body = {
        "": {**NEW_PATIENT, "legal_first_name": "Brand", "mobile_phone": "+33698765432"},
        "{id}": {**NEW_PATIENT, "email": "x@example.com", "mobile_phone": ""},
        "{id}/medical-history/": HISTORY,
        "{id}/alerts/acknowledge/": {"alert_key": "condition:diabetes", "note": "Checked"},
    }.get(suffix)
    url = "/api/v1/patients/" + (suffix.format(id=patient.pk) + ("/" if suffix == "{id}" else ""))

    response = getattr(api(user), method)(url, body, format="json")

    if (method, suffix) in FORBIDDEN[role]:
        assert response.status_code == 403, response.json()
    else:
        assert response.status_code in (200, 201), response.json()


def test_practitioner_cannot_create_or_change_and_nothing_is_written(api, practitioner_user):
    patient = PatientFactory(city="Paris")
    client = api(practitioner_user)

    assert client.post("/api/v1/patients/", NEW_PATIENT, format="json").status_code == 403
    assert client.patch(patient_url(patient), {"city": "Nice"}, format="json").status_code == 403

    assert Patient.objects.count() == 1
    patient.refresh_from_db()
    assert patient.city == "Paris"


def test_front_desk_records_a_withdrawal_but_a_practitioner_may_not(
    api, practitioner_user, front_desk, template
):
    patient = PatientFactory()
    signature = services.consent_sign(
        actor=front_desk,
        patient=patient,
        template=template,
        signed_name="X",
        signature=signature_data_url(),
        via="desk",
    )
    url = f"/api/v1/consents/{signature.pk}/withdraw/"
    assert api(practitioner_user).post(url, {}, format="json").status_code == 403
    assert api(front_desk).post(url, {"reason": "Phoned in"}, format="json").status_code == 200


def test_withdrawing_an_unknown_consent_is_404(api, manager):
    assert api(manager).post("/api/v1/consents/999999/withdraw/", {}).status_code == 404


# --- The patient's own record ------------------------------------------------------------------


def test_patient_reads_only_their_own_record(api, patient_user, patient, other_patient):
    response = api(patient_user).get("/api/v1/me/patient/")

    assert response.status_code == 200
    assert response.json()["id"] == patient.pk
    assert "notes" not in response.json()


def test_other_patient_sees_their_own_record_not_the_first(
    api, other_patient_user, patient, other_patient
):
    response = api(other_patient_user).get("/api/v1/me/patient/")

    assert response.json()["id"] == other_patient.pk


def test_patient_without_a_linked_record_gets_404(api, patient_user):
    assert api(patient_user).get("/api/v1/me/patient/").status_code == 404
    assert api(patient_user).get("/api/v1/me/medical-history/").status_code == 404


@pytest.mark.parametrize("role", ["manager", "front_desk", "practitioner_user"])
def test_staff_get_404_on_the_patients_own_endpoints(request, api, role, patient, signed):
    client = api(request.getfixturevalue(role))

    assert client.get("/api/v1/me/patient/").status_code == 404
    assert client.patch("/api/v1/me/patient/", {"city": "X"}, format="json").status_code == 404
    assert client.get("/api/v1/me/medical-history/").status_code == 404
    assert client.post("/api/v1/me/medical-history/", HISTORY, format="json").status_code == 404
    assert client.get("/api/v1/me/consents/").status_code == 404
    withdraw = client.post(f"/api/v1/me/consents/{signed.pk}/withdraw/", {}, format="json")
    assert withdraw.status_code == 404
    signed.refresh_from_db()
    assert signed.is_valid


def test_patient_changes_only_the_portal_fields(api, patient_user, patient):
    response = api(patient_user).patch(
        "/api/v1/me/patient/",
        {
            "mobile_phone": "+33 6 98 76 54 32",
            "preferred_name": "Patty",
            "consents_marketing": True,
            "legal_last_name": "Hacker",
            "date_of_birth": "2000-01-01",
            "is_active": False,
            "notes": "VIP",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    patient.refresh_from_db()
    assert patient.preferred_name == "Patty"
    assert patient.consents_marketing is True and patient.consents_marketing_at is not None
    assert (patient.legal_last_name, patient.date_of_birth) == ("Portal", date(1985, 6, 15))
    assert patient.is_active is True and patient.notes == ""
    assert AuditEvent.objects.filter(
        action="patient.updated", patient_id=patient.pk, actor=patient_user
    ).exists()


def test_patient_put_is_not_allowed(api, patient_user, patient):
    response = api(patient_user).put("/api/v1/me/patient/", NEW_PATIENT, format="json")
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("field", "value"), [("mobile_phone", "12"), ("email", "nope"), ("preferred_language", "xx")]
)
def test_patient_bad_change_is_400_naming_the_field(api, patient_user, patient, field, value):
    before = Patient.objects.values().get(pk=patient.pk)

    response = api(patient_user).patch("/api/v1/me/patient/", {field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Patient.objects.values().get(pk=patient.pk) == before


def test_patient_submits_and_reads_own_history(
    api, patient_user, patient, other_patient_user, other_patient
):
    MedicalHistoryFactory(patient=other_patient)
    client = api(patient_user)

    submitted = client.post("/api/v1/me/medical-history/", HISTORY, format="json")
    again = client.post("/api/v1/me/medical-history/", HISTORY, format="json")

    assert submitted.status_code == 201, submitted.json()
    assert (submitted.json()["version"], submitted.json()["source"]) == (1, "portal")
    assert again.json()["version"] == 2
    mine = client.get("/api/v1/me/medical-history/").json()["results"]
    assert [h["version"] for h in mine] == [2, 1]
    assert {h["id"] for h in mine} == set(patient.medical_histories.values_list("id", flat=True))
    theirs = api(other_patient_user).get("/api/v1/me/medical-history/").json()["results"]
    assert [h["id"] for h in theirs] == [other_patient.medical_histories.get().pk]


def test_patient_bad_history_is_400(api, patient_user, patient):
    response = api(patient_user).post(
        "/api/v1/me/medical-history/", {**HISTORY, "height_cm": "260"}, format="json"
    )

    assert response.status_code == 400
    assert "height_cm" in response.json()
    assert not MedicalHistory.objects.exists()


def test_patient_lists_and_withdraws_only_their_own_consents(
    api, patient_user, patient, other_patient_user, other_patient, signed, template, manager
):
    theirs = services.consent_sign(
        actor=manager,
        patient=other_patient,
        template=template,
        signed_name="Olga Other",
        signature=signature_data_url(),
        via="desk",
    )
    client = api(patient_user)

    listed = client.get("/api/v1/me/consents/")
    assert [c["id"] for c in listed.json()["results"]] == [signed.pk]

    other = client.post(f"/api/v1/me/consents/{theirs.pk}/withdraw/", {}, format="json")
    assert other.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_valid

    mine = client.post(
        f"/api/v1/me/consents/{signed.pk}/withdraw/", {"reason": "No longer"}, format="json"
    )
    assert mine.status_code == 200
    assert mine.json()["withdrawn_at"] is not None
    signed.refresh_from_db()
    assert signed.withdrawn_by == patient_user
    assert client.post(f"/api/v1/me/consents/{signed.pk}/withdraw/", {}).status_code == 409
