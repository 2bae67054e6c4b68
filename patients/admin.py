from django.contrib import admin

from .models import ConsentTemplate, Patient
from .services import consent_template_publish


@admin.register(ConsentTemplate)
class ConsentTemplateAdmin(admin.ModelAdmin):
    """Managers publish consent texts. Saving never edits a text in place: it publishes a new
    version, so every signature keeps pointing at the exact words the patient signed."""

    list_display = ["title", "kind", "version", "is_current", "required_for_intake", "created_at"]
    list_filter = ["kind", "is_current"]
    fields = ["kind", "title", "body", "required_for_intake"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind"] if obj else []

    def save_model(self, request, obj, form, change):
        published = consent_template_publish(
            actor=request.user,
            kind=obj.kind,
            title=obj.title,
            body=obj.body,
            required_for_intake=obj.required_for_intake,
        )
        obj.pk = published.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["legal_last_name", "legal_first_name", "date_of_birth", "email", "is_active"]
    search_fields = ["search_name", "email", "phone_digits"]
    readonly_fields = [f.name for f in Patient._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
