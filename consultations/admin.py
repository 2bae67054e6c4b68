"""The product catalogue, kept by the manager in the Django admin (a set-up page may replace
it later). Clinical records are not editable here: they change only through the services."""

from django.contrib import admin

from clinic.roles import Role, extend_role_permissions

from .models import Product

# The manager keeps the catalogue; applied to the group by ``sync_role_permissions`` after
# ``migrate``. Products are never deleted (plans and session records point at them):
# untick "active" instead.
extend_role_permissions(
    Role.MANAGER,
    ["consultations.view_product", "consultations.add_product", "consultations.change_product"],
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "manufacturer", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "composition", "manufacturer"]

    def has_delete_permission(self, request, obj=None):
        return False
