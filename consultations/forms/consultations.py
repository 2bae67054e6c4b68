"""Forms of the consultation record page. They validate and turn what was posted into the
arguments of ``consultation_save_draft`` and ``plan_save``; they never write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea
from consultations.models import AreaAssessment, Condition, Consultation, Product
from consultations.services.consultations import ASSESSMENT_FIELDS, CONSULTATION_FIELDS
from sessions.models import AppointmentType

ASSESSMENTS_PREFIX = "assessments"
PLAN_PREFIX = "plan"
GRADE_CHOICES = [("", "—"), (0, "0"), (1, "1"), (2, "2"), (3, "3")]
GRADE_FIELDS = ("nurnberger_muller_grade", *AreaAssessment.HEXSEL_ITEMS)


def _decimal_input(step):
    return forms.NumberInput(attrs={"step": step, "inputmode": "decimal"})


class ConsultationForm(forms.ModelForm):
    """The draft's own fields: what brings the patient, measurements, what was explained."""

    class Meta:
        model = Consultation
        fields = CONSULTATION_FIELDS
        widgets = {
            "complaint": forms.Textarea(attrs={"rows": 2}),
            "goals": forms.Textarea(attrs={"rows": 2}),
            "tried_before": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "weight_kg": _decimal_input("0.1"),
            "height_cm": _decimal_input("0.1"),
        }

    def draft_data(self):
        return {field: self.cleaned_data[field] for field in CONSULTATION_FIELDS}


class AssessmentForm(forms.ModelForm):
    """One assessed area. The area itself is fixed once added (remove and add it again to
    change it); grades are small pickers, easy to tap on a tablet."""

    class Meta:
        model = AreaAssessment
        fields = ["area", *ASSESSMENT_FIELDS]
        widgets = {
            "area": forms.HiddenInput,
            "notes": forms.Textarea(attrs={"rows": 1}),
            "circumference_cm": _decimal_input("0.5"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in GRADE_FIELDS:
            label = self.fields[name].label
            self.fields[name] = forms.TypedChoiceField(
                label=label, choices=GRADE_CHOICES, coerce=int, empty_value=None, required=False
            )
        self.fields["condition"].choices = Condition.choices
        self.fields["notes"].label = _("Notes on this area")

    @property
    def hexsel_total(self):
        """The total of what is on screen (four items plus the grade), or None."""
        try:
            return sum(int(self[name].value()) for name in GRADE_FIELDS)
        except (TypeError, ValueError):
            return None

    @property
    def area_label(self):
        value = self["area"].value()
        return BodyArea(value).label if value in BodyArea.values else value


class BaseAssessmentFormSet(forms.BaseFormSet):
    def assessments(self):
        """The rows to keep, as (formset index, values for the service)."""
        rows = []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("area") or data.get("DELETE"):
                continue
            rows.append(
                (index, {"area": data["area"], **{f: data.get(f) for f in ASSESSMENT_FIELDS}})
            )
        return rows

    def clean(self):
        areas = [values["area"] for _index, values in self.assessments()]
        if len(areas) != len(set(areas)):
            raise forms.ValidationError(_("Each area is assessed once per consultation."))


AssessmentFormSet = forms.formset_factory(
    AssessmentForm, formset=BaseAssessmentFormSet, extra=0, can_delete=True
)


def assessment_initial(consultation):
    return [
        {"area": a.area, **{f: getattr(a, f) for f in ASSESSMENT_FIELDS}}
        for a in consultation.assessments.all()
    ]


class AddAreaForm(forms.Form):
    """The controlled list of areas to add a row for (those not assessed yet)."""

    add_area = forms.ChoiceField(label=_("Area"), choices=BodyArea.choices, required=False)
    add_condition = forms.ChoiceField(
        label=_("Condition"), choices=Condition.choices, required=False
    )

    def __init__(self, *args, taken=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_area"].choices = [("", "—")] + [
            (value, label) for value, label in BodyArea.choices if value not in taken
        ]
        self.fields["add_condition"].choices = [("", "—"), *Condition.choices]


PLAN_FIELDS = [
    "areas",
    "product",
    "appointment_type",
    "planned_sessions",
    "interval_days",
    "price_per_session",
]


class PlanForm(forms.Form):
    """The treatment plan and quote. Saved only once every field is filled in."""

    areas = forms.MultipleChoiceField(
        label=_("Areas"),
        choices=BodyArea.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    product = forms.ModelChoiceField(
        label=_("Formulation"), queryset=Product.objects.none(), required=False
    )
    appointment_type = forms.ModelChoiceField(
        label=_("Session type"), queryset=AppointmentType.objects.none(), required=False
    )
    planned_sessions = forms.IntegerField(
        label=_("Number of sessions"), min_value=1, max_value=25, required=False
    )
    interval_days = forms.IntegerField(
        label=_("Days between sessions"), min_value=1, max_value=90, required=False
    )
    price_per_session = forms.DecimalField(
        label=_("Price per session"),
        min_value=0,
        max_digits=8,
        decimal_places=2,
        required=False,
        widget=_decimal_input("0.01"),
    )

    def __init__(self, *args, plan=None, **kwargs):
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "areas": plan.areas,
                "product": plan.product_id,
                "appointment_type": plan.appointment_type_id,
                "planned_sessions": plan.planned_sessions,
                "interval_days": plan.interval_days,
                "price_per_session": plan.price_per_session,
            }
        kwargs.setdefault("prefix", PLAN_PREFIX)
        super().__init__(*args, **kwargs)
        keep_product = plan.product_id if plan is not None else None
        keep_type = plan.appointment_type_id if plan is not None else None
        self.fields["product"].queryset = Product.objects.filter(
            is_active=True
        ) | Product.objects.filter(pk=keep_product)
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(
            is_active=True
        ).exclude(kind=AppointmentType.Kind.CONSULTATION) | AppointmentType.objects.filter(
            pk=keep_type
        )
        if plan is None and not self.is_bound:
            self.initial.setdefault("interval_days", 7)

    def is_complete(self):
        data = self.cleaned_data
        return all(data.get(field) not in (None, "", []) for field in PLAN_FIELDS)

    def plan_data(self):
        return {field: self.cleaned_data[field] for field in PLAN_FIELDS}


class AddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}))
