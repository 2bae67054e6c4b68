"""Front desk's and the manager's billing pages: the invoices to review and collect, the
checkout of a visit (review the draft, issue it, take payment), credit notes, refunds, the
printable invoice and receipt (HTML and PDF) and emailing them.

Pages parse input, read through ``selectors`` (which scope to the user), call one service and
redirect with a message; a service's refusal is shown on the form's field."""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import audit
from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.permissions import desk_required
from sessions.selectors import appointment_get_for_user

from . import selectors, services, tasks
from .documents import invoice_document, receipt_document
from .forms import CreditForm, LineForm, LineUpdateForm, PaymentForm, ReasonForm, RefundForm
from .models import Allocation, Invoice, InvoiceLine, PaymentMethod
from .money import format_money, round_money
from .pdf import render_pdf

PAGE_SIZE = 50


def _invoice_url(invoice):
    return reverse("billing:invoice", args=[invoice.pk])


@require_GET
@desk_required
def invoice_list(request):
    """Drafts waiting for review first, then the latest issued documents; filters."""
    status = request.GET.get("status", "")
    unpaid = request.GET.get("unpaid") == "1"
    search = request.GET.get("q", "").strip()[:100]
    invoices = selectors.invoice_list(
        request.user,
        status=status if status in Invoice.Status.values else None,
        unpaid=unpaid,
        search=search,
    )
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = selectors.decorate(invoices[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    audit.record(
        actor=request.user,
        action="invoices.listed",
        detail={"status": status, "unpaid": unpaid, "q": search[:50], "page": page},
    )
    return render(
        request,
        "billing/invoice_list.html",
        {
            "invoices": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "status": status,
            "unpaid": unpaid,
            "q": search,
            "drafts_waiting": selectors.invoice_list(request.user, status="draft").count(),
        },
    )


def _payment_form(detail, data=None):
    invoice = detail.invoice
    form = PaymentForm(data, with_credit=detail.account_credit > 0)
    if data is None:
        form.initial = {
            "method": PaymentMethod.CARD,
            "amount": str(round_money(invoice.due, invoice.currency)),
        }
    return form


def _credit_lines(detail):
    credited = {line.credited_line_id for cn in detail.credit_notes for line in cn.lines.all()}
    return [line for line in detail.lines if line.pk not in credited]


def _invoice_page(request, pk, *, status=200, **forms):
    detail = selectors.invoice_detail(request.user, pk)
    invoice = detail.invoice
    context = {
        "detail": detail,
        "invoice": invoice,
        "doc": invoice_document(detail),
        "line_form": forms.get("line_form") or LineForm(),
        "payment_form": forms.get("payment_form") or _payment_form(detail),
        "void_form": forms.get("void_form") or ReasonForm(),
        "credit_form": (
            (forms.get("credit_form") or CreditForm(lines=_credit_lines(detail)))
            if invoice.is_issued and not invoice.is_credit_note and _credit_lines(detail)
            else None
        ),
        "line_errors": forms.get("line_errors") or {},
        "open_section": forms.get("open_section", ""),
        "tiers": InvoiceLine._meta.get_field("tier").choices,
    }
    if invoice.appointment_id:
        context["appointment"] = invoice.appointment
    return render(request, "billing/invoice_detail.html", context, status=status)


@require_GET
@desk_required
def invoice_detail(request, pk):
    return _invoice_page(request, pk)


def _draft_for_edit(request, pk):
    return selectors.invoice_get_for_user(request.user, pk, audit_read=False)


@require_POST
@desk_required
def line_add(request, pk):
    invoice = _draft_for_edit(request, pk)
    form = LineForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_line_add(actor=request.user, invoice=invoice, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Line added."))
            return redirect(_invoice_url(invoice))
    return _invoice_page(request, pk, status=400, line_form=form, open_section="add-line")


@require_POST
@desk_required
def line_update(request, pk, line_pk):
    invoice = _draft_for_edit(request, pk)
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    form = LineUpdateForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            if (
                data.get("tier")
                and data["tier"] != line.tier
                and data["unit_price"] == line.unit_price
            ):
                data["unit_price"] = None  # a new tier takes its price from the price list
            services.invoice_line_update(actor=request.user, line=line, **data)
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Line updated."))
            return redirect(_invoice_url(invoice))
    errors = [str(e) for errors in form.errors.values() for e in errors]
    return _invoice_page(request, pk, status=400, line_errors={line.pk: errors})


@require_POST
@desk_required
def line_remove(request, pk, line_pk):
    invoice = _draft_for_edit(request, pk)
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice=invoice)
    try:
        services.invoice_line_remove(actor=request.user, line=line)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Line removed."))
    return redirect(_invoice_url(invoice))


@require_POST
@desk_required
def invoice_notes(request, pk):
    invoice = _draft_for_edit(request, pk)
    try:
        services.invoice_update_notes(
            actor=request.user, invoice=invoice, notes=request.POST.get("notes", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_invoice_url(invoice))


@require_POST
@desk_required
def invoice_issue(request, pk):
    invoice = _draft_for_edit(request, pk)
    try:
        invoice = services.invoice_issue(actor=request.user, invoice=invoice)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Invoice %(number)s issued: %(total)s.")
            % {"number": invoice.number, "total": format_money(invoice.total, invoice.currency)},
        )
    return redirect(_invoice_url(invoice))


@require_POST
@desk_required
def invoice_void(request, pk):
    invoice = _draft_for_edit(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.invoice_void(
                actor=request.user, invoice=invoice, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The draft is void."))
            return redirect(_invoice_url(invoice))
    return _invoice_page(request, pk, status=400, void_form=form, open_section="void")


@require_POST
@desk_required
def invoice_pay(request, pk):
    """Take a payment (card with reference, cash, transfer) or apply account credit."""
    detail = selectors.invoice_detail(request.user, pk)
    form = _payment_form(detail, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_take(
                actor=request.user,
                invoice=detail.invoice,
                method=data["method"],
                amount=data["amount"],
                reference=data.get("reference", ""),
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            currency = detail.invoice.currency
            text = _("%(amount)s received by %(method)s.") % {
                "amount": format_money(payment.amount, currency),
                "method": PaymentMethod(payment.method).label.lower(),
            }
            if payment.to_credit:
                text += " " + _("%(credit)s more than was due is kept as account credit.") % {
                    "credit": format_money(payment.to_credit, currency)
                }
            messages.success(request, text)
            return redirect(_invoice_url(detail.invoice) + "#payments")
    return _invoice_page(request, pk, status=400, payment_form=form, open_section="pay")


@require_POST
@desk_required
def invoice_credit(request, pk):
    detail = selectors.invoice_detail(request.user, pk)
    form = CreditForm(request.POST, lines=_credit_lines(detail))
    if form.is_valid():
        try:
            note = services.credit_note_issue(
                actor=request.user,
                invoice=detail.invoice,
                reason=form.cleaned_data["reason"],
                line_ids=form.cleaned_data["lines"],
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Credit note %(number)s issued for %(total)s.")
                % {"number": note.number, "total": format_money(note.total, note.currency)},
            )
            return redirect(_invoice_url(detail.invoice))
    return _invoice_page(request, pk, status=400, credit_form=form, open_section="credit")


@require_http_methods(["GET", "POST"])
@desk_required
def payment_refund(request, pk):
    payment = selectors.payment_get_for_user(request.user, pk)
    refundable = payment.amount - payment.refunded
    form = RefundForm(
        request.POST or None, initial={"amount": str(round_money(refundable, payment.currency))}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.refund_issue(actor=request.user, payment=payment, **form.cleaned_data)
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("%(amount)s refunded by %(method)s.")
                % {
                    "amount": format_money(form.cleaned_data["amount"], payment.currency),
                    "method": payment.get_method_display().lower(),
                },
            )
            if payment.invoice_id:
                return redirect(reverse("billing:invoice", args=[payment.invoice_id]))
            return redirect(reverse("billing:account", args=[payment.patient_id]))
    return render(
        request,
        "billing/refund.html",
        {"payment": payment, "form": form, "refundable": refundable},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@desk_required
def appointment_checkout(request, pk):
    """From a visit (today's list, the calendar panel): its invoice, or a button to draft it
    (a fee invoice for a missed visit shows there too)."""
    appointment = appointment_get_for_user(request.user, pk)
    invoice = selectors.invoice_for_appointment(request.user, appointment.pk)
    if request.method == "POST" and invoice is None:
        try:
            invoice = services.invoice_draft_for_appointment(
                actor=request.user, appointment=appointment
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    if invoice is not None:
        return redirect(_invoice_url(invoice))
    return render(
        request,
        "billing/checkout_start.html",
        {
            "appointment": appointment,
            "fees": selectors.fee_invoices_for_appointment(appointment.pk),
        },
    )


# --- Documents -------------------------------------------------------------------------------


def document_response(request, doc, *, as_pdf, filename, back_url=""):
    if as_pdf:
        response = HttpResponse(render_pdf(doc), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        return response
    return render(request, "billing/document.html", {"doc": doc, "back_url": back_url})


@require_GET
@desk_required
def invoice_print(request, pk, as_pdf=False):
    detail = selectors.invoice_detail(request.user, pk)
    doc = invoice_document(detail)
    return document_response(
        request,
        doc,
        as_pdf=as_pdf,
        filename=detail.invoice.number or f"draft-{pk}",
        back_url=_invoice_url(detail.invoice),
    )


def receipt_context(user, pk):
    payment = selectors.payment_get_for_user(user, pk)
    if payment.method == "package":
        raise Http404
    allocations = list(
        Allocation.objects.filter(payment=payment).select_related("invoice").order_by("id")
    )
    return receipt_document(payment, allocations)


@require_GET
@desk_required
def receipt_print(request, pk, as_pdf=False):
    doc = receipt_context(request.user, pk)
    payment = doc.receipt_payment
    back = (
        _invoice_url(payment.invoice)
        if payment.invoice_id
        else reverse("billing:account", args=[payment.patient_id])
    )
    return document_response(request, doc, as_pdf=as_pdf, filename=f"receipt-{pk}", back_url=back)


@require_POST
@desk_required
def invoice_email(request, pk):
    """Email the invoice (with what was paid) as a PDF to the patient's address."""
    invoice = selectors.invoice_get_for_user(request.user, pk, audit_read=False)
    if invoice.status != Invoice.Status.ISSUED:
        messages.error(request, _("Issue the invoice before sending it."))
    elif not invoice.patient.email:
        messages.error(request, _("The patient has no email address on file."))
    else:
        tasks.send_invoice_email.delay_on_commit(invoice.pk, request.user.pk)
        audit.record(
            actor=request.user,
            action="invoice.email_queued",
            target=invoice,
            patient_id=invoice.patient_id,
        )
        messages.success(
            request, _("The invoice is on its way to %(email)s.") % {"email": invoice.patient.email}
        )
    return redirect(_invoice_url(invoice))


__all__ = ["Decimal"]
