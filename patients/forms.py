from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Goal, MedicalHistory, Patient, Severity
from .services import HISTORY_FIELDS, PATIENT_EDITABLE_FIELDS, PORTAL_EDITABLE_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
PHONE_ATTRS = {"type": "tel", "autocomplete": "tel", "placeholder": "+1 212 555 0100"}


class PatientForm(forms.ModelForm):
    """Identity and contact details, entered by front desk. Validates only; the view calls
    ``patient_create`` / ``patient_update``."""

    class Meta:
        model = Patient
        fields = PATIENT_EDITABLE_FIELDS
        widgets = {
            "date_of_birth": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile_phone"].widget.attrs.update(PHONE_ATTRS)
        self.fields["emergency_contact_phone"].widget.attrs.update(PHONE_ATTRS)
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})


class PortalDetailsForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = PORTAL_EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile_phone"].widget.attrs.update(PHONE_ATTRS)
        self.fields["emergency_contact_phone"].widget.attrs.update(PHONE_ATTRS)


class MedicalHistoryForm(forms.ModelForm):
    goals = forms.MultipleChoiceField(
        label=_("What would you like to achieve?"),
        choices=Goal.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = MedicalHistory
        fields = HISTORY_FIELDS
        widgets = {
            "other_conditions": forms.Textarea(attrs={"rows": 2}),
            "earlier_aesthetic_treatments": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["height_cm"].widget.attrs.update({"inputmode": "decimal", "step": "0.1"})
        self.fields["weight_kg"].widget.attrs.update({"inputmode": "decimal", "step": "0.1"})


class AllergyForm(forms.Form):
    substance = forms.CharField(label=_("Substance"), max_length=120, required=False)
    reaction = forms.CharField(label=_("Reaction"), max_length=200, required=False)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", "—"), *Severity.choices], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("substance") and not data.get("severity"):
            self.add_error("severity", _("Say how severe the reaction is."))
        if not data.get("substance") and (data.get("reaction") or data.get("severity")):
            self.add_error("substance", _("Name the substance."))
        return data


class MedicationForm(forms.Form):
    name = forms.CharField(label=_("Medication"), max_length=120, required=False)
    dose = forms.CharField(label=_("Dose"), max_length=80, required=False)
    is_anticoagulant = forms.BooleanField(label=_("Blood thinner (anticoagulant)"), required=False)
    is_antiplatelet = forms.BooleanField(label=_("Anti-platelet (e.g. aspirin)"), required=False)


AllergyFormSet = forms.formset_factory(AllergyForm, extra=3, max_num=20)
MedicationFormSet = forms.formset_factory(MedicationForm, extra=3, max_num=30)


def filled_rows(formset, key):
    return [f.cleaned_data for f in formset.forms if f.cleaned_data.get(key)]


class AlertAcknowledgeForm(forms.Form):
    alert_key = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("How will you handle it?"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ConsentSignForm(forms.Form):
    signed_name = forms.CharField(
        label=_("Type your full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    signature = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
    )
    agree = forms.BooleanField(
        label=_("I have read and understood this text and I agree to it."),
        error_messages={"required": _("Tick the box to confirm you agree.")},
    )


class ConsentWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class IntakeAcceptForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only numbers."),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("password1")
            and data.get("password2")
            and data["password1"] != data["password2"]
        ):
            self.add_error("password2", _("The two passwords differ."))
        return data
