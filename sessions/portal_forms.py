"""Forms of the patient's schedule in the portal. They validate; the services write."""

from django import forms
from django.utils.translation import gettext_lazy as _


class PortalCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("It helps the clinic to know, but you do not have to say."),
    )


class PortalMoveForm(forms.Form):
    message = forms.CharField(
        label=_("Which days and times would suit you?"),
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": _("For example: any weekday after 5 pm next week")}
        ),
        help_text=_("The clinic will call or email you to agree a new time."),
        error_messages={"required": _("Tell us which days and times would suit you.")},
    )
