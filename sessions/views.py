from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.permissions import portal_required, role_required, staff_required
from clinic.roles import Role
from patients.views import portal_intake_status


@require_GET
@role_required(Role.MANAGER, Role.FRONT_DESK)
def today(request):
    """Front desk's and the manager's landing page: today's schedule for the location."""
    return render(request, "treatment_sessions/today.html", {"today": timezone.localdate()})


@require_GET
@staff_required
def my_day(request):
    """A practitioner's landing page: their appointments today."""
    return render(request, "treatment_sessions/my_day.html", {"today": timezone.localdate()})


@require_GET
@portal_required
def my_schedule(request):
    """A patient's landing page in the portal: their appointments and course progress."""
    return render(
        request, "treatment_sessions/my_schedule.html", {"intake": portal_intake_status(request)}
    )
