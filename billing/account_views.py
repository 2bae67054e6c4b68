"""A patient's billing account for front desk and managers: the ledger with its running
balance, invoices, payments and refunds, packages with the sessions left, deposits; selling
a package, taking a deposit, starting an invoice for anything else."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import Location
from patients.selectors import patient_get_for_user
from sessions.models import AppointmentType, Course

from . import selectors, services
from .forms import DepositForm, PackageForm, ReasonForm
from .money import format_money
from .views import desk_required


def _account_url(patient):
    return reverse("billing:account", args=[patient.pk])


def _courses(patient):
    return list(
        Course.objects.filter(patient=patient)
        .select_related("appointment_type")
        .order_by("-created_at")
    )


def _default_location(patient):
    last = patient.appointments.select_related("location").order_by("-starts_at").first()
    return last.location if last else Location.objects.filter(is_active=True).first()


def _zone(patient):
    location = _default_location(patient)
    return location.time_zone if location else "UTC"


@require_GET
@desk_required
def account(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    account = selectors.patient_account(request.user, patient)
    courses = _courses(patient)
    return render(
        request,
        "billing/account.html",
        {
            "patient": patient,
            "account": account,
            "deposit_form": DepositForm(courses=[c for c in courses if c.status == "active"]),
            "has_courses": any(c.status == "active" for c in courses),
            "zone": _zone(patient),
        },
    )


@require_POST
@desk_required
def deposit(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    courses = [c for c in _courses(patient) if c.status == "active"]
    form = DepositForm(request.POST, courses=courses)
    if form.is_valid():
        data = form.cleaned_data
        course = next(c for c in courses if str(c.pk) == data["course"])
        try:
            payment = services.deposit_take(
                actor=request.user,
                patient=patient,
                location=course.location,
                method=data["method"],
                amount=data["amount"],
                reference=data.get("reference", ""),
                course=course,
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Deposit of %(amount)s taken; it pays the course's first invoice.")
                % {"amount": format_money(payment.amount, payment.currency)},
            )
            return redirect(_account_url(patient))
    account = selectors.patient_account(request.user, patient, audit_read=False)
    return render(
        request,
        "billing/account.html",
        {
            "patient": patient,
            "account": account,
            "deposit_form": form,
            "has_courses": True,
            "open_section": "deposit",
            "zone": _zone(patient),
        },
        status=400,
    )


@require_POST
@desk_required
def invoice_new(request, patient_id):
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    location = _default_location(patient)
    if location is None:
        messages.error(request, _("Set up a location first."))
        return redirect(_account_url(patient))
    invoice = services.invoice_draft_blank(actor=request.user, patient=patient, location=location)
    return redirect(reverse("billing:invoice", args=[invoice.pk]))


@require_http_methods(["GET", "POST"])
@desk_required
def package_new(request, patient_id):
    """Sell a package: a course (or a type of session when the course is booked later), the
    number of sessions and the price; its invoice is issued at once."""
    patient = patient_get_for_user(request.user, patient_id, audit_read=False)
    courses = [c for c in _courses(patient) if c.status == "active"]
    types = list(AppointmentType.objects.filter(is_active=True).exclude(kind="consultation"))
    initial = {}
    wanted = request.GET.get("course", "")
    chosen = next((c for c in courses if str(c.pk) == wanted), None)
    if chosen is not None:
        initial = {"course": str(chosen.pk), "sessions": chosen.planned_sessions}
    form = PackageForm(request.POST or None, courses=courses, types=types, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = next((c for c in courses if str(c.pk) == data["course"]), None)
        appointment_type = next(
            (t for t in types if str(t.pk) == data.get("appointment_type")), None
        )
        location = course.location if course else _default_location(patient)
        try:
            package = services.package_sell(
                actor=request.user,
                patient=patient,
                location=location,
                appointment_type=appointment_type,
                sessions=data["sessions"],
                price=data["price"],
                course=course,
                name=data.get("name", ""),
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Package sold: invoice %(number)s for %(total)s. Take the payment now or in "
                    "instalments."
                )
                % {
                    "number": package.invoice.number,
                    "total": format_money(package.invoice.total, package.currency),
                },
            )
            return redirect(reverse("billing:invoice", args=[package.invoice_id]))
    return render(
        request,
        "billing/package_new.html",
        {"patient": patient, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@desk_required
def package_cancel(request, pk):
    package = selectors.package_get_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for cancelling the package."))
        return redirect(_account_url(package.patient))
    try:
        note = services.package_cancel(
            actor=request.user, package=package, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Package cancelled; credit note %(number)s for %(total)s.")
            % {"number": note.number, "total": format_money(note.total, note.currency)},
        )
    return redirect(_account_url(package.patient))
