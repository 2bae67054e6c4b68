"""Staff's day pages: front desk's today list and the practitioner's day, with the quick
status actions they need (check in, no-show, take the patient in)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinic.errors import ApplicationError
from clinic.models import Location, Practitioner
from clinic.permissions import clinician_required, desk_required, staff_role_required
from clinic.roles import DESK_ROLES, Role
from sessions import day_extras, selectors, services
from sessions.models import AppointmentStatus

# action in the URL -> (service, who may, the status it leads to)
DAY_ACTIONS = {
    "confirm": (services.appointment_confirm, DESK_ROLES, AppointmentStatus.CONFIRMED),
    # Practitioners check in their own patient when nobody is at the desk.
    "check-in": (
        services.appointment_check_in,
        (*DESK_ROLES, Role.PRACTITIONER),
        AppointmentStatus.CHECKED_IN,
    ),
    "no-show": (services.appointment_mark_no_show, DESK_ROLES, AppointmentStatus.NO_SHOW),
    "start": (
        services.appointment_start,
        (*DESK_ROLES, Role.PRACTITIONER),
        AppointmentStatus.IN_PROGRESS,
    ),
}


def _chosen_location(request):
    locations = list(Location.objects.filter(is_active=True))
    wanted = request.GET.get("location", "")
    chosen = next((loc for loc in locations if str(loc.pk) == wanted), None)
    return chosen or (locations[0] if locations else None), locations


@require_GET
@desk_required
def today(request):
    """Front desk's and the manager's landing page: today's list with arrival status."""
    location, locations = _chosen_location(request)
    day = timezone.localdate(timezone=location.zone) if location else timezone.localdate()
    appointments = (
        selectors.location_day(request.user, location=location, day=day) if location else []
    )
    day_extras.attach_extras(request.user, appointments, day_extras.TODAY)
    counts = {
        "expected": sum(a.status in ("booked", "confirmed") for a in appointments),
        "arrived": sum(a.status in ("checked_in", "in_progress") for a in appointments),
        "done": sum(a.status == "completed" for a in appointments),
        "missed": sum(a.status == "no_show" for a in appointments),
    }
    return render(
        request,
        "treatment_sessions/today.html",
        {
            "today": day,
            "now": timezone.now(),
            "location": location,
            "locations": locations,
            "appointments": appointments,
            "counts": counts,
        },
    )


@require_GET
@clinician_required
def my_day(request):
    """A practitioner's landing page: their appointments today, with session k of N and the
    patient's alerts."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    appointments, day = [], timezone.localdate()
    if practitioner is not None:
        location = practitioner.locations.first()
        if location is not None:
            day = timezone.localdate(timezone=location.zone)
        appointments = selectors.practitioner_day(request.user, practitioner=practitioner, day=day)
    day_extras.attach_extras(request.user, appointments, day_extras.MY_DAY)
    return render(
        request,
        "treatment_sessions/my_day.html",
        {"today": day, "practitioner": practitioner, "appointments": appointments},
    )


@require_POST
@staff_role_required
def appointment_day_action(request, pk, action):
    """One status change from a day list; back to the list with a message either way."""
    service, roles, status = DAY_ACTIONS.get(action, (None, (), None))
    if service is None or request.user.role not in roles:
        raise PermissionDenied
    appointment = selectors.appointment_get_for_user(request.user, pk)
    try:
        service(actor=request.user, appointment=appointment)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(patient)s: %(status)s.")
            % {"patient": appointment.patient.full_name, "status": status.label.lower()},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
