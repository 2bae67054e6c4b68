"""Gapless invoice numbers under real concurrency on PostgreSQL: twenty desks issue at the
same instant from separate connections and get 1..20, none skipped, none repeated."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from billing import services
from billing.models import Invoice, InvoiceSequence
from tests.factories import PatientFactory

N = 20


def _drafts(clinic_setup, front_desk, n):
    drafts = []
    for i in range(n):
        # A few patients twice: their issues also queue on the account lock.
        patient = (
            PatientFactory() if i % 5 else (drafts[-1].patient if drafts else PatientFactory())
        )
        draft = services.invoice_draft_blank(
            actor=front_desk, patient=patient, location=clinic_setup["location"]
        )
        services.invoice_line_add(
            actor=front_desk, invoice=draft, description="Session", unit_price=Decimal("100.00")
        )
        drafts.append(draft)
    return drafts


def _issue_all_at_once(drafts, actor):
    barrier = threading.Barrier(len(drafts))
    errors = []

    def issue(draft):
        try:
            barrier.wait(timeout=30)
            services.invoice_issue(actor=actor, invoice=draft)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_consecutive_numbers_without_gaps(clinic_setup, front_desk):
    drafts = _drafts(clinic_setup, front_desk, N)
    errors = _issue_all_at_once(drafts, front_desk)
    assert errors == []
    issued = Invoice.objects.filter(status="issued")
    sequences = sorted(issued.values_list("sequence", flat=True))
    assert sequences == list(range(1, N + 1))
    numbers = set(issued.values_list("number", flat=True))
    assert len(numbers) == N
    year = issued.first().year
    assert f"NYC-{year}-000001" in numbers and f"NYC-{year}-{N:06d}" in numbers
    assert InvoiceSequence.objects.get(series="IN").last_number == N


@pytest.mark.django_db(transaction=True)
def test_a_failed_issue_gives_its_number_back(clinic_setup, front_desk, monkeypatch):
    first, second = _drafts(clinic_setup, front_desk, 2)
    from billing.services import invoices

    def broken(**kwargs):
        raise RuntimeError("the ledger is down")

    with monkeypatch.context() as patched:
        patched.setattr(invoices, "ledger_add", broken)
        with pytest.raises(RuntimeError):
            services.invoice_issue(actor=front_desk, invoice=first)
    first.refresh_from_db()
    assert first.status == "draft" and first.number is None
    assert services.invoice_issue(actor=front_desk, invoice=second).sequence == 1
    assert services.invoice_issue(actor=front_desk, invoice=first).sequence == 2
