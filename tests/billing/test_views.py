"""The billing pages end to end through the Django test client: checkout from today's list,
issuing, taking payments, printing, refunds, the account, packages, deposits, prices, the
chart panel, the practitioner's paid/unpaid badge, and their query counts."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import Invoice, Package, Payment, PriceList
from clinic.models import AuditEvent
from tests.factories import PatientFactory
from tests.fixtures.billing import booked_course, play_out
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db
D = Decimal


def today_visit(setup, desk, patient, hour=10):
    day = timezone.localdate(timezone=NEW_YORK)
    start = datetime.combine(day, datetime.min.time()).replace(tzinfo=NEW_YORK) + timedelta(
        hours=hour
    )
    course = booked_course(setup, desk, patient, sessions=1, areas=["abdomen"], first=start)
    return play_out(course.appointments.get(), desk, setup["practitioner"].user)


@pytest.fixture
def visit(prices, clinic_setup, front_desk, patient):
    return today_visit(clinic_setup, front_desk, patient)


@pytest.fixture
def issued(visit, front_desk):
    return services.invoice_issue(actor=front_desk, invoice=Invoice.objects.get(appointment=visit))


def test_checkout_from_todays_list_issue_and_pay_by_card_and_cash(visit, front_desk, client_for):
    client = client_for(front_desk)
    today = client.get("/today/").content.decode()
    checkout = f"/billing/appointments/{visit.pk}/"
    assert checkout in today and 'data-state="draft"' in today
    response = client.get(checkout)
    invoice = Invoice.objects.get(appointment=visit)
    assert (
        response.status_code == 302 and response["Location"] == f"/billing/invoices/{invoice.pk}/"
    )
    page = client.get(response["Location"]).content.decode()
    assert "Abdomen (standard)" in page and "Issue invoice (300.00 USD)" in page
    response = client.post(f"/billing/invoices/{invoice.pk}/issue/", follow=True)
    invoice.refresh_from_db()
    assert invoice.number and invoice.number in response.content.decode()
    # A card payment without the terminal's reference is refused on the field.
    response = client.post(
        f"/billing/invoices/{invoice.pk}/pay/", {"method": "card", "amount": "120"}
    )
    assert response.status_code == 400
    assert "terminal" in response.content.decode() and not Payment.objects.exists()
    response = client.post(
        f"/billing/invoices/{invoice.pk}/pay/",
        {"method": "card", "amount": "120", "reference": "TERM-881"},
        follow=True,
    )
    assert "120.00 USD received by card" in response.content.decode()
    response = client.post(
        f"/billing/invoices/{invoice.pk}/pay/", {"method": "cash", "amount": "200"}, follow=True
    )
    page = response.content.decode()
    assert "20.00 USD more than was due is kept as account credit" in page
    assert 'data-testid="paid-in-full"' in page
    assert 'data-state="paid"' in client.get("/today/").content.decode()


def test_bad_payment_input_keeps_the_form_and_writes_nothing(issued, front_desk, client_for):
    client = client_for(front_desk)
    for amount in ("0", "-5", "abc", "10.999"):
        response = client.post(
            f"/billing/invoices/{issued.pk}/pay/", {"method": "cash", "amount": amount}
        )
        assert response.status_code == 400, amount
    assert not Payment.objects.exists()


def test_editing_a_draft_on_the_page(visit, front_desk, client_for):
    client = client_for(front_desk)
    invoice = Invoice.objects.get(appointment=visit)
    line = invoice.lines.get()
    client.post(
        f"/billing/invoices/{invoice.pk}/lines/{line.pk}/",
        {"quantity": "1", "unit_price": "300", "discount": "0", "tier": "large"},
    )
    client.post(
        f"/billing/invoices/{invoice.pk}/lines/",
        {"description": "Arnica gel", "quantity": "1", "unit_price": "12.50"},
    )
    invoice.refresh_from_db()
    assert invoice.total == D("392.50")
    response = client.post(
        f"/billing/invoices/{invoice.pk}/lines/",
        {"description": "Free", "quantity": "1", "unit_price": "0"},
    )
    assert response.status_code == 400 and "more than zero" in response.content.decode()


def test_an_issued_invoice_page_offers_no_editing(issued, front_desk, client_for):
    client = client_for(front_desk)
    page = client.get(f"/billing/invoices/{issued.pk}/").content.decode()
    assert "Add a line" not in page and "Take payment" in page
    line = issued.lines.get()
    response = client.post(
        f"/billing/invoices/{issued.pk}/lines/",
        {"description": "Sneaky", "quantity": "1", "unit_price": "5"},
    )
    assert response.status_code == 400 and "credit note" in response.content.decode()
    client.post(f"/billing/invoices/{issued.pk}/lines/{line.pk}/remove/")
    assert issued.lines.count() == 1


def test_print_view_pdf_and_receipt(issued, front_desk, client_for):
    client = client_for(front_desk)
    payment = services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="300")
    page = client.get(f"/billing/invoices/{issued.pk}/print/").content.decode()
    assert issued.number in page and "Paid in full" in page
    assert "Billed to" in page and "Zoé Dubois" in page
    pdf = client.get(f"/billing/invoices/{issued.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    receipt = client.get(f"/billing/payments/{payment.pk}/receipt/").content.decode()
    assert "Receipt" in receipt and "300.00 USD" in receipt and issued.number in receipt
    assert client.get(f"/billing/payments/{payment.pk}/receipt/pdf/").content.startswith(b"%PDF")


def test_emailing_the_invoice_sends_the_pdf(
    issued, front_desk, client_for, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    from clinic.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(front_desk).post(f"/billing/invoices/{issued.pk}/email/")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [issued.patient.email] and issued.number in message.subject
    assert message.attachments[0][0] == f"{issued.number}.pdf"
    assert AuditEvent.objects.filter(action="invoice.emailed").exists()


def test_refund_page(issued, front_desk, client_for):
    payment = services.payment_take(
        actor=front_desk, invoice=issued, method="card", amount="300", reference="T1"
    )
    client = client_for(front_desk)
    assert client.get(f"/billing/payments/{payment.pk}/refund/").status_code == 200
    response = client.post(
        f"/billing/payments/{payment.pk}/refund/", {"amount": "400", "reason": "x"}
    )
    assert response.status_code == 400 and "At most 300.00 USD" in response.content.decode()
    response = client.post(
        f"/billing/payments/{payment.pk}/refund/",
        {"amount": "50", "reason": "Goodwill", "reference": "R1"},
    )
    assert response.status_code == 302
    assert payment.refunds.get().amount == D("50")


def test_credit_note_and_void_from_the_page(issued, visit, front_desk, client_for):
    client = client_for(front_desk)
    response = client.post(f"/billing/invoices/{issued.pk}/credit/", {"reason": "", "lines": []})
    assert response.status_code == 400
    line = issued.lines.get()
    client.post(
        f"/billing/invoices/{issued.pk}/credit/", {"reason": "Wrong tier", "lines": [line.pk]}
    )
    note = Invoice.objects.get(kind="credit_note")
    assert note.credited_invoice == issued
    draft = services.invoice_draft_for_appointment(actor=front_desk, appointment=visit)
    assert draft.pk == issued.pk  # the issued one stays the visit's invoice


def test_account_page_deposit_and_package(prices, clinic_setup, front_desk, patient, client_for):
    course = booked_course(clinic_setup, front_desk, patient, sessions=10, areas=["abdomen"])
    client = client_for(front_desk)
    assert client.get(f"/billing/patients/{patient.pk}/").status_code == 200
    response = client.post(
        f"/billing/patients/{patient.pk}/deposit/",
        {"course": course.pk, "method": "cash", "amount": "100"},
    )
    assert response.status_code == 302
    response = client.get(f"/billing/patients/{patient.pk}/packages/new/?course={course.pk}")
    assert response.status_code == 200
    response = client.post(
        f"/billing/patients/{patient.pk}/packages/new/",
        {"course": course.pk, "sessions": "10", "price": "3400.00", "name": "Abdomen x10"},
    )
    package = Package.objects.get()
    assert response["Location"] == f"/billing/invoices/{package.invoice_id}/"
    page = client.get(f"/billing/patients/{patient.pk}/").content.decode()
    assert "10 sessions left of 10" in page and "Abdomen x10" in page
    client.post(f"/billing/packages/{package.pk}/cancel/", {"reason": "Changed her mind"})
    package.refresh_from_db()
    assert package.status == "cancelled"


def test_manager_creates_prices_and_front_desk_may_not(
    manager, front_desk, clinic_setup, consultation_type, client_for, client
):
    client_for(front_desk)
    assert client.get("/billing/prices/").status_code == 403
    client.force_login(manager)
    assert client.get("/billing/prices/new/").status_code == 200
    response = client.post(
        "/billing/prices/new/",
        {
            "effective_from": "2026-01-01",
            "additional_areas": "percent",
            "additional_area_value": "0",
            f"type_{consultation_type.pk}": "150",
            "area_abdomen_standard": "300",
        },
    )
    assert response.status_code == 400  # the percentage must be above zero
    response = client.post(
        "/billing/prices/new/",
        {
            "effective_from": "2026-01-01",
            "additional_areas": "percent",
            "additional_area_value": "50",
            f"type_{consultation_type.pk}": "150",
            "area_abdomen_standard": "300",
            "area_face_small": "-3",
        },
    )
    assert response.status_code == 400 and not PriceList.objects.exists()
    response = client.post(
        "/billing/prices/new/",
        {
            "effective_from": "2026-01-01",
            "additional_areas": "percent",
            "additional_area_value": "50",
            f"type_{consultation_type.pk}": "150",
            "area_abdomen_standard": "300",
            "no_show_fee": "60",
        },
    )
    assert response.status_code == 302
    price_list = PriceList.objects.get()
    assert price_list.areas.get().amount == D("300") and price_list.no_show_fee == D("60")
    assert client.get(f"/billing/prices/{price_list.pk}/").status_code == 200
    assert client.get("/setup/").content.decode().count("/billing/prices/") >= 1


def test_chart_panel_shows_the_balance_to_front_desk_only(
    issued, patient, front_desk, practitioner_user, client_for, client
):
    page = client_for(front_desk).get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-testid="chart-billing"' in page and "300.00 USD" in page
    client.force_login(practitioner_user)
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-testid="chart-billing"' not in page


def test_the_practitioner_sees_whether_a_session_is_paid(
    issued, front_desk, practitioner_user, client
):
    client.force_login(practitioner_user)
    assert 'data-state="unpaid"' in client.get("/my-day/").content.decode()
    services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="300")
    assert 'data-state="paid"' in client.get("/my-day/").content.decode()


def test_reports_page_and_csv(issued, front_desk, client_for):
    services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="300")
    client = client_for(front_desk)
    for report in ("cashup", "revenue", "outstanding", "packages"):
        assert client.get(f"/billing/reports/?report={report}").status_code == 200
        csv = client.get(f"/billing/reports/?report={report}&export=csv")
        assert csv["Content-Type"].startswith("text/csv")
    day = timezone.localdate(timezone=NEW_YORK).isoformat()
    csv = client.get(f"/billing/reports/?report=cashup&end={day}&export=csv").content.decode()
    assert "Fred Desk,Cash,300.00" in csv


def test_invoice_list_filters(issued, front_desk, client_for):
    client = client_for(front_desk)
    assert issued.number in client.get("/billing/").content.decode()
    assert issued.number in client.get("/billing/?unpaid=1").content.decode()
    assert issued.number not in client.get("/billing/?status=draft").content.decode()
    assert issued.number in client.get("/billing/?q=dubois").content.decode()


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/billing/", 14),
        ("/billing/?status=issued&unpaid=1", 14),
        ("/billing/reports/?report=cashup", 20),
        ("/billing/reports/?report=revenue", 20),
        ("/billing/reports/?report=outstanding", 16),
        ("/billing/reports/?report=packages", 16),
        ("/today/", 20),
    ],
)
def test_list_pages_cost_a_fixed_number_of_queries(
    url, queries, prices, clinic_setup, front_desk, client_for, django_assert_max_num_queries
):
    for n in range(6):
        course = booked_course(clinic_setup, front_desk, PatientFactory(), sessions=1)
        visit = course.appointments.get()
        play_out(visit, front_desk, clinic_setup["practitioner"].user)
        invoice = services.invoice_draft_for_appointment(actor=front_desk, appointment=visit)
        if n % 2:
            invoice = services.invoice_issue(actor=front_desk, invoice=invoice)
            services.payment_take(actor=front_desk, invoice=invoice, method="cash", amount="100")
    client = client_for(front_desk)
    client.get(url)
    with django_assert_max_num_queries(queries):
        assert client.get(url).status_code == 200


def test_account_page_query_count(
    issued, front_desk, patient, client_for, django_assert_max_num_queries
):
    for _ in range(5):
        services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="10")
    client = client_for(front_desk)
    with django_assert_max_num_queries(18):
        assert client.get(f"/billing/patients/{patient.pk}/").status_code == 200
