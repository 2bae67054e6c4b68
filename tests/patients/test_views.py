from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from patients import services
from patients.models import ConsentTemplate, IntakeInvitation, MedicalHistory, Patient
from tests.factories import PatientFactory, signature_data_url

pytestmark = pytest.mark.django_db

NEW_PATIENT = {
    "legal_first_name": "Zoé",
    "legal_last_name": "Dubois",
    "date_of_birth": "1990-05-17",
    "sex": "female",
    "email": "zoe@example.com",
    "mobile_phone": "(212) 555-0199",
    "preferred_language": "en",
}


def history_post(**overrides):
    data = {
        "allergies-TOTAL_FORMS": "2",
        "allergies-INITIAL_FORMS": "0",
        "allergies-0-substance": "Lidocaine",
        "allergies-0-reaction": "Hives",
        "allergies-0-severity": "severe",
        "medications-TOTAL_FORMS": "1",
        "medications-INITIAL_FORMS": "0",
        "medications-0-name": "Warfarin",
        "medications-0-is_anticoagulant": "on",
        "height_cm": "168",
        "weight_kg": "61.5",
        "goals": ["cellulite"],
    }
    data.update(overrides)
    return data


def test_front_desk_registers_a_patient_with_the_phone_in_e164(client_for, front_desk):
    response = client_for(front_desk).post(reverse("patients:create"), NEW_PATIENT)
    patient = Patient.objects.get(email="zoe@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:chart", args=[patient.pk])
    assert str(patient.mobile_phone) == "+12125550199"
    assert AuditEvent.objects.filter(action="patient.created", patient_id=patient.pk).exists()


def test_registering_a_likely_duplicate_needs_create_anyway(client_for, front_desk):
    client = client_for(front_desk)
    client.post(reverse("patients:create"), NEW_PATIENT)
    again = {**NEW_PATIENT, "legal_first_name": "ZOE", "email": "", "mobile_phone": ""}
    response = client.post(reverse("patients:create"), again)
    assert response.status_code == 409
    assert b"This patient may already be registered" in response.content
    assert b"Create anyway" in response.content
    assert Patient.objects.count() == 1
    # The entries are still in the form.
    assert b'value="ZOE"' in response.content
    response = client.post(reverse("patients:create"), {**again, "force": "1"})
    assert response.status_code == 302
    assert Patient.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mobile_phone", "12", b"Enter a valid phone number"),
        ("email", "not-an-email", b"Enter a valid email address"),
        ("date_of_birth", "2999-01-01", b"cannot be in the future"),
        ("date_of_birth", "1890-01-01", b"more than 120 years ago"),
    ],
)
def test_bad_registration_input_is_shown_at_the_field_and_entries_are_kept(
    client_for, front_desk, field, value, message
):
    response = client_for(front_desk).post(
        reverse("patients:create"), {**NEW_PATIENT, field: value}
    )
    assert response.status_code == 400
    assert message in response.content
    assert b'value="Dubois"' in response.content
    assert not Patient.objects.exists()


def test_practitioner_cannot_register_or_edit_patients(client_for, practitioner_user):
    patient = PatientFactory()
    client = client_for(practitioner_user)
    assert client.get(reverse("patients:create")).status_code == 403
    assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 403


def test_practitioner_sees_the_allergy_banner_and_history_on_the_chart(
    client_for, practitioner_user
):
    patient = PatientFactory()
    client = client_for(practitioner_user)
    response = client.post(reverse("patients:history_new", args=[patient.pk]), history_post())
    assert response.status_code == 302
    chart = client.get(reverse("patients:chart", args=[patient.pk]))
    html = chart.content.decode()
    assert 'data-testid="alerts-banner"' in html
    assert "Allergy: Lidocaine" in html
    assert "Takes Warfarin (anticoagulant)" in html
    assert AuditEvent.objects.filter(action="patient.chart_viewed", patient_id=patient.pk).exists()


def test_front_desk_sees_the_chart_without_medical_history(
    client_for, front_desk, practitioner_user
):
    patient = PatientFactory()
    services.medical_history_submit(
        actor=practitioner_user,
        patient=patient,
        data={"height_cm": 170},
        allergies=[{"substance": "Latex", "severity": "mild"}],
        source=MedicalHistory.Source.CLINIC,
    )
    client = client_for(front_desk)
    html = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Latex" not in html
    assert "Medical history" not in html
    assert client.get(reverse("patients:history_new", args=[patient.pk])).status_code == 403
    assert client.get(reverse("patients:history_detail", args=[patient.pk, 1])).status_code == 403


def test_history_with_an_impossible_weight_keeps_every_entry(client_for, practitioner_user):
    patient = PatientFactory()
    response = client_for(practitioner_user).post(
        reverse("patients:history_new", args=[patient.pk]), history_post(weight_kg="900")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Weight must be between 20 and 350 kg." in html
    assert 'value="Lidocaine"' in html
    assert not MedicalHistory.objects.filter(patient=patient).exists()


def test_allergy_without_severity_is_refused_at_the_row(client_for, practitioner_user):
    patient = PatientFactory()
    response = client_for(practitioner_user).post(
        reverse("patients:history_new", args=[patient.pk]),
        history_post(**{"allergies-0-severity": ""}),
    )
    assert response.status_code == 400
    assert b"Say how severe the reaction is." in response.content


def test_practitioner_acknowledges_an_alert_with_a_note(client_for, practitioner_user):
    patient = PatientFactory()
    client = client_for(practitioner_user)
    client.post(reverse("patients:history_new", args=[patient.pk]), history_post())
    response = client.post(
        reverse("patients:alert_acknowledge", args=[patient.pk]),
        {"alert_key": "allergy:lidocaine", "note": "Use articaine-free mixture, no lidocaine"},
        follow=True,
    )
    assert b"Acknowledged by" in response.content
    assert b"no lidocaine" in response.content


def test_front_desk_collects_a_signature_at_the_desk(client_for, front_desk):
    patient = PatientFactory()
    template = ConsentTemplate.objects.get(kind="treatment", is_current=True)
    client = client_for(front_desk)
    url = reverse("patients:consent_sign", args=[patient.pk, template.pk])
    missing = client.post(url, {"signed_name": "Alice Example", "agree": "on", "signature": ""})
    assert missing.status_code == 400
    assert b"Please sign in the box." in missing.content
    assert b'value="Alice Example"' in missing.content
    ok = client.post(
        url,
        {"signed_name": "Alice Example", "agree": "on", "signature": signature_data_url()},
        HTTP_USER_AGENT="Tablet",
    )
    assert ok.status_code == 302
    signature = patient.consents.get()
    assert (signature.template, signature.signed_via, signature.user_agent) == (
        template,
        "desk",
        "Tablet",
    )
    assert signature.collected_by == front_desk
    image = client.get(reverse("patients:consent_signature_image", args=[signature.pk]))
    assert image["Content-Type"] == "image/png"
    assert "no-store" in image["Cache-Control"]


def test_patient_list_search_finds_accented_names_in_a_fixed_number_of_queries(
    client_for, front_desk, django_assert_max_num_queries
):
    for i in range(40):
        PatientFactory(legal_last_name=f"Lefèvre{i}")
    PatientFactory(legal_first_name="Hélène", legal_last_name="Guérin")
    client = client_for(front_desk)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("patients:list"), {"q": "helene guerin"})
    assert "Guérin" in response.content.decode()
    with django_assert_max_num_queries(12):
        response = client.get(reverse("patients:list"))
    assert response.content.decode().count('href="/patients/') >= 25


def test_search_answers_htmx_with_only_the_rows(client_for, front_desk):
    PatientFactory(legal_first_name="Zoé", legal_last_name="Dubois")
    response = client_for(front_desk).get(
        reverse("patients:list"), {"q": "zoe"}, HTTP_HX_REQUEST="true"
    )
    assert b"<html" not in response.content
    assert "Dubois" in response.content.decode()


def _invite(client, patient, capture_on_commit):
    with capture_on_commit(execute=True):
        client.post(reverse("patients:intake_invite", args=[patient.pk]))
    body = mail.outbox[-1].body
    return next(line for line in body.splitlines() if "/intake/" in line).strip()


def test_intake_link_sets_a_password_once_and_leads_to_the_questionnaire(
    client, front_desk, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email="newcomer@example.com")
    client.force_login(front_desk)
    link = _invite(client, patient, django_capture_on_commit_callbacks)
    chart = client.get(reverse("patients:chart", args=[patient.pk]))
    assert b"Intake invitation sent" in chart.content
    client.logout()
    path = link[link.index("/intake/") :]
    assert client.get(path).status_code == 200
    weak = client.post(path, {"password1": "123", "password2": "123"})
    assert weak.status_code == 400
    response = client.post(path, {"password1": "a-good-pass-2026", "password2": "a-good-pass-2026"})
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:portal_history")
    patient.refresh_from_db()
    assert patient.portal_user.email == "newcomer@example.com"
    client.logout()
    reused = client.get(path)
    assert reused.status_code == 410
    assert b"already been used" in reused.content


def test_expired_intake_link_is_refused(client, front_desk, django_capture_on_commit_callbacks):
    patient = PatientFactory()
    client.force_login(front_desk)
    link = _invite(client, patient, django_capture_on_commit_callbacks)
    IntakeInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.logout()
    response = client.get(link[link.index("/intake/") :])
    assert response.status_code == 410
    assert b"expired" in response.content


def test_patient_portal_shows_and_edits_only_their_own_record(
    client_for, patient_user, other_patient_user
):
    mine = PatientFactory(portal_user=patient_user, legal_first_name="Mine")
    theirs = PatientFactory(portal_user=other_patient_user, legal_first_name="Theirs")
    client = client_for(patient_user)
    page = client.get(reverse("patients:portal_details"))
    assert b"Mine" in page.content and b"Theirs" not in page.content
    response = client.post(
        reverse("patients:portal_details"),
        {"email": "mine@example.com", "mobile_phone": "+12125559999", "preferred_language": "fr"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.email, mine.preferred_language) == ("mine@example.com", "fr")
    assert theirs.email != "mine@example.com"
    assert client.get(reverse("patients:chart", args=[theirs.pk])).status_code == 403


def test_patient_cannot_see_or_withdraw_another_patients_consent(
    client_for, patient_user, other_patient_user, front_desk
):
    PatientFactory(portal_user=patient_user)
    theirs = PatientFactory(portal_user=other_patient_user)
    signature = services.consent_sign(
        actor=front_desk,
        patient=theirs,
        template=ConsentTemplate.objects.get(kind="treatment", is_current=True),
        signed_name=theirs.full_name,
        signature=signature_data_url(),
        via="desk",
    )
    client = client_for(patient_user)
    image = reverse("patients:consent_signature_image", args=[signature.pk])
    assert client.get(image).status_code == 404
    withdraw = reverse("patients:portal_consent_withdraw", args=[signature.pk])
    assert client.post(withdraw).status_code == 404
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_portal_intake_completes_after_history_and_both_consents(client_for, patient_user):
    patient = PatientFactory(portal_user=patient_user)
    client = client_for(patient_user)
    response = client.post(reverse("patients:portal_history"), history_post())
    assert response["Location"] == reverse("patients:portal_consents")
    for template in ConsentTemplate.objects.filter(is_current=True, required_for_intake=True):
        client.post(
            reverse("patients:portal_consent_sign", args=[template.pk]),
            {"signed_name": patient.full_name, "agree": "on", "signature": signature_data_url()},
        )
    patient.refresh_from_db()
    assert patient.intake_completed_at is not None
    assert b"Your intake is complete" in client.get(reverse("patients:portal_consents")).content
