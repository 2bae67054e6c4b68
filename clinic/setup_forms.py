"""Forms of the manager's clinic set-up pages. They validate; the views call the services."""

import functools
import zoneinfo

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from .models import (
    ClinicSettings,
    Location,
    Practitioner,
    Room,
    User,
    Weekday,
    WorkingHoursException,
)
from .roles import Role
from .services import SETTINGS_FIELDS

TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
COLOUR_INPUT = forms.TextInput(attrs={"type": "color", "class": "form-control-color"})
hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Pick a colour such as #3b82f6."))

_REGIONS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@functools.cache
def time_zone_choices():
    """IANA zones grouped by region for a select (type-ahead works in it), UTC first."""
    groups = {}
    for name in sorted(zoneinfo.available_timezones()):
        region = name.split("/", 1)[0]
        if region in _REGIONS:
            groups.setdefault(region, []).append((name, name.replace("_", " ")))
    return [("UTC", "UTC"), *((region, tuple(zones)) for region, zones in groups.items())]


def _listed_zones():
    return {"UTC"} | {name for _region, zones in time_zone_choices()[1:] for name, _label in zones}


class LocationForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Appointments and working hours at this location are in this zone."),
        error_messages={"invalid_choice": _("%(value)s is not a known time zone.")},
    )

    class Meta:
        model = Location
        fields = ["name", "code", "time_zone", "address", "phone", "email", "is_active"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"type": "tel", "autocomplete": "off"})
        self.fields["code"].widget.attrs.update({"autocapitalize": "characters"})
        if not self.instance.pk:
            self.initial["time_zone"] = settings.TIME_ZONE
        current = self.instance.time_zone if self.instance.pk else None
        if current and current not in _listed_zones():
            # A zone set elsewhere that the grouped list leaves out (e.g. Etc/GMT+5).
            self.fields["time_zone"].choices = [(current, current), *time_zone_choices()]


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "is_active"]


def practitioner_logins(practitioner=None):
    """Active logins with the Practitioner role not yet linked to another practitioner."""
    logins = User.objects.filter(is_active=True, groups__name=Role.PRACTITIONER.label_en)
    free = logins.filter(practitioner__isnull=True)
    if practitioner is not None and practitioner.pk:
        free = free | logins.filter(pk=practitioner.user_id)
    return free.distinct().order_by("full_name", "email")


class LoginChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} <{obj.email}>" if obj.full_name else obj.email


class PractitionerForm(forms.ModelForm):
    user = LoginChoiceField(
        label=_("Staff login"),
        queryset=User.objects.none(),
        help_text=_(
            "A login with the Practitioner role. Create the login first if it is not listed."
        ),
    )
    colour = forms.CharField(
        label=_("Calendar colour"), max_length=7, validators=[hex_colour], widget=COLOUR_INPUT
    )
    locations = forms.ModelMultipleChoiceField(
        label=_("Works at"),
        queryset=Location.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one location.")},
    )

    class Meta:
        model = Practitioner
        fields = ["display_name", "title", "user", "colour", "locations", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = practitioner_logins(self.instance)
        # Active locations, and any inactive one the practitioner is still linked to.
        locations = Location.objects.filter(is_active=True)
        if self.instance.pk:
            locations = locations | Location.objects.filter(practitioners=self.instance)
        self.fields["locations"].queryset = locations.distinct().order_by("name")


class WorkingHoursForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none())
    weekday = forms.TypedChoiceField(label=_("Day"), choices=Weekday.choices, coerce=int)
    starts_at = forms.TimeField(label=_("From"), widget=TIME_INPUT)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME_INPUT)

    def __init__(self, *args, practitioner, **kwargs):
        # Own element ids: this form shares the practitioner's page with two others.
        kwargs.setdefault("auto_id", "hours_%s")
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = practitioner.locations.order_by("name")
        if len(self.fields["location"].queryset) == 1:
            self.fields["location"].empty_label = None

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be later than the start."))
        return data


class HoursExceptionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=WorkingHoursException.Kind.choices,
        initial=WorkingHoursException.Kind.TIME_OFF,
    )
    date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.none(),
        required=False,
        empty_label=_("Every location"),
        help_text=_("Needed for extra hours."),
    )
    starts_at = forms.TimeField(label=_("From"), widget=TIME_INPUT, required=False)
    ends_at = forms.TimeField(label=_("Until"), widget=TIME_INPUT, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, practitioner, **kwargs):
        kwargs.setdefault("auto_id", "exception_%s")
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = practitioner.locations.order_by("name")
        self.fields["starts_at"].help_text = _("Leave both times empty for the whole day off.")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must be later than the start."))
        extra = data.get("kind") == WorkingHoursException.Kind.EXTRA_HOURS
        if extra and "location" in data and data["location"] is None:
            self.add_error("location", _("Extra hours need a location."))
        if extra and "starts_at" in data and starts is None:
            self.add_error("starts_at", _("Extra hours need a start and an end."))
        return data


class ClinicSettingsForm(forms.ModelForm):
    currency = forms.CharField(
        label=_("Currency (ISO 4217)"),
        max_length=3,
        validators=[
            RegexValidator(r"^[A-Za-z]{3}$", _("Use the three-letter code, e.g. USD or EUR."))
        ],
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )

    class Meta:
        model = ClinicSettings
        fields = SETTINGS_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "aftercare_template": forms.Textarea(attrs={"rows": 7}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"type": "tel"})
        self.fields["intake_link_valid_days"].validators.append(MinValueValidator(1))
        self.fields["intake_link_valid_days"].widget.attrs["min"] = 1

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()
