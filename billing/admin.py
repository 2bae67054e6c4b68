"""Billing in the Django admin: read-only, for looking things up. Every change goes through
the billing pages (services, audit trail); issued invoices and the ledger cannot change."""

from django.contrib import admin

from .models import Invoice, InvoiceLine, LedgerEntry, Package, Payment, PriceList, TaxRate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = ["description", "quantity", "unit_price", "discount", "tax_rate", "total"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "status", "purpose", "patient", "total", "issued_at"]
    list_filter = ["status", "kind", "purpose", "location"]
    search_fields = ["number", "patient__search_name"]
    list_select_related = ["patient"]
    inlines = [LineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "patient", "method", "amount", "reference", "received_by"]
    list_filter = ["method", "purpose", "location"]
    list_select_related = ["patient", "received_by"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "patient", "kind", "amount", "description"]
    list_select_related = ["patient"]


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    list_display = ["name", "patient", "sessions_total", "price", "status", "sold_at"]
    list_select_related = ["patient"]


@admin.register(PriceList)
class PriceListAdmin(ReadOnlyAdmin):
    list_display = ["effective_from", "currency", "tax_rate", "additional_areas"]


@admin.register(TaxRate)
class TaxRateAdmin(ReadOnlyAdmin):
    list_display = ["name", "rate", "is_active"]
