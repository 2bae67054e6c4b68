"""The manager's price list pages (Clinic set-up → Prices): versions in force from a date,
each with its rules and the price of every appointment type, area and tier, and billable
product; tax rates. A version used by an issued invoice is read-only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import ClinicSettings
from clinic.permissions import manager_required
from consultations.models import Product
from sessions.models import AppointmentType

from . import services
from .forms import PriceRulesForm, TaxRateForm, price_fields
from .models import PriceList, TaxRate
from .money import round_money
from .pricing import price_list_in_force
from .services.prices import RULE_FIELDS, price_list_is_locked


def _shown(value, currency):
    """An amount as the currency writes it (300.00, not 300.000)."""
    return None if value is None else str(round_money(value, currency))


def _initial_prices(price_list):
    if price_list is None:
        return {}
    c = price_list.currency
    initial = {
        f"type_{p.appointment_type_id}": _shown(p.amount, c) for p in price_list.sessions.all()
    }
    initial.update({f"area_{p.area}_{p.tier}": _shown(p.amount, c) for p in price_list.areas.all()})
    initial.update(
        {f"product_{p.product_id}": _shown(p.amount_per_ml, c) for p in price_list.products.all()}
    )
    for field in ("no_show_fee", "late_cancellation_fee"):
        initial[field] = _shown(getattr(price_list, field), c)
    if price_list.additional_area_value is not None:
        initial["additional_area_value"] = f"{price_list.additional_area_value.normalize():f}"
    return initial


def _split_prices(data, groups):
    sessions = {int(name[5:]): data.get(name) for name in groups["types"]}
    areas = {}
    for _label, row in groups["areas"]:
        for name in row:
            _prefix, rest = name.split("_", 1)
            area, tier = rest.rsplit("_", 1)
            areas[(area, tier)] = data.get(name)
    products = {int(name[8:]): data.get(name) for name in groups["products"]}
    return sessions, areas, products


def _form(request, *, instance, initial_from):
    types = list(AppointmentType.objects.filter(is_active=True).order_by("kind", "name"))
    products = list(Product.objects.filter(is_active=True))
    initial = {}
    if initial_from is not None and instance.pk is None:
        initial = {field: getattr(initial_from, field) for field in RULE_FIELDS}
        initial["effective_from"] = timezone.localdate()
    form = PriceRulesForm(request.POST or None, instance=instance, initial=initial)
    prices = _initial_prices(initial_from)
    groups = price_fields(form, types=types, products=products, initial=prices)
    for field in ("no_show_fee", "late_cancellation_fee", "additional_area_value"):
        if prices.get(field) is not None:
            form.initial[field] = prices[field]
    return form, groups


@require_GET
@manager_required
def price_list_index(request):
    today = timezone.localdate()
    versions = list(PriceList.objects.select_related("tax_rate").order_by("-effective_from"))
    current = price_list_in_force(today)
    for version in versions:
        version.locked = price_list_is_locked(version)
        version.in_force = current is not None and version.pk == current.pk
    return render(
        request,
        "billing/prices/index.html",
        {
            "versions": versions,
            "tax_rates": TaxRate.objects.all(),
            "tax_form": TaxRateForm(),
            "currency": ClinicSettings.load().currency,
            "section": "prices",
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def price_list_new(request):
    current = price_list_in_force(timezone.localdate()) or PriceList.objects.first()
    form, groups = _form(request, instance=PriceList(), initial_from=current)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        sessions, areas, products = _split_prices(data, groups)
        try:
            price_list = services.price_list_create(
                actor=request.user,
                effective_from=data["effective_from"],
                rules={field: data.get(field) for field in RULE_FIELDS},
                sessions=sessions,
                areas=areas,
                products=products,
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Prices from %(day)s are saved.") % {"day": price_list.effective_from},
            )
            return redirect("billing:prices")
    return render(
        request,
        "billing/prices/form.html",
        {
            "form": form,
            "groups": groups,
            "creating": True,
            "section": "prices",
            "currency": ClinicSettings.load().currency,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@manager_required
def price_list_edit(request, pk):
    price_list = get_object_or_404(PriceList, pk=pk)
    locked = price_list_is_locked(price_list)
    form, groups = _form(request, instance=price_list, initial_from=price_list)
    if locked:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and not locked and form.is_valid():
        data = form.cleaned_data
        sessions, areas, products = _split_prices(data, groups)
        try:
            services.price_list_update(
                actor=request.user,
                price_list=PriceList.objects.get(pk=pk),
                rules={field: data.get(field) for field in RULE_FIELDS},
                sessions=sessions,
                areas=areas,
                products=products,
            )
        except ApplicationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("The prices are saved."))
            return redirect("billing:prices")
    return render(
        request,
        "billing/prices/form.html",
        {
            "form": form,
            "groups": groups,
            "price_list": price_list,
            "locked": locked,
            "section": "prices",
            "currency": price_list.currency,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@manager_required
def tax_rate_add(request):
    form = TaxRateForm(request.POST)
    if form.is_valid():
        try:
            services.tax_rate_save(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        except ValidationError as exc:  # e.g. a name already used
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Tax rate added."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("billing:prices")
