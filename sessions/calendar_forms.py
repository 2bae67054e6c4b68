"""Forms of the front-desk calendar: book from an empty slot, move, cancel. They validate
(including the location's wall-clock time on a daylight-saving day); the services write."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.errors import ApplicationError
from clinic.lib.timezones import local_to_aware
from clinic.models import Practitioner, Room
from sessions.models import AppointmentType

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


class _LocalStartMixin:
    """``date`` + ``time`` at the location -> ``cleaned_data["starts_at"]``; a time that does
    not exist or happens twice on a daylight-saving day is an error on the time field."""

    zone = None

    def clean(self):
        cleaned = super().clean()
        day, at = cleaned.get("date"), cleaned.get("time")
        if day and at:
            try:
                cleaned["starts_at"] = local_to_aware(
                    datetime.combine(day, at), self.zone, field="time"
                )
            except ApplicationError as exc:
                self.add_error("time", exc.message)
        return cleaned


class TypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(name)s (%(minutes)s min)") % {"name": obj.name, "minutes": obj.duration_minutes}


class BookingForm(_LocalStartMixin, forms.Form):
    """One appointment at a location. ``patient`` is the id picked in the search box."""

    patient = forms.ModelChoiceField(
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Search for the patient and pick them from the list."),
            "invalid_choice": _("Search for the patient and pick them from the list."),
        },
    )
    appointment_type = TypeChoiceField(label=_("Type"), queryset=None, empty_label=None)
    practitioner = forms.ModelChoiceField(label=_("Practitioner"), queryset=None)
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=None,
        required=False,
        empty_label=_("Any free room"),
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    time = forms.TimeField(label=_("Time"), widget=TIME_WIDGET)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"),
        required=False,
        min_value=5,
        max_value=480,
        help_text=_("Empty: the type's usual length."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    allow_outside_hours = forms.BooleanField(
        label=_("Outside working hours: book anyway"), required=False
    )

    def __init__(self, *args, location, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        self.zone = location.zone
        self.fields["patient"].queryset = patients
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(is_active=True)
        self.fields["practitioner"].queryset = Practitioner.objects.filter(
            locations=location, is_active=True
        ).order_by("display_name")
        self.fields["room"].queryset = Room.objects.filter(location=location, is_active=True)

    def clean_patient(self):
        patient = self.cleaned_data["patient"]
        if not patient.is_active:
            raise forms.ValidationError(_("This patient's record is archived."))
        return patient


class MoveForm(_LocalStartMixin, forms.Form):
    """A new start for an appointment (its length is kept)."""

    date = forms.DateField(label=_("New date"), widget=DATE_WIDGET)
    time = forms.TimeField(label=_("New time"), widget=TIME_WIDGET)
    shift_later = forms.BooleanField(
        label=_("Also move every later session of the course by the same amount"),
        required=False,
    )
    allow_outside_hours = forms.BooleanField(
        label=_("Outside working hours: move anyway"), required=False
    )

    def __init__(self, *args, appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = appointment.location.zone
        if not appointment.course_id:
            del self.fields["shift_later"]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Give the reason for cancelling.")},
    )
    by_patient = forms.BooleanField(label=_("The patient asked to cancel"), required=False)
