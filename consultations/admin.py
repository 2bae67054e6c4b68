"""The product catalogue, kept by the manager in the Django admin (a set-up page may replace
it later). Clinical records are not editable here: they change only through the services."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from clinic.roles import Role, extend_role_permissions
from consultations.models import Product, ProductLot

# The manager keeps the catalogue; applied to the group by ``sync_role_permissions`` after
# ``migrate``. Products are never deleted (plans and session records point at them):
# untick "active" instead.
extend_role_permissions(
    Role.MANAGER,
    [
        "consultations.view_product",
        "consultations.add_product",
        "consultations.change_product",
        "consultations.view_productlot",
        "consultations.add_productlot",
        "consultations.change_productlot",
    ],
)


class ProductLotForm(forms.ModelForm):
    """A lot row: once saved, its number and expiry are what session records and the recall
    rely on, so they are shown but not changed here; a number already registered for the
    product in another case (``ab-1`` and ``AB-1``) is refused, as the Lots page does."""

    class Meta:
        model = ProductLot
        fields = ["lot_number", "expires_on", "received_on", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("lot_number", "expires_on"):
                self.fields[name].disabled = True

    def clean_lot_number(self):
        number = self.cleaned_data["lot_number"].strip()
        product_id = self.instance.product_id
        if product_id and not self.instance.pk:
            taken = ProductLot.objects.filter(product_id=product_id, lot_number__iexact=number)
            if taken.exists():
                raise forms.ValidationError(_("This lot number is already registered."))
        return number


class ProductLotInline(admin.TabularInline):
    """The product's lots. Lots are never deleted (session records and the recall point at
    them): take one out of stock instead. The Lots page does the same and audits it."""

    model = ProductLot
    form = ProductLotForm
    fields = ["lot_number", "expires_on", "received_on", "is_active"]
    extra = 0
    ordering = ["-is_active", "expires_on", "lot_number"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "manufacturer", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "composition", "manufacturer"]
    inlines = [ProductLotInline]

    def has_delete_permission(self, request, obj=None):
        return False
