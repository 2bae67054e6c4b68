"""Behaviour of the patients services: every write, on a real PostgreSQL database."""

import base64
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, User
from clinic.roles import Role
from patients import services
from patients.models import (
    AlertAcknowledgement,
    Allergy,
    ConsentKind,
    ConsentSignature,
    ConsentTemplate,
    IntakeInvitation,
    MedicalHistory,
    Medication,
    Patient,
    Sex,
)
from patients.services import (
    PORTAL_EDITABLE_FIELDS,
    DuplicatePatientError,
    alert_acknowledge,
    consent_sign,
    consent_template_publish,
    consent_withdraw,
    intake_invitation_accept,
    intake_invitation_send,
    medical_history_submit,
    patient_create,
    patient_update,
)
from tests.factories import ConsentTemplateFactory, PatientFactory, signature_data_url

pytestmark = pytest.mark.django_db

BASE_URL = "https://clinic.example"
STRONG_PASSWORD = "Lavender-Harbour-Quilt-42"
A_WHILE_AGO = datetime(2020, 1, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def years_ago(years):
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def zoe_data(**overrides):
    return {
        "legal_first_name": "Zoé",
        "legal_last_name": "Dubois",
        "date_of_birth": date(1990, 5, 17),
        "sex": Sex.FEMALE,
        "email": "zoe.dubois@example.com",
        "mobile_phone": "+12125551001",
        **overrides,
    }


def events(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


# --- patient_create -------------------------------------------------------------------------


def test_patient_create_stores_mobile_phone_in_e164(front_desk):
    patient = patient_create(actor=front_desk, data=zoe_data(mobile_phone="(212) 555-1001"))

    stored = Patient.objects.get(pk=patient.pk)
    assert str(stored.mobile_phone) == "+12125551001"
    assert stored.phone_digits == "12125551001"
    assert stored.legal_first_name == "Zoé"
    assert stored.search_name == "zoe dubois"


def test_patient_create_stamps_the_communication_consents_given(front_desk):
    before = timezone.now()
    patient = patient_create(
        actor=front_desk,
        data=zoe_data(consents_email_reminders=True, consents_sms_reminders=True),
    )

    patient.refresh_from_db()
    assert patient.consents_email_reminders is True
    assert patient.consents_sms_reminders is True
    assert patient.consents_marketing is False
    assert before <= patient.consents_email_reminders_at <= timezone.now()
    assert before <= patient.consents_sms_reminders_at <= timezone.now()


def test_patient_create_records_an_audit_event(front_desk):
    patient = patient_create(actor=front_desk, data=zoe_data())

    event = events("patient.created").get()
    assert event.patient_id == patient.pk
    assert event.actor == front_desk
    assert event.object_type == "patients.patient"
    assert event.object_id == str(patient.pk)
    assert event.detail == {"forced_despite_duplicates": False}


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {
                "legal_first_name": "Zoe",
                "legal_last_name": "DUBOIS",
                "email": "",
                "mobile_phone": "",
            },
            id="same-name-and-birth-date-without-accent-in-capitals",
        ),
        pytest.param(
            {"legal_first_name": "Chloé", "email": "", "mobile_phone": "212.555.1001"},
            id="same-phone-in-another-format",
        ),
        pytest.param(
            {"legal_first_name": "Chloé", "email": "ZOE.Dubois@Example.COM", "mobile_phone": ""},
            id="same-email-in-other-case",
        ),
    ],
)
def test_patient_create_refuses_a_likely_duplicate(front_desk, overrides):
    existing = patient_create(actor=front_desk, data=zoe_data())

    with pytest.raises(DuplicatePatientError) as raised:
        patient_create(actor=front_desk, data=zoe_data(**overrides))

    error = raised.value
    assert isinstance(error, ConflictError)
    assert error.status_code == 409
    assert error.candidates == [existing]
    assert [c["id"] for c in error.extra["candidates"]] == [existing.pk]
    assert error.extra["candidates"][0]["date_of_birth"] == "1990-05-17"
    assert Patient.objects.count() == 1


def test_patient_create_same_name_with_another_birth_date_is_not_a_duplicate(front_desk):
    patient_create(actor=front_desk, data=zoe_data())

    patient_create(
        actor=front_desk,
        data=zoe_data(date_of_birth=date(1991, 5, 17), email="", mobile_phone=""),
    )

    assert Patient.objects.count() == 2


def test_patient_create_with_force_registers_the_duplicate_anyway(front_desk):
    patient_create(actor=front_desk, data=zoe_data())

    twin = patient_create(actor=front_desk, data=zoe_data(), force=True)

    assert Patient.objects.count() == 2
    assert events("patient.created", patient_id=twin.pk).get().detail == {
        "forced_despite_duplicates": True
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile_phone", "12345"),
        ("mobile_phone", "not a phone"),
        ("date_of_birth", timezone.localdate() + timedelta(days=1)),
        ("date_of_birth", years_ago(121)),
    ],
)
def test_patient_create_rejects_invalid_input_and_writes_nothing(front_desk, field, value):
    with pytest.raises(ValidationError) as raised:
        patient_create(actor=front_desk, data=zoe_data(**{field: value}))

    assert field in raised.value.message_dict
    assert not Patient.objects.exists()
    assert not events("patient.created").exists()


def test_patient_create_rejects_a_birth_date_just_over_120_years_ago(front_desk):
    # The limit is today 120 years ago, not the start of that month.
    just_over = years_ago(120) - timedelta(days=1)

    with pytest.raises(ValidationError) as raised:
        patient_create(actor=front_desk, data=zoe_data(date_of_birth=just_over))

    assert "date_of_birth" in raised.value.message_dict


def test_patient_create_accepts_a_birth_date_today(front_desk):
    patient = patient_create(
        actor=front_desk,
        data=zoe_data(date_of_birth=timezone.localdate(), email="", mobile_phone=""),
    )

    assert patient.pk is not None


# --- patient_update -------------------------------------------------------------------------


@pytest.fixture
def zoe(front_desk):
    return patient_create(actor=front_desk, data=zoe_data(consents_email_reminders=True))


def test_patient_update_saves_and_audits_the_changed_fields(front_desk, zoe):
    patient_update(
        actor=front_desk,
        patient=zoe,
        data={"city": "Lyon", "preferred_name": "Zo", "legal_last_name": "Dubois"},
    )

    zoe.refresh_from_db()
    assert (zoe.city, zoe.preferred_name) == ("Lyon", "Zo")
    event = events("patient.updated").get()
    assert event.patient_id == zoe.pk
    assert event.actor == front_desk
    assert event.detail == {"fields": ["city", "preferred_name"]}


def test_patient_update_without_a_change_writes_no_audit_event(front_desk, zoe):
    patient_update(
        actor=front_desk,
        patient=zoe,
        data={"legal_first_name": "Zoé", "mobile_phone": "(212) 555-1001"},
    )

    assert not events("patient.updated").exists()


def test_patient_update_stamps_only_the_consents_that_changed(front_desk, zoe):
    Patient.objects.filter(pk=zoe.pk).update(
        consents_email_reminders_at=A_WHILE_AGO,
        consents_sms_reminders_at=A_WHILE_AGO,
        consents_marketing_at=A_WHILE_AGO,
    )
    before = timezone.now()

    patient_update(actor=front_desk, patient=zoe, data={"consents_sms_reminders": True})

    zoe.refresh_from_db()
    assert zoe.consents_sms_reminders is True
    assert zoe.consents_sms_reminders_at >= before
    assert zoe.consents_email_reminders is True
    assert zoe.consents_email_reminders_at == A_WHILE_AGO
    assert zoe.consents_marketing_at == A_WHILE_AGO


def test_patient_update_stamps_a_withdrawn_consent(front_desk, zoe):
    Patient.objects.filter(pk=zoe.pk).update(consents_email_reminders_at=A_WHILE_AGO)
    before = timezone.now()

    patient_update(actor=front_desk, patient=zoe, data={"consents_email_reminders": False})

    zoe.refresh_from_db()
    assert zoe.consents_email_reminders is False
    assert zoe.consents_email_reminders_at >= before


def test_patient_update_from_the_portal_ignores_legal_names_and_birth_date(patient_user, zoe):
    patient_update(
        actor=patient_user,
        patient=zoe,
        data={
            "legal_first_name": "Zoey",
            "legal_last_name": "Smith",
            "date_of_birth": date(2000, 1, 1),
            "sex": Sex.MALE,
            "notes": "I am very nice",
            "city": "Lyon",
        },
        allowed_fields=PORTAL_EDITABLE_FIELDS,
    )

    zoe.refresh_from_db()
    assert (zoe.legal_first_name, zoe.legal_last_name) == ("Zoé", "Dubois")
    assert zoe.date_of_birth == date(1990, 5, 17)
    assert zoe.sex == Sex.FEMALE
    assert zoe.notes == ""
    assert zoe.city == "Lyon"
    assert events("patient.updated").get().detail == {"fields": ["city"]}


def test_patient_update_from_the_portal_cannot_archive_the_record(patient_user, zoe):
    # Archiving is for staff; the portal's allowed fields must not include it.
    patient_update(
        actor=patient_user,
        patient=zoe,
        data={"is_active": False},
        allowed_fields=PORTAL_EDITABLE_FIELDS,
    )

    zoe.refresh_from_db()
    assert zoe.is_active is True


def test_patient_update_rejects_an_invalid_phone_and_keeps_the_old_one(front_desk, zoe):
    with pytest.raises(ValidationError) as raised:
        patient_update(actor=front_desk, patient=zoe, data={"mobile_phone": "12345"})

    assert "mobile_phone" in raised.value.message_dict
    zoe.refresh_from_db()
    assert str(zoe.mobile_phone) == "+12125551001"
    assert not events("patient.updated").exists()


# --- medical_history_submit -----------------------------------------------------------------

ALLERGIES = [
    {"substance": "Lidocaine", "reaction": "Hives", "severity": "severe"},
    {"substance": "Latex", "severity": "mild"},
    {"substance": ""},  # an empty row of the form is skipped
]
MEDICATIONS = [
    {"name": "Warfarin", "dose": "5 mg", "is_anticoagulant": True},
    {"name": "Vitamin D"},
]


def submit(actor, patient, source="clinic", allergies=(), medications=(), **data):
    return medical_history_submit(
        actor=actor,
        patient=patient,
        data=data,
        allergies=allergies,
        medications=medications,
        source=source,
    )


def test_medical_history_versions_are_consecutive(practitioner_user, zoe):
    versions = [submit(practitioner_user, zoe, weight_kg=60 + n).version for n in range(3)]

    assert versions == [1, 2, 3]
    assert list(zoe.medical_histories.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
        3,
    ]


def test_medical_history_new_version_leaves_older_versions_unchanged(practitioner_user, zoe):
    first = submit(practitioner_user, zoe, weight_kg=60, diabetes=True, allergies=ALLERGIES[:1])

    submit(practitioner_user, zoe, weight_kg=65, diabetes=False)

    first.refresh_from_db()
    assert first.version == 1
    assert first.weight_kg == 60
    assert first.diabetes is True
    assert [a.substance for a in first.allergies.all()] == ["Lidocaine"]


def test_medical_history_saves_allergies_and_medications(practitioner_user, zoe):
    history = submit(
        practitioner_user,
        zoe,
        height_cm="168.5",
        weight_kg=62,
        goals=["cellulite"],
        allergies=ALLERGIES,
        medications=MEDICATIONS,
    )

    history = MedicalHistory.objects.get(pk=history.pk)
    assert history.submitted_by == practitioner_user
    assert history.source == MedicalHistory.Source.CLINIC
    assert str(history.height_cm) == "168.5"
    assert history.goals == ["cellulite"]
    assert list(history.allergies.values_list("substance", "reaction", "severity")) == [
        ("Lidocaine", "Hives", "severe"),
        ("Latex", "", "mild"),
    ]
    assert list(history.medications.values_list("name", "dose", "is_anticoagulant")) == [
        ("Warfarin", "5 mg", True),
        ("Vitamin D", "", False),
    ]
    event = events("medical_history.submitted").get()
    assert event.patient_id == zoe.pk
    assert event.detail == {"version": 1, "source": "clinic"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("height_cm", 49), ("height_cm", 251), ("weight_kg", 19), ("weight_kg", 351)],
)
def test_medical_history_out_of_range_measure_saves_nothing(practitioner_user, zoe, field, value):
    submit(practitioner_user, zoe)

    with pytest.raises(ValidationError) as raised:
        submit(
            practitioner_user,
            zoe,
            allergies=ALLERGIES,
            medications=MEDICATIONS,
            **{field: value},
        )

    assert field in raised.value.message_dict
    assert list(MedicalHistory.objects.values_list("version", flat=True)) == [1]
    assert not Allergy.objects.exists()
    assert not Medication.objects.exists()


def test_medical_history_invalid_allergy_rolls_back_the_whole_version(practitioner_user, zoe):
    with pytest.raises(ValidationError) as raised:
        submit(practitioner_user, zoe, allergies=[{"substance": "Latex", "severity": "deadly"}])

    assert "severity" in raised.value.message_dict
    assert not MedicalHistory.objects.exists()
    assert not Allergy.objects.exists()
    assert not events("medical_history.submitted").exists()


# --- intake completion ----------------------------------------------------------------------


@pytest.fixture
def intake_templates(db):
    """Two texts asked for at intake, and one that is not."""
    return [
        ConsentTemplateFactory(kind=ConsentKind.TREATMENT),
        ConsentTemplateFactory(kind=ConsentKind.PHOTOGRAPHS),
        ConsentTemplateFactory(kind=ConsentKind.MARKETING_PHOTOS, required_for_intake=False),
    ]


@pytest.fixture
def portal_zoe(zoe, patient_user):
    Patient.objects.filter(pk=zoe.pk).update(portal_user=patient_user)
    zoe.refresh_from_db()
    return zoe


def portal_sign(patient, template):
    return consent_sign(
        actor=patient.portal_user,
        patient=patient,
        template=template,
        signed_name=patient.full_name,
        signature=signature_data_url(),
        via="portal",
    )


def intake_completed_at(patient):
    return Patient.objects.values_list("intake_completed_at", flat=True).get(pk=patient.pk)


def test_intake_completes_when_history_and_every_required_consent_are_in(
    portal_zoe, intake_templates
):
    treatment, photographs, _marketing = intake_templates

    submit(portal_zoe.portal_user, portal_zoe, source="portal")
    assert intake_completed_at(portal_zoe) is None

    portal_sign(portal_zoe, treatment)
    assert intake_completed_at(portal_zoe) is None

    portal_sign(portal_zoe, photographs)
    assert intake_completed_at(portal_zoe) is not None
    assert events("intake.completed", patient_id=portal_zoe.pk).count() == 1


def test_intake_completes_on_the_portal_history_after_the_consents(portal_zoe, intake_templates):
    treatment, photographs, _marketing = intake_templates
    portal_sign(portal_zoe, treatment)
    portal_sign(portal_zoe, photographs)
    assert intake_completed_at(portal_zoe) is None  # no medical history yet

    submit(portal_zoe.portal_user, portal_zoe, source="portal")

    assert intake_completed_at(portal_zoe) is not None


def test_intake_is_not_complete_with_a_withdrawn_consent(portal_zoe, intake_templates, front_desk):
    treatment, photographs, _marketing = intake_templates
    portal_sign(portal_zoe, treatment)
    consent_withdraw(actor=front_desk, signature=portal_sign(portal_zoe, photographs))

    submit(portal_zoe.portal_user, portal_zoe, source="portal")

    assert intake_completed_at(portal_zoe) is None


# --- alert_acknowledge ----------------------------------------------------------------------


@pytest.fixture
def zoe_with_alerts(practitioner_user, zoe):
    submit(
        practitioner_user,
        zoe,
        pregnant_or_breastfeeding=True,
        allergies=ALLERGIES,
        medications=MEDICATIONS,
    )
    return zoe


def test_alert_acknowledge_stores_the_note_and_who(practitioner_user, zoe_with_alerts):
    ack = alert_acknowledge(
        actor=practitioner_user,
        patient=zoe_with_alerts,
        alert_key="allergy:lidocaine",
        note="  Use articaine instead.  ",
    )

    ack = AlertAcknowledgement.objects.get(pk=ack.pk)
    assert ack.note == "Use articaine instead."
    assert ack.acknowledged_by == practitioner_user
    assert ack.history.version == 1
    assert ack.patient == zoe_with_alerts
    event = events("alert.acknowledged").get()
    assert event.patient_id == zoe_with_alerts.pk
    assert event.detail == {"alert": "allergy:lidocaine"}


def test_alert_acknowledged_twice_is_a_conflict(practitioner_user, zoe_with_alerts):
    key = "medication:warfarin"
    alert_acknowledge(actor=practitioner_user, patient=zoe_with_alerts, alert_key=key, note="OK")

    with pytest.raises(ConflictError):
        alert_acknowledge(
            actor=practitioner_user, patient=zoe_with_alerts, alert_key=key, note="Again"
        )

    assert AlertAcknowledgement.objects.get().note == "OK"


@pytest.mark.parametrize("note", ["", "   ", None])
def test_alert_acknowledge_needs_a_note(practitioner_user, zoe_with_alerts, note):
    with pytest.raises(ApplicationError) as raised:
        alert_acknowledge(
            actor=practitioner_user,
            patient=zoe_with_alerts,
            alert_key="condition:pregnant_or_breastfeeding",
            note=note,
        )

    assert raised.value.field == "note"
    assert not AlertAcknowledgement.objects.exists()


def test_alert_acknowledge_refuses_an_alert_not_on_the_current_history(
    practitioner_user, zoe_with_alerts
):
    with pytest.raises(ApplicationError):
        alert_acknowledge(
            actor=practitioner_user,
            patient=zoe_with_alerts,
            alert_key="condition:diabetes",
            note="Checked",
        )

    assert not AlertAcknowledgement.objects.exists()


# --- consents ---------------------------------------------------------------------------------


@pytest.fixture
def treatment_consent(manager):
    return consent_template_publish(
        actor=manager,
        kind=ConsentKind.TREATMENT,
        title="Informed consent to mesotherapy",
        body="Version one of the text.",
    )


def desk_sign(actor, patient, template, **overrides):
    kwargs = {
        "actor": actor,
        "patient": patient,
        "template": template,
        "signed_name": "Zoé Dubois",
        "signature": signature_data_url(),
        "via": "desk",
        **overrides,
    }
    return consent_sign(**kwargs)


def test_consent_sign_stores_the_exact_version_name_and_where_it_was_signed(
    front_desk, zoe, treatment_consent
):
    request = RequestFactory().post(
        "/patients/consents/sign/",
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)",
    )

    signature = desk_sign(
        front_desk, zoe, treatment_consent, signed_name="  Zoé Dubois ", request=request
    )

    signature = ConsentSignature.objects.get(pk=signature.pk)
    assert signature.template == treatment_consent
    assert signature.template.version == treatment_consent.version
    assert signature.signed_name == "Zoé Dubois"
    assert signature.ip_address == "203.0.113.7"
    assert signature.user_agent == "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)"
    assert signature.signed_via == "desk"
    assert signature.collected_by == front_desk
    assert bytes(signature.signature_png).startswith(b"\x89PNG\r\n\x1a\n")
    assert signature.is_valid
    event = events("consent.signed").get()
    assert event.patient_id == zoe.pk
    assert event.detail == {
        "template": treatment_consent.pk,
        "kind": "treatment",
        "version": treatment_consent.version,
    }


def test_consent_sign_without_a_request_stores_no_ip(front_desk, zoe, treatment_consent):
    signature = desk_sign(front_desk, zoe, treatment_consent)

    assert signature.ip_address is None
    assert signature.user_agent == ""


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(signature_data_url(inked=False), id="blank-pad"),
        pytest.param("data:image/jpeg;base64,AAAA", id="not-png"),
        pytest.param("data:image/png;base64,***", id="not-base64"),
        pytest.param(
            "data:image/png;base64," + base64.b64encode(b"hello").decode(), id="not-an-image"
        ),
    ],
)
def test_consent_sign_needs_a_drawn_signature(front_desk, zoe, treatment_consent, signature):
    with pytest.raises(ApplicationError) as raised:
        desk_sign(front_desk, zoe, treatment_consent, signature=signature)

    assert raised.value.field == "signature"
    assert not ConsentSignature.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", None])
def test_consent_sign_needs_the_typed_name(front_desk, zoe, treatment_consent, name):
    with pytest.raises(ApplicationError) as raised:
        desk_sign(front_desk, zoe, treatment_consent, signed_name=name)

    assert raised.value.field == "signed_name"
    assert not ConsentSignature.objects.exists()


def test_consent_sign_on_a_replaced_text_is_a_conflict(front_desk, manager, zoe, treatment_consent):
    consent_template_publish(
        actor=manager, kind=ConsentKind.TREATMENT, title="Consent", body="Version two."
    )
    treatment_consent.refresh_from_db()

    with pytest.raises(ConflictError):
        desk_sign(front_desk, zoe, treatment_consent)

    assert not ConsentSignature.objects.exists()


def test_consent_signed_twice_is_a_conflict(front_desk, zoe, treatment_consent):
    desk_sign(front_desk, zoe, treatment_consent)

    with pytest.raises(ConflictError):
        desk_sign(front_desk, zoe, treatment_consent)

    assert ConsentSignature.objects.count() == 1


def test_consent_withdraw_keeps_the_signature_with_when_and_who(front_desk, zoe, treatment_consent):
    signature = desk_sign(front_desk, zoe, treatment_consent)
    before = timezone.now()

    consent_withdraw(actor=front_desk, signature=signature, reason="Changed her mind")

    signature = ConsentSignature.objects.get(pk=signature.pk)
    assert signature.withdrawn_at >= before
    assert signature.withdrawn_by == front_desk
    assert signature.withdrawal_reason == "Changed her mind"
    assert not signature.is_valid
    assert bytes(signature.signature_png).startswith(b"\x89PNG")
    assert events("consent.withdrawn", patient_id=zoe.pk).count() == 1


def test_consent_withdrawn_twice_is_a_conflict(front_desk, zoe, treatment_consent):
    signature = desk_sign(front_desk, zoe, treatment_consent)
    consent_withdraw(actor=front_desk, signature=signature)
    first_withdrawal = ConsentSignature.objects.get(pk=signature.pk).withdrawn_at

    with pytest.raises(ConflictError):
        consent_withdraw(actor=front_desk, signature=signature)

    assert ConsentSignature.objects.get(pk=signature.pk).withdrawn_at == first_withdrawal


def test_consent_can_be_signed_again_after_a_withdrawal(front_desk, zoe, treatment_consent):
    consent_withdraw(actor=front_desk, signature=desk_sign(front_desk, zoe, treatment_consent))

    desk_sign(front_desk, zoe, treatment_consent)

    assert ConsentSignature.objects.filter(withdrawn_at=None).count() == 1
    assert ConsentSignature.objects.count() == 2


def test_consent_template_publish_replaces_the_current_version(
    front_desk, manager, zoe, treatment_consent
):
    old_signature = desk_sign(front_desk, zoe, treatment_consent)

    new = consent_template_publish(
        actor=manager, kind=ConsentKind.TREATMENT, title="Consent v2", body="Version two."
    )

    assert new.version == treatment_consent.version + 1
    assert new.is_current
    assert list(ConsentTemplate.objects.filter(kind=ConsentKind.TREATMENT, is_current=True)) == [
        new
    ]
    old_signature = ConsentSignature.objects.select_related("template").get(pk=old_signature.pk)
    assert old_signature.template == treatment_consent
    assert old_signature.template.version == treatment_consent.version
    assert old_signature.template.body == "Version one of the text."
    assert not old_signature.template.is_current
    assert events("consent_template.published").count() == 2


def test_consent_template_publish_numbers_each_kind_separately(manager, treatment_consent):
    photos_before = ConsentTemplate.objects.get(kind=ConsentKind.PHOTOGRAPHS, is_current=True)

    photos = consent_template_publish(
        actor=manager, kind=ConsentKind.PHOTOGRAPHS, title="Photographs", body="Photos."
    )

    assert photos.version == photos_before.version + 1
    treatment_consent.refresh_from_db()
    assert treatment_consent.is_current


# --- intake invitation ----------------------------------------------------------------------


def send_invitation(actor, patient, capture):
    with capture(execute=True):
        return intake_invitation_send(actor=actor, patient=patient, base_url=BASE_URL)


def link_in(message):
    match = re.search(re.escape(BASE_URL) + r"/\S+", message.body)
    assert match, message.body
    return match.group(0)


def token_in(message):
    match = resolve(urlsplit(link_in(message)).path)
    assert match.view_name == "patients:intake_accept"
    return (match.args or tuple(match.kwargs.values()))[0]


def test_intake_invitation_needs_an_email(
    front_desk, mailoutbox, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email="")

    with pytest.raises(ApplicationError) as raised:
        send_invitation(front_desk, patient, django_capture_on_commit_callbacks)

    assert raised.value.field == "email"
    assert not IntakeInvitation.objects.exists()
    assert mailoutbox == []


def test_intake_invitation_emails_one_link(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["zoe.dubois@example.com"]
    assert link_in(message).startswith(BASE_URL + "/")
    assert token_in(message)
    invitation.refresh_from_db()
    assert invitation.is_pending
    assert invitation.created_by == front_desk
    assert events("intake_invitation.sent", patient_id=zoe.pk).count() == 1


def test_intake_invitation_email_waits_for_the_commit(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        intake_invitation_send(actor=front_desk, patient=zoe, base_url=BASE_URL)

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_intake_invitation_sent_again_revokes_the_first_link(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    first = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    second = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at is not None
    assert second.is_pending
    assert len(mailoutbox) == 2
    with pytest.raises(ApplicationError):
        intake_invitation_accept(token=token_in(mailoutbox[0]), password=STRONG_PASSWORD)
    assert intake_invitation_accept(token=token_in(mailoutbox[1]), password=STRONG_PASSWORD)


def test_intake_invitation_accept_creates_a_linked_patient_account(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)

    user = intake_invitation_accept(token=token_in(mailoutbox[0]), password=STRONG_PASSWORD)

    user = User.objects.get(pk=user.pk)
    assert user.email == "zoe.dubois@example.com"
    assert user.role == Role.PATIENT
    assert user.is_active
    assert user.check_password(STRONG_PASSWORD)
    zoe.refresh_from_db()
    assert zoe.portal_user == user
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    assert events("intake_invitation.accepted", patient_id=zoe.pk, actor=user).count() == 1


def test_intake_invitation_link_works_only_once(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    token = token_in(mailoutbox[0])
    intake_invitation_accept(token=token, password=STRONG_PASSWORD)

    with pytest.raises(ApplicationError):
        intake_invitation_accept(token=token, password="Another-Strong-Passphrase-7")

    assert User.objects.get(email="zoe.dubois@example.com").check_password(STRONG_PASSWORD)


def test_intake_invitation_expired_link_is_refused(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    invitation = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    IntakeInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(ApplicationError):
        intake_invitation_accept(token=token_in(mailoutbox[0]), password=STRONG_PASSWORD)

    assert not User.objects.filter(email="zoe.dubois@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_intake_invitation_tampered_link_is_refused(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks
):
    send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    token = token_in(mailoutbox[0])
    tampered = ("x" if token[0] != "x" else "y") + token[1:]

    with pytest.raises(ApplicationError):
        intake_invitation_accept(token=tampered, password=STRONG_PASSWORD)

    assert zoe.intake_invitations.get().used_at is None


def test_intake_invitation_forged_token_with_a_guessed_nonce_is_refused(
    front_desk, zoe, django_capture_on_commit_callbacks
):
    invitation = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    forged = signing.dumps({"i": invitation.pk, "n": "guess"}, salt=services.INVITATION_SALT)

    with pytest.raises(ApplicationError):
        intake_invitation_accept(token=forged, password=STRONG_PASSWORD)

    invitation.refresh_from_db()
    assert invitation.used_at is None


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "zoe.dubois"])
def test_intake_invitation_weak_password_is_refused_and_link_stays_usable(
    front_desk, zoe, mailoutbox, django_capture_on_commit_callbacks, password
):
    invitation = send_invitation(front_desk, zoe, django_capture_on_commit_callbacks)
    token = token_in(mailoutbox[0])

    with pytest.raises(ApplicationError) as raised:
        intake_invitation_accept(token=token, password=password)

    assert raised.value.field == "password"
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert not User.objects.filter(email="zoe.dubois@example.com").exists()
    assert intake_invitation_accept(token=token, password=STRONG_PASSWORD)


def test_intake_invitation_for_an_email_of_a_staff_account_is_a_conflict(
    front_desk, mailoutbox, django_capture_on_commit_callbacks
):
    patient = PatientFactory(email=front_desk.email)
    send_invitation(front_desk, patient, django_capture_on_commit_callbacks)

    with pytest.raises(ConflictError):
        intake_invitation_accept(token=token_in(mailoutbox[0]), password=STRONG_PASSWORD)

    front_desk.refresh_from_db()
    assert front_desk.role == Role.FRONT_DESK
    patient.refresh_from_db()
    assert patient.portal_user is None
