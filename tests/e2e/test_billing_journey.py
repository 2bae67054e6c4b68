"""Checkout end to end in the browser (issue #7).

The session record of Zoé's visit is signed, which drafts the invoice. Front desk opens it
from today's list, issues it, takes a partial card payment (with the terminal's reference)
and the rest in cash, and prints the invoice and the receipt. Zoé then sees the invoice paid
on her phone in the portal and downloads the PDF.
"""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice, Payment
from consultations.models import Product, ProductLot
from sessions.services import course_book
from tests.clock import clinic_today
from tests.e2e.pages import LAPTOP, PHONE, log_in
from tests.factories import PatientFactory
from tests.fixtures.billing import make_prices, sign_session
from tests.fixtures.people import PASSWORD
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db(transaction=True)


def message(page, text):
    return page.locator(".messages").get_by_role("alert").filter(has_text=text)


@pytest.fixture
def visit(clinic_setup, manager, front_desk, patient_user, consultation_type):  # noqa: F811
    make_prices(manager, clinic_setup, consultation_type)
    patient = PatientFactory(
        legal_first_name="Zoé",
        legal_last_name="Dubois",
        portal_user=patient_user,
        intake_completed_at=timezone.now(),
    )
    product = Product.objects.create(name="Lipolytic blend", composition="PPC 5%")
    lot = ProductLot.objects.create(
        product=product, lot_number="L-77", expires_on=clinic_today() + timedelta(days=3 * 365)
    )
    today = timezone.localdate(timezone=NEW_YORK)
    start = datetime.combine(today, datetime.min.time()).replace(tzinfo=NEW_YORK) + timedelta(
        hours=10
    )
    course = course_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        starts=[start, start + timedelta(weeks=1)],
        interval_days=7,
        room=clinic_setup["room"],
        areas=["abdomen", "flanks"],
        allow_outside_hours=True,
    )
    first = course.appointments.order_by("starts_at").first()
    # 12 ml on the abdomen (large, 380.00) and 4 ml on the flanks (additional area, 100.00).
    sign_session(
        clinic_setup,
        front_desk,
        patient,
        [("abdomen", "12"), ("flanks", "4")],
        product=product,
        lot=lot,
        appointment=first,
    )
    return first


def test_front_desk_checks_out_a_session_and_the_patient_sees_it_paid(
    new_page, screenshot, visit, front_desk, patient_user
):
    page = new_page(viewport=LAPTOP)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, front_desk.email, PASSWORD)

    # 1. Today's list: the completed visit has its checkout; the invoice is a draft.
    page.goto("/today/")
    row = page.get_by_test_id("today-row").filter(has_text="Zoé Dubois")
    expect(row.get_by_test_id("payment-state")).to_have_text(re.compile("To invoice"))
    screenshot(page, "billing-01-today")
    row.get_by_test_id("checkout").click()
    expect(page).to_have_url(re.compile(r"/billing/invoices/\d+/$"))
    expect(page.get_by_test_id("invoice-line")).to_have_count(2)
    expect(page.get_by_test_id("invoice-lines")).to_contain_text("Abdomen (large or complex)")
    expect(page.get_by_test_id("invoice-total")).to_have_text("480.00 USD")
    screenshot(page, "billing-02-draft")

    # 2. Issue it: it gets its number.
    page.get_by_test_id("issue-invoice").click()
    invoice = Invoice.objects.get(appointment=visit)
    expect(message(page, f"Invoice {invoice.number} issued")).to_be_visible()
    expect(page.get_by_test_id("invoice-title")).to_contain_text(invoice.number)
    expect(page.get_by_test_id("invoice-due")).to_have_text("480.00 USD")

    # 3. A card payment without the reference is refused on the field, then taken.
    form = page.get_by_test_id("payment-form")
    form.get_by_text("Card", exact=True).click()
    form.get_by_label("Amount").fill("200")
    form.get_by_test_id("take-payment").click()
    expect(page.get_by_text("Type the card terminal's transaction reference.")).to_be_visible()
    form = page.get_by_test_id("payment-form")
    form.get_by_label("Terminal or transfer reference").fill("TERM-5521")
    form.get_by_test_id("take-payment").click()
    expect(message(page, "200.00 USD received by card")).to_be_visible()
    expect(page.get_by_test_id("invoice-due")).to_have_text("280.00 USD")
    screenshot(page, "billing-03-part-paid")

    # 4. The rest in cash: the amount is already the balance due.
    form = page.get_by_test_id("payment-form")
    form.get_by_text("Cash", exact=True).click()
    expect(form.get_by_label("Amount")).to_have_value("280.00")
    form.get_by_test_id("take-payment").click()
    expect(message(page, "280.00 USD received by cash")).to_be_visible()
    expect(page.get_by_test_id("paid-in-full")).to_be_visible()
    expect(page.get_by_test_id("payment-row")).to_have_count(2)
    screenshot(page, "billing-04-paid")
    assert sorted(Payment.objects.values_list("method", "amount")) == [("card", 200), ("cash", 280)]

    # 5. Print the invoice and the receipt of the cash payment.
    printed = page.get_by_test_id("print-invoice").get_attribute("href")
    page.goto(printed)
    expect(page.get_by_test_id("document-number")).to_have_text(invoice.number)
    expect(page.get_by_test_id("paid-stamp")).to_be_visible()
    expect(page.get_by_test_id("document-due")).to_have_text("0.00 USD")
    page.emulate_media(media="print")
    screenshot(page, "billing-05-invoice-print")
    page.emulate_media(media="screen")
    cash = Payment.objects.get(method="cash")
    page.goto(f"/billing/payments/{cash.pk}/receipt/")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("280.00 USD")
    expect(page.get_by_test_id("document")).to_contain_text(invoice.number)
    screenshot(page, "billing-06-receipt")
    pdf = page.request.get(f"/billing/payments/{cash.pk}/receipt/pdf/")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"

    # 6. The day's cash-up and the patient's account.
    page.goto("/billing/reports/")
    expect(page.get_by_test_id("cashup-net")).to_have_text("480.00 USD")
    expect(page.get_by_test_id("cashup-users")).to_contain_text("Fred Desk")
    screenshot(page, "billing-06b-cash-up")
    page.goto(f"/billing/patients/{invoice.patient_id}/")
    expect(page.get_by_test_id("account-balance")).to_have_text("0.00 USD")
    expect(page.get_by_test_id("ledger")).to_contain_text(invoice.number)
    screenshot(page, "billing-06c-account")

    # 7. Zoé, on her phone: the invoice is paid.
    phone = new_page(viewport=PHONE)
    log_in(phone, patient_user.email, PASSWORD)
    phone.get_by_role("button", name="Toggle navigation").click()
    phone.get_by_test_id("nav-my-billing").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("My invoices and payments")
    card = phone.get_by_test_id("portal-invoice").filter(has_text=invoice.number)
    expect(card.get_by_test_id("invoice-state")).to_have_text("Paid")
    expect(phone.get_by_test_id("portal-balance")).to_have_text("0.00 USD")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the portal page is {overflow}px wider than the phone"
    screenshot(phone, "billing-07-portal-paid")
    download = phone.request.get(card.get_by_role("link", name="PDF").get_attribute("href"))
    assert download.status == 200 and download.body()[:4] == b"%PDF"
    card.get_by_role("link", name="View").click()
    expect(phone.get_by_test_id("paid-stamp")).to_be_visible()
    screenshot(phone, "billing-08-portal-invoice")
    assert errors == []
