"""The form of the manager's appointment-type set-up page. It validates; the view saves."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from sessions.models import AppointmentType

MAX_MINUTES = 8 * 60


class AppointmentTypeForm(forms.ModelForm):
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        validators=[
            MinValueValidator(1, _("The duration must be at least 1 minute.")),
            MaxValueValidator(MAX_MINUTES, _("Keep it to 8 hours (480 minutes) or less.")),
        ],
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_MINUTES, "step": 5}),
    )
    buffer_after_minutes = forms.IntegerField(
        label=_("Buffer after (minutes)"),
        initial=0,
        help_text=_("Time kept free after each appointment to clean and prepare the room."),
        validators=[
            MinValueValidator(0, _("The buffer cannot be negative.")),
            MaxValueValidator(MAX_MINUTES, _("Keep it to 8 hours (480 minutes) or less.")),
        ],
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_MINUTES, "step": 5}),
    )
    colour = forms.CharField(
        label=_("Colour"),
        max_length=7,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Pick a colour such as #0f5c6e."))],
        widget=forms.TextInput(attrs={"type": "color", "class": "form-control-color"}),
    )

    class Meta:
        model = AppointmentType
        fields = [
            "name",
            "kind",
            "duration_minutes",
            "buffer_after_minutes",
            "colour",
            "needs_room",
            "is_active",
        ]
