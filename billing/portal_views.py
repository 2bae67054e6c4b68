"""The patient's billing in the portal (phone first): balance, package sessions left,
invoices and receipts to view or download. Only their own: every read goes through the
selectors scoped to the logged-in patient, so another patient's id is a 404."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinic.permissions import portal_required

from . import selectors
from .documents import invoice_document
from .views import document_response, receipt_context


@require_GET
@portal_required
def my_billing(request):
    try:
        account = selectors.portal_account(request.user)
    except Http404:
        return render(request, "billing/portal/account.html", {"account": None})
    return render(request, "billing/portal/account.html", {"account": account})


@require_GET
@portal_required
def my_invoice(request, pk, as_pdf=False):
    detail = selectors.invoice_detail(request.user, pk)
    doc = invoice_document(detail)
    return document_response(
        request,
        doc,
        as_pdf=as_pdf,
        filename=detail.invoice.number,
        back_url=reverse("billing:my_billing"),
    )


@require_GET
@portal_required
def my_receipt(request, pk, as_pdf=False):
    return document_response(
        request,
        receipt_context(request.user, pk),
        as_pdf=as_pdf,
        filename=f"receipt-{pk}",
        back_url=reverse("billing:my_billing"),
    )
