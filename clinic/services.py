from datetime import date as date_type

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .errors import ApplicationError
from .models import (
    ClinicSettings,
    Location,
    Practitioner,
    Room,
    User,
    Weekday,
    WorkingHours,
    WorkingHoursException,
)
from .roles import Role


@transaction.atomic
def user_create(*, actor, email, password, full_name="", role):
    """Create a login with one role. Managers (and set-up commands with ``actor=None``)."""
    user = User(email=email, full_name=full_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user_set_role(actor=actor, user=user, role=role)
    audit.record(actor=actor, action="user.created", target=user, detail={"role": role.label_en})
    return user


@transaction.atomic
def user_set_role(*, actor, user, role):
    """Give ``user`` exactly one role. Only managers get the Django admin (``is_staff``).

    Role changes are audited by the ``m2m_changed`` receiver in ``clinic.signals``.
    """
    group = Group.objects.get(name=role.label_en)
    user.groups.set([group])
    user.is_staff = role is Role.MANAGER
    user.save(update_fields=["is_staff"])
    user._role_cache = role
    if hasattr(user, "_perm_cache"):
        del user._perm_cache
    if hasattr(user, "_group_perm_cache"):
        del user._group_perm_cache
    return user


# --- Clinic set-up (managers only; the views check the role) -------------------------------

LOCATION_FIELDS = ["name", "code", "time_zone", "address", "phone", "email", "is_active"]
ROOM_FIELDS = ["name", "is_active"]
PRACTITIONER_FIELDS = ["user", "display_name", "title", "colour", "is_active"]
SETTINGS_FIELDS = [
    "name",
    "phone",
    "email",
    "address",
    "currency",
    "cancellation_window_hours",
    "intake_link_valid_days",
    "front_desk_sees_photos",
    "portal_shows_photos",
    "aftercare_template",
]


def _apply(instance, data, fields):
    """Copy the allowed ``fields`` present in ``data`` onto ``instance``; return the names of
    those that changed (for the audit record)."""
    changed = []
    for field in fields:
        if field not in data:
            continue
        attname = instance._meta.get_field(field).attname  # user -> user_id: no query
        value = data[field]
        if getattr(instance, attname) != getattr(value, "pk", value):
            setattr(instance, field, value)
            changed.append(field)
    return changed


def _locked(model, obj):
    """Re-read ``obj`` under a row lock, so two managers saving the same form one after the
    other do not interleave their reads and writes."""
    return model.objects.select_for_update().get(pk=obj.pk) if obj is not None else model()


@transaction.atomic
def location_save(*, actor, location=None, data):
    """Create a location (``location=None``) or change one. Managers only."""
    created = location is None
    location = _locked(Location, location)
    changed = _apply(location, data, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    audit.record(
        actor=actor,
        action="setup.location_saved",
        target=location,
        detail={"created": created, "changed": changed},
    )
    return location


@transaction.atomic
def room_save(*, actor, location=None, room=None, data):
    """Create a room at ``location`` (``room=None``) or change one. Managers only."""
    created = room is None
    room = _locked(Room, room)
    if created:
        room.location = location
    changed = _apply(room, data, ROOM_FIELDS)
    same_name = Room.objects.filter(location=room.location, name__iexact=room.name)
    if same_name.exclude(pk=room.pk).exists():
        raise ApplicationError(
            _("%(location)s already has a room called %(name)s.")
            % {"location": room.location, "name": room.name},
            field="name",
        )
    room.full_clean()
    room.save()
    audit.record(
        actor=actor,
        action="setup.room_saved",
        target=room,
        detail={"created": created, "changed": changed, "location": room.location_id},
    )
    return room


@transaction.atomic
def practitioner_save(*, actor, practitioner=None, data):
    """Create a practitioner (``practitioner=None``) or change one. Managers only.

    ``data["user"]`` must be an active login with the Practitioner role. A location the
    practitioner still has weekly hours at cannot be taken away: remove the hours first, so
    the schedule never points at a place they no longer work.
    """
    created = practitioner is None
    practitioner = _locked(Practitioner, practitioner)
    user = data.get("user", practitioner.user if not created else None)
    if user is None or user.role is not Role.PRACTITIONER or not user.is_active:
        raise ApplicationError(_("Pick an active login with the Practitioner role."), field="user")
    wanted = None
    if "locations" in data:
        wanted = {loc.pk for loc in data["locations"]}
        if not wanted:
            raise ApplicationError(_("Pick at least one location."), field="locations")
        if not created:
            _check_hours_stay_at(practitioner, wanted)
    changed = _apply(practitioner, data, PRACTITIONER_FIELDS)
    practitioner.full_clean()
    practitioner.save()
    if wanted is not None and (
        created or wanted != set(practitioner.locations.values_list("pk", flat=True))
    ):
        practitioner.locations.set(wanted)
        changed.append("locations")
    audit.record(
        actor=actor,
        action="setup.practitioner_saved",
        target=practitioner,
        detail={"created": created, "changed": changed},
    )
    return practitioner


def _check_hours_stay_at(practitioner, location_ids):
    still_used = (
        WorkingHours.objects.filter(practitioner=practitioner)
        .exclude(location_id__in=location_ids)
        .select_related("location")
        .first()
    )
    if still_used is not None:
        raise ApplicationError(
            _("%(name)s still has weekly hours at %(location)s; remove them first.")
            % {"name": practitioner, "location": still_used.location},
            field="locations",
        )


def _hhmm(value):
    return value.strftime("%H:%M")


def _check_times(starts_at, ends_at):
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ApplicationError(_("The end must be later than the start."), field="ends_at")


def _check_works_at(practitioner, location):
    if location is not None and not practitioner.locations.filter(pk=location.pk).exists():
        raise ApplicationError(
            _("%(name)s does not work at %(location)s; add the location to them first.")
            % {"name": practitioner, "location": location},
            field="location",
        )


@transaction.atomic
def working_hours_add(*, actor, practitioner, location, weekday, starts_at, ends_at):
    """Add one weekly block of hours (in the location's local time). Managers only.

    Locks the practitioner's row: two blocks added at once for the same practitioner are
    checked for overlap one after the other, so neither slips past the other's check.
    Blocks may not overlap on the same weekday, at any location: one person, one place.
    """
    practitioner = Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    _check_times(starts_at, ends_at)
    _check_works_at(practitioner, location)
    clash = (
        WorkingHours.objects.filter(
            practitioner=practitioner,
            weekday=weekday,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .select_related("location")
        .first()
    )
    if clash is not None:
        raise ApplicationError(
            _("This overlaps %(day)s %(start)s–%(end)s at %(location)s.")
            % {
                "day": Weekday(clash.weekday).label,
                "start": _hhmm(clash.starts_at),
                "end": _hhmm(clash.ends_at),
                "location": clash.location,
            },
            field="starts_at",
        )
    block = WorkingHours(
        practitioner=practitioner,
        location=location,
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    block.full_clean()
    block.save()
    audit.record(
        actor=actor,
        action="setup.working_hours_added",
        target=block,
        detail={
            "practitioner": practitioner.pk,
            "location": location.pk,
            "weekday": int(weekday),
            "from": _hhmm(starts_at),
            "until": _hhmm(ends_at),
        },
    )
    return block


@transaction.atomic
def working_hours_remove(*, actor, block):
    """Remove one weekly block. Managers only. Booked appointments are not touched."""
    audit.record(
        actor=actor,
        action="setup.working_hours_removed",
        target=block,
        detail={
            "practitioner": block.practitioner_id,
            "location": block.location_id,
            "weekday": block.weekday,
            "from": _hhmm(block.starts_at),
            "until": _hhmm(block.ends_at),
        },
    )
    block.delete()


@transaction.atomic
def hours_exception_add(
    *, actor, practitioner, kind, date, location=None, starts_at=None, ends_at=None, reason=""
):
    """Add time off or extra hours on one date. Managers only.

    Time off without times is the whole day at every location; extra hours need a location
    and times.
    """
    if not isinstance(date, date_type) or date < timezone.localdate():
        raise ApplicationError(_("Pick today or a later date."), field="date")
    if (starts_at is None) != (ends_at is None):
        field = "starts_at" if starts_at is None else "ends_at"
        raise ApplicationError(_("Give both times, or neither for the whole day."), field=field)
    _check_times(starts_at, ends_at)
    if kind == WorkingHoursException.Kind.EXTRA_HOURS:
        if location is None:
            raise ApplicationError(_("Extra hours need a location."), field="location")
        if starts_at is None:
            raise ApplicationError(_("Extra hours need a start and an end."), field="starts_at")
    _check_works_at(practitioner, location)
    exception = WorkingHoursException(
        practitioner=practitioner,
        kind=kind,
        date=date,
        location=location,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    exception.full_clean()
    exception.save()
    audit.record(
        actor=actor,
        action="setup.hours_exception_added",
        target=exception,
        detail={
            "practitioner": practitioner.pk,
            "kind": kind,
            "date": date.isoformat(),
            "location": location.pk if location else None,
        },
    )
    return exception


@transaction.atomic
def hours_exception_remove(*, actor, exception):
    """Remove a time-off or extra-hours entry. Managers only."""
    audit.record(
        actor=actor,
        action="setup.hours_exception_removed",
        target=exception,
        detail={
            "practitioner": exception.practitioner_id,
            "kind": exception.kind,
            "date": exception.date.isoformat(),
        },
    )
    exception.delete()


@transaction.atomic
def clinic_settings_update(*, actor, data):
    """Change the clinic-wide settings. Managers only. Locks the single settings row."""
    ClinicSettings.load()
    clinic = ClinicSettings.objects.select_for_update().get(singleton=True)
    changed = _apply(clinic, data, SETTINGS_FIELDS)
    clinic.full_clean()
    clinic.save()
    audit.record(
        actor=actor,
        action="setup.clinic_settings_updated",
        target=clinic,
        detail={"changed": changed},
    )
    return clinic
