"""The forms of front desk's course pages. They validate; the views call the services."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea
from clinic.models import Location, Practitioner, Room, Weekday
from sessions.models import MAX_COURSE_SESSIONS, AppointmentType

WEEKLY, FORTNIGHTLY, CUSTOM = "7", "14", "custom"
MAX_INTERVAL_DAYS = 90


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class CourseSetupForm(forms.Form):
    """Step 1 of "Book course": what, with whom, how many, how often, from when."""

    patient = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)
    appointment_type = forms.ModelChoiceField(
        label=_("Type"), queryset=AppointmentType.objects.filter(is_active=True)
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"), queryset=Practitioner.objects.filter(is_active=True)
    )
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=Location.objects.filter(is_active=True)
    )
    room = forms.ModelChoiceField(
        label=_("Room"),
        queryset=Room.objects.filter(is_active=True, location__is_active=True).select_related(
            "location"
        ),
        required=False,
        empty_label=_("Any free room (chosen for each session)"),
    )
    sessions = forms.IntegerField(
        label=_("Number of sessions"),
        initial=10,
        validators=[
            MinValueValidator(1, _("A course has at least 1 session.")),
            MaxValueValidator(
                MAX_COURSE_SESSIONS, _("A course has at most %(limit_value)s sessions.")
            ),
        ],
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_COURSE_SESSIONS}),
    )
    interval = forms.ChoiceField(
        label=_("Interval"),
        initial=WEEKLY,
        choices=[
            (WEEKLY, _("Weekly")),
            (FORTNIGHTLY, _("Every two weeks")),
            (CUSTOM, _("Custom number of days")),
        ],
    )
    custom_days = forms.IntegerField(
        label=_("Days between sessions"),
        required=False,
        help_text=_("Only for a custom interval."),
        validators=[
            MinValueValidator(1, _("Sessions are at least 1 day apart.")),
            MaxValueValidator(
                MAX_INTERVAL_DAYS, _("Sessions are at most %(limit_value)s days apart.")
            ),
        ],
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_INTERVAL_DAYS}),
    )
    first_day = forms.DateField(label=_("First date"), widget=DateInput)
    weekday = forms.TypedChoiceField(
        label=_("Preferred weekday"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Same as the first date")), *Weekday.choices],
        help_text=_("The first session is on this weekday, on or after the first date."),
    )
    at_time = forms.TimeField(label=_("Time"), widget=TimeInput)
    areas = forms.MultipleChoiceField(
        label=_("Areas"),
        required=False,
        choices=BodyArea.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    allow_outside_hours = forms.BooleanField(
        label=_("Allow times outside the practitioner's working hours"),
        required=False,
        help_text=_("An override: it is recorded on each appointment."),
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients

    def clean(self):
        data = super().clean()
        custom = data.get("interval") == CUSTOM
        if custom and not data.get("custom_days") and "custom_days" not in self.errors:
            self.add_error("custom_days", _("Give the number of days between sessions."))
        room, location = data.get("room"), data.get("location")
        if room and location and room.location_id != location.pk:
            self.add_error("room", _("This room is at another location."))
        return data

    @property
    def interval_days(self):
        data = self.cleaned_data
        return data["custom_days"] if data["interval"] == CUSTOM else int(data["interval"])


class SessionRowForm(forms.Form):
    """One session of the course being booked: the local date and time front desk settled on.
    ``proposed`` and ``reason`` carry, for display only, where the proposal was and why it
    was moved."""

    day = forms.DateField(label=_("Date"), widget=DateInput)
    at = forms.TimeField(label=_("Time"), widget=TimeInput)
    proposed = forms.CharField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)


SessionRowFormSet = forms.formset_factory(
    SessionRowForm,
    extra=0,
    min_num=1,
    max_num=MAX_COURSE_SESSIONS,
    validate_min=True,
    validate_max=True,
)


class MoveForm(forms.Form):
    """Move one session: the new local date and time."""

    day = forms.DateField(label=_("New date"), widget=DateInput)
    at = forms.TimeField(label=_("New time"), widget=TimeInput)
    allow_outside_hours = forms.BooleanField(
        label=_("Allow a time outside the practitioner's working hours"), required=False
    )
    # What the preview on screen was made for: applying anything else previews it first.
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=250, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    by_patient = forms.BooleanField(label=_("The patient cancelled"), required=False, initial=True)


class AddSessionForm(forms.Form):
    """A replacement session at the end of the course."""

    day = forms.DateField(label=_("Date"), widget=DateInput)
    at = forms.TimeField(label=_("Time"), widget=TimeInput)
