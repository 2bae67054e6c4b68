"""The manager's clinic set-up pages: locations, rooms, practitioners with their hours, and
the clinic's settings. Appointment types live in ``sessions.setup_views``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .errors import ApplicationError
from .lib.forms import add_service_error
from .models import (
    ClinicSettings,
    Location,
    Practitioner,
    Room,
    Weekday,
    WorkingHours,
    WorkingHoursException,
)
from .permissions import manager_required
from .setup_forms import (
    ClinicSettingsForm,
    HoursExceptionForm,
    LocationForm,
    PractitionerForm,
    RoomForm,
    WorkingHoursForm,
)

SERVICE_ERRORS = (ApplicationError, ValidationError)

# manager_required goes outside the method check: anyone else gets 403 whatever the method.


@manager_required
@require_GET
def index(request):
    return render(request, "clinic/setup/index.html", {"section": "index"})


# --- Locations and rooms ----------------------------------------------------------------


@manager_required
@require_GET
def location_list(request):
    locations = Location.objects.annotate(
        room_count=Count("rooms", distinct=True),
        practitioner_count=Count("practitioners", distinct=True),
    ).order_by("-is_active", "name")
    return render(
        request, "clinic/setup/locations.html", {"locations": locations, "section": "locations"}
    )


def _location_page(request, location):
    # The form gets its own copy: a bound form writes its entries onto its instance, and the
    # page heading should keep the saved name while the entries are corrected.
    instance = Location.objects.get(pk=location.pk) if location else None
    form = LocationForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.location_save(
                actor=request.user, location=location, data=form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved.name})
            return redirect("setup_locations")
    rooms = location.rooms.order_by("-is_active", "name") if location else []
    return render(
        request,
        "clinic/setup/location_form.html",
        {"form": form, "location": location, "rooms": rooms, "section": "locations"},
        status=400 if form.errors else 200,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def location_new(request):
    return _location_page(request, None)


@manager_required
@require_http_methods(["GET", "POST"])
def location_edit(request, pk):
    return _location_page(request, get_object_or_404(Location, pk=pk))


@manager_required
@require_GET
def room_list(request):
    locations = Location.objects.prefetch_related(
        Prefetch("rooms", queryset=Room.objects.order_by("-is_active", "name"))
    ).order_by("-is_active", "name")
    return render(request, "clinic/setup/rooms.html", {"locations": locations, "section": "rooms"})


def _room_page(request, *, location, room):
    instance = Room.objects.get(pk=room.pk) if room else Room(location=location)
    form = RoomForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.room_save(
                actor=request.user, location=location, room=room, data=form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("%(room)s at %(location)s is saved.")
                % {"room": saved.name, "location": location.name},
            )
            return redirect("setup_rooms")
    return render(
        request,
        "clinic/setup/room_form.html",
        {"form": form, "location": location, "room": room, "section": "rooms"},
        status=400 if form.errors else 200,
    )


@manager_required
@require_http_methods(["GET", "POST"])
def room_new(request, pk):
    return _room_page(request, location=get_object_or_404(Location, pk=pk), room=None)


@manager_required
@require_http_methods(["GET", "POST"])
def room_edit(request, pk):
    room = get_object_or_404(Room.objects.select_related("location"), pk=pk)
    return _room_page(request, location=room.location, room=room)


# --- Practitioners, their weekly hours and exceptions ------------------------------------


@manager_required
@require_GET
def practitioner_list(request):
    practitioners = (
        Practitioner.objects.select_related("user")
        .prefetch_related(Prefetch("locations", queryset=Location.objects.order_by("name")))
        .annotate(block_count=Count("working_hours"))
        .order_by("-is_active", "display_name")
    )
    return render(
        request,
        "clinic/setup/practitioners.html",
        {"practitioners": practitioners, "section": "practitioners"},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def practitioner_new(request):
    form = PractitionerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            practitioner = services.practitioner_save(actor=request.user, data=form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is saved. Now add their weekly hours.") % {"name": practitioner},
            )
            return redirect("setup_practitioner_edit", pk=practitioner.pk)
    return render(
        request,
        "clinic/setup/practitioner_new.html",
        {"form": form, "section": "practitioners"},
        status=400 if form.errors else 200,
    )


def _week(practitioner):
    """The weekly blocks grouped by day, Monday first; days without hours included."""
    blocks = WorkingHours.objects.filter(practitioner=practitioner).select_related("location")
    by_day = {day: [] for day in Weekday}
    for block in blocks.order_by("weekday", "starts_at"):
        by_day[Weekday(block.weekday)].append(block)
    return list(by_day.items())


def _practitioner_page(request, practitioner, *, form=None, hours_form=None, exception_form=None):
    upcoming = (
        WorkingHoursException.objects.filter(
            practitioner=practitioner, date__gte=timezone.localdate()
        )
        .select_related("location")
        .order_by("date", "starts_at")
    )
    forms = {
        "form": form or PractitionerForm(instance=Practitioner.objects.get(pk=practitioner.pk)),
        "hours_form": hours_form or WorkingHoursForm(practitioner=practitioner),
        "exception_form": exception_form or HoursExceptionForm(practitioner=practitioner),
    }
    invalid = any(f.is_bound and f.errors for f in forms.values())
    return render(
        request,
        "clinic/setup/practitioner_edit.html",
        {
            **forms,
            "practitioner": practitioner,
            "week": _week(practitioner),
            "many_locations": len(forms["hours_form"].fields["location"].queryset) > 1,
            "exceptions": upcoming,
            "section": "practitioners",
        },
        status=400 if invalid else 200,
    )


def _practitioner(pk):
    return get_object_or_404(Practitioner.objects.select_related("user"), pk=pk)


def _to_practitioner(practitioner, anchor=""):
    return redirect(reverse("setup_practitioner_edit", args=[practitioner.pk]) + anchor)


@manager_required
@require_http_methods(["GET", "POST"])
def practitioner_edit(request, pk):
    practitioner = _practitioner(pk)
    if request.method != "POST":
        return _practitioner_page(request, practitioner)
    form = PractitionerForm(request.POST, instance=_practitioner(pk))
    if form.is_valid():
        try:
            saved = services.practitioner_save(
                actor=request.user, practitioner=practitioner, data=form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": saved})
            return _to_practitioner(saved)
    return _practitioner_page(request, practitioner, form=form)


@manager_required
@require_POST
def hours_add(request, pk):
    practitioner = _practitioner(pk)
    form = WorkingHoursForm(request.POST, practitioner=practitioner)
    if form.is_valid():
        try:
            services.working_hours_add(
                actor=request.user, practitioner=practitioner, **form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Working hours added."))
            return _to_practitioner(practitioner, "#hours")
    return _practitioner_page(request, practitioner, hours_form=form)


@manager_required
@require_POST
def hours_remove(request, pk, block_pk):
    practitioner = _practitioner(pk)
    block = get_object_or_404(WorkingHours, pk=block_pk, practitioner=practitioner)
    services.working_hours_remove(actor=request.user, block=block)
    messages.success(request, _("Working hours removed."))
    return _to_practitioner(practitioner, "#hours")


@manager_required
@require_POST
def exception_add(request, pk):
    practitioner = _practitioner(pk)
    form = HoursExceptionForm(request.POST, practitioner=practitioner)
    if form.is_valid():
        try:
            services.hours_exception_add(
                actor=request.user, practitioner=practitioner, **form.cleaned_data
            )
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Exception added."))
            return _to_practitioner(practitioner, "#exceptions")
    return _practitioner_page(request, practitioner, exception_form=form)


@manager_required
@require_POST
def exception_remove(request, pk, exception_pk):
    practitioner = _practitioner(pk)
    exception = get_object_or_404(WorkingHoursException, pk=exception_pk, practitioner=practitioner)
    services.hours_exception_remove(actor=request.user, exception=exception)
    messages.success(request, _("Exception removed."))
    return _to_practitioner(practitioner, "#exceptions")


# --- Clinic settings ---------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request):
    form = ClinicSettingsForm(request.POST or None, instance=ClinicSettings.load())
    if request.method == "POST" and form.is_valid():
        try:
            services.clinic_settings_update(actor=request.user, data=form.cleaned_data)
        except SERVICE_ERRORS as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Clinic settings saved."))
            return redirect("setup_settings")
    return render(
        request,
        "clinic/setup/settings.html",
        {"form": form, "section": "settings"},
        status=400 if form.errors else 200,
    )
