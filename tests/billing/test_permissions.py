"""Who may open what: front desk and managers bill, only managers change prices,
practitioners and patients get 403 on every staff page and change nothing; a patient sees
only their own invoices and receipts in the portal (another's are 404)."""

import pytest

from billing import services
from billing.models import Invoice, LedgerEntry, Payment
from tests.factories import PatientFactory
from tests.fixtures.billing import booked_course, play_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(prices, clinic_setup, front_desk, patient, patient_user):
    patient.portal_user = patient_user
    patient.save()
    course = booked_course(clinic_setup, front_desk, patient, sessions=3, areas=["abdomen"])
    visits = [
        play_out(v, front_desk, clinic_setup["practitioner"].user)
        for v in course.appointments.order_by("starts_at")[:2]
    ]
    issued = services.invoice_issue(
        actor=front_desk, invoice=Invoice.objects.get(appointment=visits[0])
    )
    payment = services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="100")
    draft = Invoice.objects.get(appointment=visits[1])
    package = services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        sessions=2,
        price="500",
    )
    return {
        "issued": issued,
        "draft": draft,
        "line": draft.lines.first(),
        "payment": payment,
        "visit": visits[0],
        "patient": patient,
        "package": package,
        "prices": prices,
    }


def staff_get_urls(s):
    i, d, p = s["issued"].pk, s["draft"].pk, s["payment"].pk
    return [
        "/billing/",
        f"/billing/invoices/{i}/",
        f"/billing/invoices/{d}/",
        f"/billing/invoices/{i}/print/",
        f"/billing/invoices/{i}/pdf/",
        f"/billing/payments/{p}/receipt/",
        f"/billing/payments/{p}/receipt/pdf/",
        f"/billing/payments/{p}/refund/",
        f"/billing/appointments/{s['visit'].pk}/",
        f"/billing/patients/{s['patient'].pk}/",
        f"/billing/patients/{s['patient'].pk}/packages/new/",
        "/billing/reports/",
        "/billing/reports/?report=revenue&export=csv",
    ]


def staff_post_urls(s):
    i, d, line, p = s["issued"].pk, s["draft"].pk, s["line"].pk, s["payment"].pk
    return [
        (f"/billing/invoices/{d}/lines/", {"description": "x", "quantity": 1, "unit_price": 1}),
        (f"/billing/invoices/{d}/lines/{line}/", {"quantity": 1, "unit_price": 1}),
        (f"/billing/invoices/{d}/lines/{line}/remove/", {}),
        (f"/billing/invoices/{d}/notes/", {"notes": "x"}),
        (f"/billing/invoices/{d}/issue/", {}),
        (f"/billing/invoices/{d}/void/", {"reason": "x"}),
        (f"/billing/invoices/{i}/pay/", {"method": "cash", "amount": "10"}),
        (
            f"/billing/invoices/{i}/credit/",
            {"reason": "x", "lines": [s["issued"].lines.first().pk]},
        ),
        (f"/billing/invoices/{i}/email/", {}),
        (f"/billing/payments/{p}/refund/", {"amount": "1", "reason": "x"}),
        (f"/billing/patients/{s['patient'].pk}/deposit/", {"amount": "1", "method": "cash"}),
        (f"/billing/patients/{s['patient'].pk}/invoices/new/", {}),
        (f"/billing/patients/{s['patient'].pk}/packages/new/", {"sessions": 1, "price": "1"}),
        (f"/billing/packages/{s['package'].pk}/cancel/", {"reason": "x"}),
        (f"/billing/appointments/{s['visit'].pk}/", {}),
    ]


MANAGER_ONLY = ["/billing/prices/", "/billing/prices/new/", "PRICE_LIST"]


def _snapshot():
    return (
        Invoice.objects.count(),
        Payment.objects.count(),
        LedgerEntry.objects.count(),
        list(Invoice.objects.order_by("pk").values_list("status", "total")),
    )


@pytest.mark.parametrize("role", ["practitioner_user", "patient_user"])
def test_wrong_roles_get_403_on_every_staff_page_and_change_nothing(scene, role, request, client):
    client.force_login(request.getfixturevalue(role))
    before = _snapshot()
    for url in staff_get_urls(scene) + [
        u.replace("PRICE_LIST", f"/billing/prices/{scene['prices'].pk}/") for u in MANAGER_ONLY
    ]:
        assert client.get(url).status_code == 403, url
    for url, data in staff_post_urls(scene):
        assert client.post(url, data).status_code == 403, url
    assert client.post("/billing/prices/tax-rates/", {"name": "x", "rate": "5"}).status_code == 403
    assert _snapshot() == before


def test_front_desk_opens_every_billing_page_but_not_the_prices(scene, front_desk, client):
    client.force_login(front_desk)
    for url in staff_get_urls(scene):
        assert client.get(url).status_code in (200, 302), url
    for url in MANAGER_ONLY:
        url = url.replace("PRICE_LIST", f"/billing/prices/{scene['prices'].pk}/")
        assert client.get(url).status_code == 403, url


def test_the_manager_opens_the_prices(scene, manager, client):
    client.force_login(manager)
    for url in MANAGER_ONLY:
        url = url.replace("PRICE_LIST", f"/billing/prices/{scene['prices'].pk}/")
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_log_in(scene, client):
    for url in staff_get_urls(scene) + ["/portal/billing/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def portal_urls(s):
    i, p = s["issued"].pk, s["payment"].pk
    return [
        f"/portal/billing/invoices/{i}/",
        f"/portal/billing/invoices/{i}/pdf/",
        f"/portal/billing/payments/{p}/",
        f"/portal/billing/payments/{p}/pdf/",
    ]


def test_the_patient_sees_their_own_invoices_and_receipts(scene, patient_user, client):
    client.force_login(patient_user)
    page = client.get("/portal/billing/").content.decode()
    assert scene["issued"].number in page and "200.00 USD left to pay" in page
    assert "2 sessions left of 2" in page
    for url in portal_urls(scene):
        assert client.get(url).status_code == 200, url
    # A draft is not theirs to see yet.
    assert client.get(f"/portal/billing/invoices/{scene['draft'].pk}/").status_code == 404


def test_another_patient_never_sees_them(scene, other_patient_user, client):
    PatientFactory(portal_user=other_patient_user)
    client.force_login(other_patient_user)
    page = client.get("/portal/billing/").content.decode()
    assert scene["issued"].number not in page
    for url in portal_urls(scene):
        assert client.get(url).status_code == 404, url


def test_staff_do_not_use_the_portal_pages(scene, front_desk, client):
    client.force_login(front_desk)
    for url in ["/portal/billing/", *portal_urls(scene)]:
        assert client.get(url).status_code == 403, url


def test_portal_page_query_count(scene, patient_user, client, django_assert_max_num_queries):
    client.force_login(patient_user)
    client.get("/portal/billing/")
    with django_assert_max_num_queries(16):
        assert client.get("/portal/billing/").status_code == 200
