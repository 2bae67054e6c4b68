"""Forms of the reminder pages: they parse and validate; services write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sessions.models import MAX_REMINDER_HOURS, MessageChannel, OutboundMessage, ReminderPolicy


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", _("All but withdrawn"))] + OutboundMessage.Status.choices, required=False
    )
    channel = forms.ChoiceField(
        choices=[("", _("Any channel"))] + MessageChannel.choices, required=False
    )
    kind = forms.ChoiceField(
        choices=[("", _("Any kind"))] + OutboundMessage.Kind.choices, required=False
    )
    patient = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    due_from = forms.DateField(label=_("Due from"), required=False)
    due_until = forms.DateField(label=_("Due until"), required=False)


class ReminderPolicyForm(forms.ModelForm):
    class Meta:
        model = ReminderPolicy
        fields = [
            "quiet_hours_start",
            "quiet_hours_end",
            "quiet_hours_for_email",
            "minimum_notice_minutes",
            "aftercare_enabled",
            "follow_up_enabled",
            "follow_up_after_hours",
            "book_next_enabled",
            "book_next_after_hours",
        ]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class ReminderRuleForm(forms.Form):
    channel = forms.ChoiceField(choices=MessageChannel.choices, initial=MessageChannel.SMS)
    hours_before = forms.IntegerField(
        label=_("hours before"), min_value=1, max_value=MAX_REMINDER_HOURS, required=False
    )
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)


ReminderRuleFormSet = forms.formset_factory(ReminderRuleForm, extra=1, can_delete=True)


class LinkCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FollowUpAnswerForm(forms.Form):
    has_side_effects = forms.TypedChoiceField(
        label=_("Since your visit, have you noticed any side effects?"),
        choices=[("no", _("No, all is well")), ("yes", _("Yes, I noticed something"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    details = forms.CharField(
        label=_("What did you notice, and since when?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
