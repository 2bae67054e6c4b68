from django.contrib import admin

from sessions.models import AppointmentType


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "duration_minutes",
        "buffer_after_minutes",
        "needs_room",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False
