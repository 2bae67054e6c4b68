"""The lot pages: products with their lots (expiry, stock, expired), registering a lot (errors
at the field, a duplicate refused with 409), taking one out of stock; and the manager's lot
recall (page, CSV export with safe cells, audited), with who may open what."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import AuditEvent
from consultations.models import Product, ProductLot
from consultations.services.session_records import (
    session_record_save_draft,
    session_record_sign,
    session_record_start,
)
from consultations.views.lots import csv_safe
from tests.clock import clinic_today
from tests.factories import PatientFactory
from tests.fixtures.clinical import area_row, book_treatment

pytestmark = pytest.mark.django_db

LOTS = reverse("lot_list")
RECALL = reverse("lot_recall")
RECALL_CSV = reverse("lot_recall_csv")


def lot_data(for_product, **overrides):
    data = {
        "product": for_product.pk,
        "lot_number": "PC-2027-001",
        "expires_on": (clinic_today() + timedelta(days=400)).isoformat(),
        "received_on": clinic_today().isoformat(),
    }
    data.update(overrides)
    return data


# --- The lots page ----------------------------------------------------------------------------


def test_lots_page_lists_products_with_their_lots(client_for, manager, lot, expired_lot):
    response = client_for(manager).get(LOTS)

    assert response.status_code == 200
    page = response.content.decode()
    assert "PPC + DC" in page
    assert lot.lot_number in page and expired_lot.lot_number in page
    assert page.count('data-testid="expired"') == 1
    expired_row = page.split(f'id="lot-{expired_lot.pk}"')[1].split("</tr>")[0]
    assert "Expired" in expired_row
    assert "In stock" in expired_row


def test_practitioner_sees_the_lots_and_may_add_but_not_change_stock(
    client_for, practitioner_user, lot
):
    page = client_for(practitioner_user).get(LOTS).content.decode()

    assert lot.lot_number in page
    assert 'data-testid="lot-form"' in page
    assert reverse("lot_stock", args=[lot.pk]) not in page


@pytest.mark.parametrize("role", ["front_desk", "patient_user"])
def test_lots_page_is_refused_to_front_desk_and_patients(client_for, request, role, product):
    client = client_for(request.getfixturevalue(role))

    assert client.get(LOTS).status_code == 403
    assert client.post(LOTS, lot_data(product)).status_code == 403
    assert not ProductLot.objects.exists()


def test_adding_a_lot_registers_it_and_audits(client_for, practitioner_user, product):
    response = client_for(practitioner_user).post(LOTS, lot_data(product), follow=True)

    lot = ProductLot.objects.get(lot_number="PC-2027-001")
    assert lot.product == product and lot.is_active
    assert response.redirect_chain[-1][0] == f"{LOTS}#lot-{lot.pk}"
    assert "Lot PC-2027-001 of PPC + DC is registered." in response.content.decode()
    event = AuditEvent.objects.get(action="lot.added")
    assert event.actor == practitioner_user


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"lot_number": "   "}, "lot_number", "This field is required."),
        ({"expires_on": ""}, "expires_on", "This field is required."),
        ({"expires_on": "31/02/2027"}, "expires_on", "Enter a valid date."),
        ({"product": "999999"}, "product", "Select a valid choice."),
        (
            {"received_on": "2027-06-01", "expires_on": "2027-05-01"},
            "expires_on",
            "The lot cannot expire before it was received.",
        ),
    ],
)
def test_adding_a_lot_with_bad_input_shows_the_error_at_the_field(
    client_for, manager, product, overrides, field, message
):
    response = client_for(manager).post(LOTS, lot_data(product, **overrides))

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    page = response.content.decode()
    assert f'id="id_{field}_errors"' in page
    assert not ProductLot.objects.exists()


def test_a_duplicate_lot_number_is_refused_at_the_field_with_409(client_for, manager, lot):
    response = client_for(manager).post(
        LOTS, lot_data(lot.product, lot_number=lot.lot_number.lower())
    )

    assert response.status_code == 409
    errors = response.context["form"].errors["lot_number"]
    assert errors == [f"Lot {lot.lot_number.lower()} of PPC + DC is already registered."]
    assert 'id="id_lot_number_errors"' in response.content.decode()
    assert 'value="pc-2026-118"' in response.content.decode()  # the entry stays on screen
    assert ProductLot.objects.count() == 1


def test_manager_takes_a_lot_out_of_stock_and_back(client_for, manager, lot):
    client = client_for(manager)

    response = client.post(reverse("lot_stock", args=[lot.pk]), {"in_stock": "0"}, follow=True)
    lot.refresh_from_db()
    assert not lot.is_active
    assert "is out of stock" in response.content.decode()

    client.post(reverse("lot_stock", args=[lot.pk]), {"in_stock": "1"})
    lot.refresh_from_db()
    assert lot.is_active
    assert AuditEvent.objects.filter(action="lot.stock_changed").count() == 2


def test_practitioner_cannot_change_the_stock(client_for, practitioner_user, lot):
    response = client_for(practitioner_user).post(
        reverse("lot_stock", args=[lot.pk]), {"in_stock": "0"}
    )

    assert response.status_code == 403
    lot.refresh_from_db()
    assert lot.is_active


def test_lots_page_costs_the_same_queries_for_many_products(
    client_for, manager, lot, django_assert_max_num_queries
):
    client = client_for(manager)
    client.get(LOTS)
    with CaptureQueriesContext(connection) as few:
        client.get(LOTS)
    for n in range(6):
        other = Product.objects.create(name=f"Product {n}")
        for k in range(3):
            ProductLot.objects.create(
                product=other, lot_number=f"L{n}-{k}", expires_on=clinic_today() + timedelta(days=k)
            )

    with django_assert_max_num_queries(len(few)):
        response = client.get(LOTS)

    assert response.content.decode().count('data-testid="lot-row"') == 19


# --- The lot recall ---------------------------------------------------------------------------


@pytest.fixture
def treated(clinic_setup, front_desk, consult_patient, product, lot, practitioner_user):
    """Two patients who received lot PC-2026-118 (one signed session, one still a draft) and
    one who received another lot."""
    other_lot = ProductLot.objects.create(
        product=product, lot_number="PC-2026-200", expires_on=clinic_today() + timedelta(days=90)
    )
    tricky = PatientFactory(
        legal_first_name='=HYPERLINK("http://evil.example")',
        legal_last_name="@Smith",
        email="-tricky@example.com",
    )
    third = PatientFactory(legal_first_name="Nora", legal_last_name="Other")
    rows = []
    for hour, patient, used, sign in (
        (9, consult_patient, lot, True),
        (11, tricky, lot, False),
        (13, third, other_lot, True),
    ):
        appointment = book_treatment(clinic_setup, front_desk, patient, hour=hour)
        record = session_record_start(actor=practitioner_user, appointment=appointment)
        session_record_save_draft(
            actor=practitioner_user,
            record=record,
            data={"alerts_reviewed": True, "no_side_effects_since_last": True, "tolerance": "good"},
            areas=[area_row(product, used, "abdomen"), area_row(product, used, "flanks")],
        )
        if sign:
            session_record_sign(actor=practitioner_user, record=record)
        rows.append(record)
    return rows


def test_recall_page_lists_every_patient_and_session_that_received_the_lot(
    client_for, manager, treated, consult_patient
):
    response = client_for(manager).get(RECALL, {"lot": " pc-2026-118 "})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="recall-row"') == 4  # two areas for each of two patients
    assert consult_patient.full_name in page
    assert consult_patient.date_of_birth.strftime("%-d %b %Y") in page
    assert str(consult_patient.mobile_phone) in page
    assert consult_patient.email in page
    assert "Nora" not in page
    assert "2 patients, 4 treated areas" in page
    assert "Abdomen" in page and "Flanks" in page and "4.00 ml" in page
    assert "Dr Pia" in page
    assert f'href="{RECALL_CSV}?lot=pc-2026-118"' in page


def test_recall_search_is_audited_with_the_patients_found(client_for, manager, treated):
    client_for(manager).get(RECALL, {"lot": "PC-2026-118"})

    event = AuditEvent.objects.get(action="lot.recall_searched")
    assert event.actor == manager
    assert event.detail["lot"] == "PC-2026-118"
    assert event.detail["patients"] == sorted({treated[0].patient_id, treated[1].patient_id})


def test_recall_page_without_a_search_shows_only_the_form(client_for, manager):
    response = client_for(manager).get(RECALL)

    assert response.status_code == 200
    assert 'data-testid="recall-results"' not in response.content.decode()
    assert not AuditEvent.objects.filter(action="lot.recall_searched").exists()


def test_recall_of_an_unknown_lot_says_nothing_matched(client_for, manager, treated):
    page = client_for(manager).get(RECALL, {"lot": "NOPE-1"}).content.decode()

    assert 'data-testid="recall-empty"' in page
    assert "No lot with this number is registered" in page


def test_recall_with_an_empty_search_shows_the_error_at_the_field(client_for, manager):
    response = client_for(manager).get(RECALL, {"lot": "   "})

    assert response.status_code == 400
    assert 'id="id_lot_errors"' in response.content.decode()


def test_recall_csv_has_the_same_rows_as_the_page(client_for, manager, treated, consult_patient):
    response = client_for(manager).get(RECALL_CSV, {"lot": "PC-2026-118"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="lot-recall-PC-2026-118.csv"'
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Patient",
        "Date of birth",
        "Phone",
        "Email",
        "Session date",
        "Session status",
        "Record",
        "Product",
        "Lot",
        "Lot expiry",
        "Area",
        "Volume (ml)",
        "Practitioner",
    ]
    assert len(rows) == 5
    mine = [r for r in rows[1:] if r[0] == consult_patient.full_name]
    assert [r[10] for r in mine] == ["Abdomen", "Flanks"]
    first = mine[0]
    assert first[1] == consult_patient.date_of_birth.isoformat()
    assert first[2] == "'" + str(consult_patient.mobile_phone)  # "+1..." would be a formula
    assert first[3] == consult_patient.email
    assert first[5] == "Completed" and first[6] == "Signed"
    assert first[7:10] == [
        "PPC + DC",
        "PC-2026-118",
        treated[0].areas.first().lot.expires_on.isoformat(),
    ]
    assert first[11] == "4.00" and first[12] == "Dr Pia"
    assert AuditEvent.objects.filter(action="lot.recall_searched").count() == 1
    assert AuditEvent.objects.get(action="lot.recall_exported").detail == {
        "lot": "PC-2026-118",
        "rows": 4,
    }


def test_recall_csv_cells_cannot_run_as_formulas(client_for, manager, treated):
    response = client_for(manager).get(RECALL_CSV, {"lot": "PC-2026-118"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    tricky = [r for r in rows[1:] if "HYPERLINK" in r[0]]
    assert tricky, "the tricky patient is exported"
    assert tricky[0][0] == '\'=HYPERLINK("http://evil.example") @Smith'
    assert tricky[0][3] == "'-tricky@example.com"
    assert tricky[0][6] == "Draft"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Zoé", "Zoé"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_csv_safe_prefixes_formula_starts(value, expected):
    assert csv_safe(value) == expected


def test_recall_csv_file_name_keeps_only_safe_characters(client_for, manager, treated):
    response = client_for(manager).get(RECALL_CSV, {"lot": 'a"b/../c;d'})

    assert response["Content-Disposition"] == 'attachment; filename="lot-recall-a_b_.._c_d.csv"'
    assert response.content.decode("utf-8-sig").splitlines()[1:] == []


def test_recall_csv_without_a_lot_number_is_a_bad_request(client_for, manager):
    assert client_for(manager).get(RECALL_CSV).status_code == 400


@pytest.mark.parametrize("role", ["practitioner_user", "front_desk", "patient_user"])
def test_recall_is_for_managers_only(client_for, request, role, treated):
    client = client_for(request.getfixturevalue(role))

    assert client.get(RECALL, {"lot": "PC-2026-118"}).status_code == 403
    assert client.get(RECALL_CSV, {"lot": "PC-2026-118"}).status_code == 403
    assert not AuditEvent.objects.filter(action="lot.recall_searched").exists()


def test_recall_asks_an_anonymous_visitor_to_log_in(client):
    response = client.get(RECALL_CSV, {"lot": "PC-2026-118"})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_nav_has_the_lots_entry_for_managers_and_practitioners_only(
    client_for, manager, practitioner_user, front_desk
):
    assert 'data-testid="nav-lots"' in client_for(manager).get(RECALL).content.decode()
    assert 'data-testid="nav-lots"' in client_for(practitioner_user).get(LOTS).content.decode()
    page = client_for(front_desk).get(reverse("treatment_sessions:today")).content.decode()
    assert 'data-testid="nav-lots"' not in page


# --- The admin --------------------------------------------------------------------------------


def test_product_admin_shows_the_lots_inline(client_for, manager, lot):
    response = client_for(manager).get(
        reverse("admin:consultations_product_change", args=[lot.product_id])
    )

    assert response.status_code == 200
    assert lot.lot_number in response.content.decode()
    assert "lots-TOTAL_FORMS" in response.content.decode()


def _admin_product_post(product, existing, new_row):
    data = {
        "name": product.name,
        "composition": product.composition,
        "manufacturer": "",
        "is_active": "on",
        "lots-TOTAL_FORMS": "2",
        "lots-INITIAL_FORMS": "1",
        "lots-0-id": str(existing.pk),
        "lots-0-product": str(product.pk),
        "lots-0-lot_number": "CHANGED",  # disabled: ignored
        "lots-0-expires_on": "2030-01-01",  # disabled: ignored
        "lots-0-received_on": "",
        "lots-0-is_active": "on",
        "lots-1-product": str(product.pk),
    }
    data.update({f"lots-1-{key}": value for key, value in new_row.items()})
    return data


def test_admin_lot_inline_keeps_number_and_expiry_and_refuses_a_duplicate(client_for, manager, lot):
    client = client_for(manager)
    url = reverse("admin:consultations_product_change", args=[lot.product_id])
    expiry = lot.expires_on

    refused = client.post(
        url,
        _admin_product_post(
            lot.product, lot, {"lot_number": "pc-2026-118", "expires_on": "2028-01-01"}
        ),
    )
    assert refused.status_code == 200
    assert "This lot number is already registered." in refused.content.decode()
    assert ProductLot.objects.count() == 1

    saved = client.post(
        url,
        _admin_product_post(
            lot.product, lot, {"lot_number": "PC-2027-555", "expires_on": "2028-01-01"}
        ),
    )
    assert saved.status_code == 302
    lot.refresh_from_db()
    assert lot.lot_number == "PC-2026-118" and lot.expires_on == expiry
    assert ProductLot.objects.filter(lot_number="PC-2027-555").exists()
