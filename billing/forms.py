"""Forms of the billing pages. They parse and check input; the services write (and check
again, so the API and the pages refuse the same things)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea

from .models import AreaTier, PaymentMethod, PriceList, TaxRate
from .services.prices import RULE_FIELDS

MONEY_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


def money_field(label, *, required=True, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.001"),
        max_digits=14,
        decimal_places=3,
        help_text=help_text,
        widget=forms.TextInput(attrs=MONEY_INPUT),
        error_messages={"min_value": _("The amount must be more than zero.")},
    )


def quantity_field(**kwargs):
    return forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        widget=forms.TextInput(attrs=MONEY_INPUT),
        **kwargs,
    )


def discount_field():
    return forms.DecimalField(
        label=_("Discount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=3,
        widget=forms.TextInput(attrs=MONEY_INPUT),
    )


class LineForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=200)
    quantity = quantity_field(initial=1)
    unit_price = money_field(_("Unit price"))
    discount = discount_field()


class LineUpdateForm(forms.Form):
    quantity = quantity_field()
    unit_price = money_field(_("Unit price"))
    discount = discount_field()
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", "—"), *AreaTier.choices]
    )


PAY_METHODS = [
    (PaymentMethod.CARD, PaymentMethod.CARD.label),
    (PaymentMethod.CASH, PaymentMethod.CASH.label),
    (PaymentMethod.BANK_TRANSFER, PaymentMethod.BANK_TRANSFER.label),
    (PaymentMethod.ACCOUNT_CREDIT, PaymentMethod.ACCOUNT_CREDIT.label),
]


class PaymentForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"), choices=PAY_METHODS, widget=forms.RadioSelect)
    amount = money_field(_("Amount"))
    reference = forms.CharField(
        label=_("Terminal or transfer reference"),
        max_length=80,
        required=False,
        help_text=_("Needed for a card payment."),
    )

    def __init__(self, *args, with_credit=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_credit:
            self.fields["method"].choices = PAY_METHODS[:3]

    def clean(self):
        data = super().clean()
        if data.get("method") == PaymentMethod.CARD and not data.get("reference", "").strip():
            self.add_error("reference", _("Type the card terminal's transaction reference."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CreditForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the credit note"), max_length=300)
    lines = forms.MultipleChoiceField(
        label=_("Lines to credit"), required=True, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(str(line.pk), line.description) for line in lines]
        self.fields["lines"].initial = [str(line.pk) for line in lines]


class RefundForm(forms.Form):
    amount = money_field(_("Amount to refund"))
    reason = forms.CharField(label=_("Reason"), max_length=300)
    reference = forms.CharField(
        label=_("Refund reference"),
        max_length=80,
        required=False,
        help_text=_("The terminal's refund reference, or the transfer's."),
    )


class DepositForm(forms.Form):
    course = forms.ChoiceField(label=_("For the course"))
    method = forms.ChoiceField(label=_("Method"), choices=PAY_METHODS[:3], widget=forms.RadioSelect)
    amount = money_field(_("Deposit"))
    reference = forms.CharField(
        label=_("Terminal or transfer reference"), max_length=80, required=False
    )

    def __init__(self, *args, courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [(str(c.pk), str(c)) for c in courses]

    def clean(self):
        data = super().clean()
        if data.get("method") == PaymentMethod.CARD and not data.get("reference", "").strip():
            self.add_error("reference", _("Type the card terminal's transaction reference."))
        return data


class PackageForm(forms.Form):
    course = forms.ChoiceField(label=_("Course"), required=False)
    appointment_type = forms.ChoiceField(
        label=_("Type of session"),
        required=False,
        help_text=_("Only when the package is sold before the course is booked."),
    )
    sessions = forms.IntegerField(label=_("Sessions"), min_value=1, max_value=50)
    price = money_field(_("Price of the package, tax included"))
    name = forms.CharField(label=_("Name"), max_length=120, required=False)

    def __init__(self, *args, courses=(), types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [("", _("No course yet"))] + [
            (str(c.pk), f"{c.appointment_type} × {c.planned_sessions} ({c.get_status_display()})")
            for c in courses
        ]
        self.fields["appointment_type"].choices = [("", "—")] + [(str(t.pk), t.name) for t in types]

    def clean(self):
        data = super().clean()
        if not data.get("course") and not data.get("appointment_type"):
            self.add_error("appointment_type", _("Choose a course or a type of session."))
        return data


class PriceRulesForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = ["effective_from", *RULE_FIELDS]
        widgets = {"effective_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].queryset = TaxRate.objects.filter(is_active=True)
        for name in ("additional_area_value", "no_show_fee", "late_cancellation_fee"):
            self.fields[name].widget = forms.TextInput(attrs=MONEY_INPUT)

    def validate_unique(self):
        # The service says when a version already starts that day (a clearer message).
        pass


def price_fields(form, *, types, products, initial):
    """Add one money field per appointment type, area and tier, and product to ``form``.
    ``initial`` maps field names to amounts. Returns the groups for the template."""
    groups = {"types": [], "areas": [], "products": []}
    for appointment_type in types:
        name = f"type_{appointment_type.pk}"
        form.fields[name] = money_field(appointment_type.name, required=False)
        form.initial[name] = initial.get(name)
        groups["types"].append(name)
    for area, label in BodyArea.choices:
        row = []
        for tier, tier_label in AreaTier.choices:
            name = f"area_{area}_{tier}"
            form.fields[name] = money_field(f"{label}: {tier_label}", required=False)
            form.initial[name] = initial.get(name)
            row.append(name)
        groups["areas"].append((label, row))
    for product in products:
        name = f"product_{product.pk}"
        form.fields[name] = money_field(f"{product.name} (per ml)", required=False)
        form.initial[name] = initial.get(name)
        groups["products"].append(name)
    return groups


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["name", "rate"]


class ReportForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ChoiceField(label=_("Location"), required=False)

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [("", _("All locations"))] + [
            (str(loc.pk), loc.name) for loc in locations
        ]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error("end", _("The end is before the start."))
            elif (data["end"] - data["start"]).days > 366:
                self.add_error("end", _("Ask for at most a year at a time."))
        return data
