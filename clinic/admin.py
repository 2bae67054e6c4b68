from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, ClinicSettings, Location, Practitioner, Room, User, WorkingHours


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name",)}),
        (_("Role"), {"fields": ("is_active", "is_staff", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "password1", "password2", "groups"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined"]
    filter_horizontal = ["groups"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only and nobody edits it, not even a manager."""

    list_display = [
        "at",
        "actor_email",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "ip_address",
        "outcome",
    ]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_email", "action", "object_id", "=patient_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "time_zone", "is_active"]
    inlines = [RoomInline]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "title", "user", "is_active"]
    filter_horizontal = ["locations"]
    inlines = [WorkingHoursInline]


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
