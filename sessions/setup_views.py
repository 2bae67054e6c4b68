"""The manager's appointment-type pages, part of the clinic set-up (``clinic.setup_views``)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.permissions import manager_required
from sessions.models import AppointmentType
from sessions.services.types import appointment_type_save
from sessions.setup_forms import AppointmentTypeForm


@manager_required
@require_GET
def type_list(request):
    types = AppointmentType.objects.order_by("-is_active", "name")
    return render(
        request, "treatment_sessions/setup/types.html", {"types": types, "section": "types"}
    )


def _type_page(request, appointment_type):
    # The form gets its own copy so the heading keeps the saved name while entries are fixed.
    instance = AppointmentType.objects.get(pk=appointment_type.pk) if appointment_type else None
    form = AppointmentTypeForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = appointment_type_save(
                actor=request.user, appointment_type=appointment_type, data=form.cleaned_data
            )
        except (ApplicationError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return redirect("treatment_sessions:setup_types")
    return render(
        request,
        "treatment_sessions/setup/type_form.html",
        {"form": form, "appointment_type": appointment_type, "section": "types"},
        status=400 if form.errors else 200,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def type_new(request):
    return _type_page(request, None)


@manager_required
@require_http_methods(["GET", "POST"])
def type_edit(request, pk):
    return _type_page(request, get_object_or_404(AppointmentType, pk=pk))
