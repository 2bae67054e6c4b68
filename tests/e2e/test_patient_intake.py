"""Patient intake, end to end in the browser.

Front desk registers a patient (and is warned about a duplicate), emails the intake link; the
patient, on a phone, creates an account, fills in the health questionnaire and signs the
consents with a finger-drawn signature; the practitioner then sees the allergy alert on the
chart. A used link cannot be opened twice.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from patients import services
from patients.models import ConsentSignature, IntakeInvitation, MedicalHistory, Patient
from tests.e2e.pages import LAPTOP, PHONE, log_in
from tests.fixtures.people import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

FIRST_NAME = "Zoé"
LAST_NAME = "Lefèvre"
FULL_NAME = f"{FIRST_NAME} {LAST_NAME}"
BIRTH_DATE = "1991-04-23"
EMAIL = "zoe.lefevre@example.com"
PATIENT_PASSWORD = "Lilac-mesotherapy-2024"

TREATMENT_TITLE = "Informed consent to mesotherapy"
PHOTOS_TITLE = "Consent to clinical photographs"
TREATMENT_BODY = (
    "I consent to a course of mesotherapy: a series of small injections into the middle layer "
    "of the skin of the areas agreed with my practitioner, under topical anaesthetic only.\n\n"
    "My practitioner has explained the expected results, the usual number of sessions and the "
    "side effects: a sharp pinch during injection; bruising that may last up to a week; "
    "soreness for about 48 hours; mild swelling or rashes for a week or two; rarely "
    "inflammation or painful sores, which may mean stopping the course.\n\n"
    "I have told the clinic about my allergies, medicines (especially blood thinners), "
    "pregnancy or breastfeeding and health conditions. I may withdraw this consent at any time."
)
PHOTOS_BODY = (
    "I agree that the clinic photographs the treated areas before and during my treatment. "
    "The photographs are part of my confidential medical record, used only for my care, and "
    "are never shown publicly without my separate consent."
)


@pytest.fixture
def consent_templates(roles):
    # A transactional test's flush empties the templates made by the data migration.
    return [
        services.consent_template_publish(
            actor=None, kind="treatment", title=TREATMENT_TITLE, body=TREATMENT_BODY
        ),
        services.consent_template_publish(
            actor=None, kind="photographs", title=PHOTOS_TITLE, body=PHOTOS_BODY
        ),
    ]


def message(page, text):
    """The flash message (Bootstrap alert) containing ``text``."""
    return page.locator(".messages").get_by_role("alert").filter(has_text=text)


def fill_registration(page):
    page.get_by_label("Legal first name").fill(FIRST_NAME)
    page.get_by_label("Legal last name").fill(LAST_NAME)
    page.get_by_label("Date of birth").fill(BIRTH_DATE)
    page.get_by_label(re.compile(r"^Sex\b")).select_option(label="Female")
    page.get_by_label("Mobile phone").fill("(212) 555-0199")
    page.get_by_label("Email", exact=True).fill(EMAIL)


def draw_signature(page):
    """Scribble across the signature canvas with the mouse (pointer events, like a finger)."""
    canvas = page.locator("#signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + w * (0.1 + 0.08 * i), y + h * (0.3 if i % 2 else 0.7), steps=4)
    page.mouse.up()


def test_patient_intake_from_registration_to_the_practitioners_chart(
    new_page, screenshot, front_desk, practitioner_user, consent_templates
):
    # 1. Front desk registers the patient, on a laptop.
    desk = new_page(viewport=LAPTOP)
    log_in(desk, front_desk.email, PASSWORD)
    desk.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Patients"
    ).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Patients")
    desk.get_by_role("link", name="Register a patient").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Register a patient")
    fill_registration(desk)
    screenshot(desk, "intake-01-register")
    desk.get_by_role("button", name="Register patient").click()

    expect(desk).to_have_url(re.compile(r"/patients/\d+/$"))
    expect(message(desk, f"{FULL_NAME} is registered.")).to_be_visible()
    expect(desk.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    expect(desk.get_by_role("link", name="+1 212-555-0199")).to_be_visible()
    patient = Patient.objects.get()
    assert str(patient.mobile_phone) == "+12125550199"
    assert desk.url.endswith(f"/patients/{patient.pk}/")

    # The same person again: warned, the first record listed, nothing created.
    desk.get_by_role("link", name="Patients", exact=True).first.click()
    desk.get_by_role("link", name="Register a patient").click()
    fill_registration(desk)
    desk.get_by_role("button", name="Register patient").click()
    warning = desk.get_by_test_id("duplicates")
    expect(warning).to_contain_text("This patient may already be registered")
    expect(warning).to_contain_text(FULL_NAME)
    expect(warning.get_by_role("link", name="Open this record")).to_have_attribute(
        "href", f"/patients/{patient.pk}/"
    )
    expect(warning.get_by_role("button", name="Create anyway")).to_be_visible()
    expect(desk.get_by_label("Legal last name")).to_have_value(LAST_NAME)
    screenshot(desk, "intake-02-duplicate-warning")
    assert Patient.objects.count() == 1

    # 2. The existing record (opened from the warning): email the intake link.
    warning.get_by_role("link", name="Open this record").click()
    expect(desk).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    mail.outbox.clear()
    desk.get_by_role("button", name="Send intake invitation").click()
    expect(message(desk, f"Intake invitation sent to {EMAIL}.")).to_be_visible()
    expect(desk.get_by_test_id("intake-status")).to_contain_text("Intake invitation sent")
    screenshot(desk, "intake-02b-chart-invitation-sent")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://\S+/intake/[^/\s]+/", mail.outbox[0].body).group(0)

    # 3. The patient opens the link on a phone and sets a password.
    phone = new_page(viewport=PHONE)
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Welcome, {FIRST_NAME}")
    expect(phone.get_by_text(EMAIL)).to_be_visible()
    screenshot(phone, "intake-02c-phone-welcome")
    phone.get_by_label("Choose a password").fill(PATIENT_PASSWORD)
    phone.get_by_label("Repeat the password").fill(PATIENT_PASSWORD)
    phone.get_by_role("button", name="Create my account").click()

    # The health questionnaire.
    expect(phone).to_have_url(re.compile(r"/portal/me/history/$"))
    expect(message(phone, "Your account is ready")).to_be_visible()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your health questionnaire")
    allergy = phone.get_by_test_id("allergy-row").first
    allergy.get_by_label("Substance").fill("Lidocaine")
    allergy.get_by_label("Reaction").fill("Hives")
    allergy.get_by_label("Severity").select_option(label="Severe (anaphylaxis)")
    phone.get_by_label("Height (cm)").fill("168")
    phone.get_by_label("Weight (kg)").fill("900")
    screenshot(phone, "intake-03-phone-questionnaire")
    phone.get_by_role("button", name="Save and continue").click()

    # An impossible weight is refused; what was typed is kept.
    expect(phone.locator("#id_weight_kg_errors")).to_contain_text(
        "Weight must be between 20 and 350 kg."
    )
    expect(phone.get_by_label("Weight (kg)")).to_have_attribute("aria-invalid", "true")
    allergy = phone.get_by_test_id("allergy-row").first
    expect(allergy.get_by_label("Substance")).to_have_value("Lidocaine")
    expect(allergy.get_by_label("Reaction")).to_have_value("Hives")
    expect(allergy.get_by_label("Severity")).to_have_value("severe")
    expect(phone.get_by_label("Height (cm)")).to_have_value("168")
    screenshot(phone, "intake-03b-phone-questionnaire-error")
    assert not MedicalHistory.objects.exists()
    phone.get_by_label("Weight (kg)").fill("64.5")
    phone.get_by_role("button", name="Save and continue").click()

    # The consents: both required ones to sign.
    expect(phone).to_have_url(re.compile(r"/portal/me/consents/$"))
    expect(message(phone, "your health questionnaire is saved")).to_be_visible()
    expect(phone.get_by_test_id("intake-done")).to_have_count(0)
    for title in (TREATMENT_TITLE, PHOTOS_TITLE):
        phone.locator(".list-group-item").filter(has_text=title).get_by_role(
            "link", name="Read and sign"
        ).click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(title)
        phone.get_by_label("I have read and understood this text").check()
        phone.get_by_label("Type your full name").fill(FULL_NAME)
        if title == TREATMENT_TITLE:
            # Without drawing a signature: refused, the rest kept.
            phone.get_by_role("button", name="Sign", exact=True).click()
            expect(phone.locator("#id_signature_errors")).to_have_text("Please sign in the box.")
            expect(phone.get_by_label("Type your full name")).to_have_value(FULL_NAME)
            expect(phone.get_by_label("I have read and understood this text")).to_be_checked()
            screenshot(phone, "intake-04b-phone-sign-missing-signature")
            assert not ConsentSignature.objects.exists()
        draw_signature(phone)
        if title == TREATMENT_TITLE:
            screenshot(phone, "intake-04-phone-sign")
        phone.get_by_role("button", name="Sign", exact=True).click()
        expect(phone).to_have_url(re.compile(r"/portal/me/consents/$"))
        expect(message(phone, f"“{title}” is signed.")).to_be_visible()

    expect(phone.get_by_test_id("intake-done")).to_contain_text("Your intake is complete")
    screenshot(phone, "intake-05-phone-done")

    patient.refresh_from_db()
    assert patient.intake_completed_at is not None
    assert patient.portal_user.email == EMAIL
    history = MedicalHistory.objects.get(patient=patient)
    assert history.source == MedicalHistory.Source.PORTAL
    assert str(history.weight_kg) == "64.5"
    assert [(a.substance, a.reaction, a.severity) for a in history.allergies.all()] == [
        ("Lidocaine", "Hives", "severe")
    ]
    signatures = ConsentSignature.objects.filter(patient=patient, withdrawn_at=None)
    assert {s.template_id for s in signatures} == {t.pk for t in consent_templates}
    assert all(s.signature_png and s.signed_via == "portal" for s in signatures)

    # 5. The link works once: opened again (anyone, anywhere) it says it has been used.
    stranger = new_page(viewport=PHONE)
    response = stranger.goto(link)
    assert response.status == 410
    expect(stranger.get_by_test_id("link-reason")).to_contain_text("already been used")
    screenshot(stranger, "intake-07-phone-link-used")
    assert IntakeInvitation.objects.get(patient=patient).used_at is not None

    # 4. The practitioner finds the patient (no accents, any case) and sees the allergy alert.
    doc = new_page(viewport=LAPTOP)
    log_in(doc, practitioner_user.email, PASSWORD)
    doc.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Patients"
    ).click()
    doc.get_by_role("searchbox").fill("zoe LEFE")
    results = doc.locator("#patient-results")
    expect(results).to_contain_text("1 patient")
    results.get_by_role("link", name=f"{LAST_NAME}, {FIRST_NAME}").click()

    expect(doc.get_by_role("heading", level=1)).to_have_text(FULL_NAME)
    banner = doc.get_by_test_id("alerts-banner")
    expect(banner).to_contain_text("Lidocaine")
    expect(banner).to_contain_text("Hives")
    expect(banner).to_contain_text("high risk")
    consents = doc.locator("#consents")
    for title in (TREATMENT_TITLE, PHOTOS_TITLE):
        expect(
            consents.get_by_role("listitem").filter(has_text=title).get_by_test_id("consent-valid")
        ).to_contain_text("signed")
    expect(doc.get_by_test_id("intake-status")).to_contain_text("Intake completed")
    expect(doc.get_by_role("button", name="Send intake invitation")).to_have_count(0)
    screenshot(doc, "intake-06-chart-allergy-banner")
