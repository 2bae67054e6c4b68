"""Forms of the product-lot pages: register a delivered lot, search a lot number to recall.
They validate only; the views call the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from consultations.models import Product, ProductLot


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LotForm(forms.Form):
    """A lot as printed on the vial. Whether it is a duplicate is the service's answer (409)."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True).order_by("name")
    )
    lot_number = forms.CharField(
        label=_("Lot number"),
        max_length=ProductLot._meta.get_field("lot_number").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    expires_on = forms.DateField(label=_("Expiry date"), widget=DateInput())
    received_on = forms.DateField(label=_("Received"), required=False, widget=DateInput())

    def clean_lot_number(self):
        value = self.cleaned_data["lot_number"].strip()
        if not value:
            raise forms.ValidationError(_("Enter the lot number printed on the vial."))
        return value

    def clean(self):
        cleaned = super().clean()
        expires, received = cleaned.get("expires_on"), cleaned.get("received_on")
        if expires and received and expires < received:
            self.add_error("expires_on", _("The lot cannot expire before it was received."))
        return cleaned


class RecallSearchForm(forms.Form):
    lot = forms.CharField(
        label=_("Lot number"),
        max_length=ProductLot._meta.get_field("lot_number").max_length,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "type": "search"}
        ),
    )

    def clean_lot(self):
        value = self.cleaned_data["lot"].strip()
        if not value:
            raise forms.ValidationError(_("Enter a lot number."))
        return value
