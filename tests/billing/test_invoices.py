"""Drafting invoices from what was done, editing drafts, issuing with numbers, immutability,
voiding and credit notes, fee invoices for missed visits."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, transaction
from django.utils import timezone

from billing import services
from billing.models import Invoice, InvoiceLine, LedgerEntry, PriceList
from billing.selectors import ledger_balance
from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, ClinicSettings
from sessions.services import (
    appointment_book,
    appointment_cancel,
    appointment_mark_no_show,
)
from tests.fixtures.billing import (
    booked_course,
    completed_visit,
    make_prices,
    next_start,
    play_out,
    sign_session,
)

pytestmark = pytest.mark.django_db
D = Decimal


def lines_of(invoice):
    return [(line.description, line.total) for line in invoice.lines.order_by("position")]


def test_signing_the_session_record_drafts_the_invoice_from_what_was_done(
    prices, clinic_setup, front_desk, patient, product, lot
):
    # Abdomen with 12 ml is large; flanks 5 ml standard, an additional area at 50 %.
    record = sign_session(
        clinic_setup,
        front_desk,
        patient,
        [("abdomen", "12"), ("flanks", "5")],
        product=product,
        lot=lot,
    )
    invoice = Invoice.objects.get(appointment=record.appointment)
    assert invoice.status == "draft" and invoice.purpose == "session"
    assert lines_of(invoice) == [
        ("Abdomen (large or complex)", D("380.000")),
        ("Flanks (standard), additional area", D("100.000")),
    ]
    assert invoice.total == D("480.00")
    assert invoice.lines.first().practitioner == clinic_setup["practitioner"]
    # One event, one reaction: drafted once from the record, never again from the completion.
    drafts = AuditEvent.objects.filter(object_id=str(invoice.pk), action__startswith="invoice.")
    assert list(drafts.values_list("action", flat=True)) == ["invoice.drafted"]


def test_small_volume_prices_the_small_tier_and_billable_products_by_volume(
    prices, clinic_setup, front_desk, patient, product, lot
):
    prices.products.create(product=product, amount_per_ml=D("8.50"))
    record = sign_session(
        clinic_setup, front_desk, patient, [("abdomen", "1.5")], product=product, lot=lot
    )
    invoice = Invoice.objects.get(appointment=record.appointment)
    assert lines_of(invoice) == [
        ("Abdomen (small)", D("220.000")),
        ("Lipolytic blend, per ml", D("12.750")),  # 1.5 ml x 8.50 = 12.75
    ]


def test_fixed_add_on_for_additional_areas(
    manager, clinic_setup, front_desk, patient, consultation_type
):
    make_prices(
        manager,
        clinic_setup,
        consultation_type,
        additional_areas="fixed",
        additional_area_value=D("120"),
    )
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen", "flanks", "face"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = Invoice.objects.get(appointment=visit)
    assert [line.total for line in invoice.lines.all()] == [D("300"), D("120"), D("120")]


def test_taxes_come_from_the_price_list_and_are_rounded_per_line(
    manager, clinic_setup, front_desk, patient, consultation_type, vat
):
    make_prices(manager, clinic_setup, consultation_type, tax_rate=vat)
    visit = completed_visit(clinic_setup, front_desk, patient, appointment_type=consultation_type)
    invoice = Invoice.objects.get(appointment=visit)
    assert invoice.purpose == "consultation"
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (D("150"), D("30"), D("180"))


def test_a_consultation_fee_is_credited_against_the_first_session(
    prices, clinic_setup, front_desk, patient, consultation_type
):
    consult = completed_visit(
        clinic_setup, front_desk, patient, appointment_type=consultation_type, start=next_start(40)
    )
    services.invoice_issue(actor=front_desk, invoice=Invoice.objects.get(appointment=consult))
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    first = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = Invoice.objects.get(appointment=first)
    assert lines_of(invoice)[-1][1] == D("-150")
    assert invoice.total == D("150")  # 300 - 150
    second = play_out(
        course.appointments.order_by("starts_at")[1], front_desk, clinic_setup["practitioner"].user
    )
    assert Invoice.objects.get(appointment=second).total == D("300")


def test_no_price_list_means_no_draft_and_the_visit_still_completes(
    clinic_setup, front_desk, patient
):
    visit = completed_visit(clinic_setup, front_desk, patient)
    assert visit.status == "completed"
    assert not Invoice.objects.exists()
    assert not AuditEvent.objects.filter(action="invoice.draft_skipped").exists()
    with pytest.raises(ConflictError, match="No price list"):
        services.invoice_draft_for_appointment(actor=front_desk, appointment=visit)


def test_only_a_completed_visit_is_drafted(prices, clinic_setup, front_desk, patient):
    booked = appointment_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts_at=next_start(),
        allow_outside_hours=True,
    )
    with pytest.raises(ConflictError, match="Only a completed visit"):
        services.invoice_draft_for_appointment(actor=front_desk, appointment=booked)


def _draft(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    return Invoice.objects.get(appointment=visit)


def test_front_desk_edits_a_draft_then_issues_it_with_a_number(
    prices, clinic_setup, front_desk, patient
):
    invoice = _draft(prices, clinic_setup, front_desk, patient)
    line = invoice.lines.get()
    services.invoice_line_update(actor=front_desk, line=line, tier="large")
    services.invoice_line_add(
        actor=front_desk,
        invoice=invoice,
        description="Compression garment",
        unit_price="45.50",
        quantity=2,
        discount="11",
    )
    invoice.refresh_from_db()
    assert lines_of(invoice) == [
        ("Abdomen (large or complex)", D("380")),
        ("Compression garment", D("80")),
    ]
    year = timezone.localdate(timezone=clinic_setup["location"].zone).year
    issued = services.invoice_issue(actor=front_desk, invoice=invoice)
    assert issued.number == f"NYC-{year}-000001"
    assert issued.total == D("460") and issued.issued_by == front_desk
    assert ledger_balance(patient.pk) == D("460")
    assert LedgerEntry.objects.get(invoice=issued).amount == D("460")


@pytest.mark.parametrize(
    ("price", "quantity", "discount", "field"),
    [
        ("0", 1, 0, "unit_price"),
        ("-5", 1, 0, "unit_price"),
        ("10", 0, 0, "quantity"),
        ("10", -1, 0, "quantity"),
        ("10", 1, "11", "discount"),
        ("10.001", 1, 0, "unit_price"),
        ("abc", 1, 0, "unit_price"),
    ],
)
def test_bad_line_values_are_refused_on_their_field(
    prices, clinic_setup, front_desk, patient, price, quantity, discount, field
):
    invoice = _draft(prices, clinic_setup, front_desk, patient)
    with pytest.raises(ApplicationError) as error:
        services.invoice_line_add(
            actor=front_desk,
            invoice=invoice,
            description="x",
            unit_price=price,
            quantity=quantity,
            discount=discount,
        )
    assert error.value.field == field
    assert invoice.lines.count() == 1


def test_an_issued_invoice_cannot_be_edited_by_the_services_or_the_database(
    prices, clinic_setup, front_desk, patient
):
    invoice = services.invoice_issue(
        actor=front_desk, invoice=_draft(prices, clinic_setup, front_desk, patient)
    )
    line = invoice.lines.get()
    for attempt in (
        lambda: services.invoice_line_add(
            actor=front_desk, invoice=invoice, description="x", unit_price=1
        ),
        lambda: services.invoice_line_update(actor=front_desk, line=line, unit_price=1),
        lambda: services.invoice_line_remove(actor=front_desk, line=line),
        lambda: services.invoice_void(actor=front_desk, invoice=invoice, reason="oops"),
        lambda: services.invoice_issue(actor=front_desk, invoice=invoice),
    ):
        with pytest.raises(ConflictError, match="credit note"):
            attempt()
    for sneaky in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total=D("1"), subtotal=D("1")),
        lambda: InvoiceLine.objects.filter(pk=line.pk).update(description="changed"),
        lambda: InvoiceLine.objects.filter(pk=line.pk).delete(),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(status="draft", number=None),
        lambda: LedgerEntry.objects.filter(invoice=invoice).update(amount=D("1")),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            sneaky()
    invoice.refresh_from_db()
    assert invoice.total == D("300") and invoice.lines.get().description == line.description


def test_an_invoice_needs_priced_lines_to_be_issued(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, areas=["knees"])  # not priced
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = Invoice.objects.get(appointment=visit)
    with pytest.raises(ApplicationError, match="has no price"):
        services.invoice_issue(actor=front_desk, invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == "draft" and invoice.number is None


def test_a_currency_change_stops_an_old_draft_being_issued(
    prices, clinic_setup, front_desk, patient
):
    invoice = _draft(prices, clinic_setup, front_desk, patient)
    clinic = ClinicSettings.load()
    clinic.currency = "EUR"
    clinic.save()
    with pytest.raises(ConflictError, match="now bills in EUR"):
        services.invoice_issue(actor=front_desk, invoice=invoice)
    assert not LedgerEntry.objects.exists()


def test_voiding_a_draft_keeps_it_and_frees_the_visit_for_a_new_draft(
    prices, clinic_setup, front_desk, patient
):
    invoice = _draft(prices, clinic_setup, front_desk, patient)
    with pytest.raises(ApplicationError):
        services.invoice_void(actor=front_desk, invoice=invoice, reason=" ")
    services.invoice_void(actor=front_desk, invoice=invoice, reason="Session was free")
    invoice.refresh_from_db()
    assert invoice.status == "void" and invoice.reason == "Session was free"
    again = services.invoice_draft_for_appointment(
        actor=front_desk, appointment=invoice.appointment
    )
    assert again.pk != invoice.pk and again.status == "draft"


def test_a_full_credit_note_references_the_invoice_and_zeroes_what_is_owed(
    prices, clinic_setup, front_desk, patient
):
    invoice = services.invoice_issue(
        actor=front_desk, invoice=_draft(prices, clinic_setup, front_desk, patient)
    )
    note = services.credit_note_issue(actor=front_desk, invoice=invoice, reason="Wrong area")
    year = invoice.year
    assert note.number == f"NYC-CN-{year}-000001"
    assert note.credited_invoice == invoice and note.total == invoice.total
    assert note.lines.get().credited_line == invoice.lines.get()
    assert ledger_balance(patient.pk) == 0
    with pytest.raises(ConflictError, match="already been credited"):
        services.credit_note_issue(actor=front_desk, invoice=invoice, reason="again")
    with pytest.raises(ConflictError, match="Only an issued invoice"):
        services.credit_note_issue(actor=front_desk, invoice=note, reason="a credit of a credit")


def test_a_partial_credit_note_credits_chosen_lines(prices, clinic_setup, front_desk, patient):
    invoice = _draft(prices, clinic_setup, front_desk, patient)
    extra = services.invoice_line_add(
        actor=front_desk, invoice=invoice, description="Garment", unit_price="40"
    )
    invoice = services.invoice_issue(actor=front_desk, invoice=invoice)
    note = services.credit_note_issue(
        actor=front_desk, invoice=invoice, reason="Not given", line_ids=[extra.pk]
    )
    assert note.total == D("40")
    assert ledger_balance(patient.pk) == D("300")
    with pytest.raises(ConflictError, match="already been credited"):
        services.credit_note_issue(
            actor=front_desk, invoice=invoice, reason="x", line_ids=[extra.pk]
        )


def test_a_no_show_drafts_the_fee_from_the_price_list(prices, clinic_setup, front_desk, patient):
    visit = appointment_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts_at=next_start(),
        allow_outside_hours=True,
    )
    appointment_mark_no_show(actor=front_desk, appointment=visit)
    fee = Invoice.objects.get(appointment=visit)
    assert fee.purpose == "no_show_fee" and fee.status == "draft" and fee.total == D("75")
    services.invoice_void(actor=front_desk, invoice=fee, reason="Waived: first time")


def _upcoming(clinic_setup, front_desk, patient, hours):
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=hours)
    return appointment_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts_at=start,
        allow_outside_hours=True,
    )


def test_a_late_cancellation_by_the_patient_drafts_the_fee(
    prices, clinic_setup, front_desk, patient
):
    late = _upcoming(clinic_setup, front_desk, patient, 3)
    appointment_cancel(actor=front_desk, appointment=late, by_patient=True, reason="Flu")
    fee = Invoice.objects.get(appointment=late)
    assert fee.purpose == "late_cancellation_fee" and fee.total == D("50")


@pytest.mark.parametrize(("hours", "by_patient"), [(3, False), (72, True)])
def test_no_fee_when_the_clinic_cancels_or_the_patient_cancels_in_time(
    prices, clinic_setup, front_desk, patient, hours, by_patient
):
    visit = _upcoming(clinic_setup, front_desk, patient, hours)
    appointment_cancel(actor=front_desk, appointment=visit, by_patient=by_patient, reason="x")
    assert not Invoice.objects.filter(appointment=visit).exists()


def test_a_new_price_version_never_changes_an_issued_invoice(
    prices, clinic_setup, front_desk, manager, patient, consultation_type
):
    invoice = services.invoice_issue(
        actor=front_desk, invoice=_draft(prices, clinic_setup, front_desk, patient)
    )
    with pytest.raises(ConflictError, match="make a new version"):
        services.price_list_update(
            actor=manager, price_list=prices, rules={}, sessions={}, areas={}, products={}
        )
    tomorrow = timezone.localdate() + timedelta(days=1)
    newer = make_prices(manager, clinic_setup, consultation_type, effective_from=tomorrow)
    assert PriceList.objects.count() == 2 and newer.effective_from == tomorrow
    invoice.refresh_from_db()
    assert invoice.total == D("300") and invoice.price_list == prices
    with pytest.raises(ApplicationError, match="start today or later"):
        make_prices(
            manager,
            clinic_setup,
            consultation_type,
            effective_from=timezone.localdate() - timedelta(days=3),
        )


def test_a_drafting_failure_never_blocks_the_clinical_record(
    prices, clinic_setup, front_desk, patient, monkeypatch
):
    from billing.services import drafting

    def broken(*args, **kwargs):
        raise RuntimeError("pricing bug")

    monkeypatch.setattr(drafting, "visit_lines", broken)
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    assert visit.status == "completed" and not Invoice.objects.exists()
    skipped = AuditEvent.objects.get(action="invoice.draft_skipped")
    assert skipped.outcome == "failure" and skipped.detail["reason"] == "RuntimeError"
