"""Forms of the treatment-session record page. They validate what was posted and turn it into
the arguments of ``session_record_save_draft``; they never write.

Every row (side effect, treated area, adverse event) is optional field by field: a row nobody
has touched is left out, a row that was started but is missing something is held back by the
autosave (and refused, at its fields, by an explicit save or "Complete session")."""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea
from consultations.forms.photos import PhotoUploadForm
from consultations.models import (
    AdverseEvent,
    AreaAssessment,
    InjectionPoint,
    Product,
    ProductLot,
    SessionRecord,
    SideEffectReport,
    TreatedArea,
)
from consultations.selectors.lots import lots_for_session
from consultations.services.session_records import MAX_POINTS_PER_AREA, RECORD_FIELDS

SIDE_EFFECTS_PREFIX = "side_effects"
AREAS_PREFIX = "areas"
ADVERSE_EVENTS_PREFIX = "adverse_events"
GRADE_CHOICES = [("", "—"), (0, "0"), (1, "1"), (2, "2"), (3, "3")]
NEEDLE_GAUGES = range(34, 17, -1)

# One colour per body area, the same on every record and map (legend, dots, row marker).
AREA_COLOURS = {
    BodyArea.FACE: "#d62728",
    BodyArea.NECK: "#9467bd",
    BodyArea.DECOLLETE: "#e377c2",
    BodyArea.SCALP: "#8c564b",
    BodyArea.ARMS: "#ff7f0e",
    BodyArea.ABDOMEN: "#1f77b4",
    BodyArea.FLANKS: "#17becf",
    BodyArea.BACK: "#7f7f7f",
    BodyArea.BUTTOCKS: "#bcbd22",
    BodyArea.HIPS: "#2ca02c",
    BodyArea.OUTER_THIGHS: "#c2185b",
    BodyArea.INNER_THIGHS: "#3f51b5",
    BodyArea.KNEES: "#795548",
    BodyArea.CALVES: "#009688",
}


@dataclass(frozen=True)
class Diagram:
    """One drawing of the injection map; points are stored as fractions of its viewBox."""

    key: str
    label: str
    image: str  # under static/
    width: int
    height: int


DIAGRAMS = [
    Diagram("body_front", _("Body, front"), "img/diagrams/body_front.svg", 200, 440),
    Diagram("body_back", _("Body, back"), "img/diagrams/body_back.svg", 200, 440),
    Diagram("face", _("Face"), "img/diagrams/face.svg", 200, 240),
]
# Which drawing the map opens on for an area.
AREA_DIAGRAM = {
    BodyArea.FACE: "face",
    BodyArea.SCALP: "face",
    BodyArea.BACK: "body_back",
    BodyArea.BUTTOCKS: "body_back",
    BodyArea.CALVES: "body_back",
}


def area_label(value):
    return BodyArea(value).label if value in BodyArea.values else (value or "")


def _bounds(model, name):
    """The model field's validator limits, so the form refuses what the model would."""
    validators = model._meta.get_field(name).validators
    low = next((v.limit_value for v in validators if isinstance(v, MinValueValidator)), None)
    high = next((v.limit_value for v in validators if isinstance(v, MaxValueValidator)), None)
    return {"min_value": low, "max_value": high}


def _decimal(model, name, step, **kwargs):
    model_field = model._meta.get_field(name)
    return forms.DecimalField(
        label=capfirst(model_field.verbose_name),
        required=False,
        max_digits=model_field.max_digits,
        decimal_places=model_field.decimal_places,
        widget=forms.NumberInput(attrs={"step": step, "inputmode": "decimal"}),
        **_bounds(model, name),
        **kwargs,
    )


# --- the catalogue offered on the page ---------------------------------------------------------


@dataclass
class Catalogue:
    """Products and lots the rows offer, read once for the whole page (not once per row):
    active products, lots in stock and not expired on the session's day, and whatever the
    record or the posted form already names (shown, and refused by the service if expired)."""

    day: date
    products: list = field(default_factory=list)
    lots: list = field(default_factory=list)

    @classmethod
    def load(cls, *, day, product_ids=(), lot_ids=()):
        products = list(
            Product.objects.filter(Q(is_active=True) | Q(pk__in=list(product_ids))).order_by("name")
        )
        lots = list(lots_for_session(day))
        missing = set(lot_ids) - {lot.pk for lot in lots}
        if missing:
            lots += list(ProductLot.objects.filter(pk__in=missing).select_related("product"))
            lots.sort(key=lambda lot: (lot.product.name, lot.expires_on, lot.lot_number))
        return cls(day=day, products=products, lots=lots)

    def product_choices(self):
        return [("", "—"), *((p.pk, p.name) for p in self.products)]

    def lot_label(self, lot):
        label = _("%(lot)s · exp. %(date)s") % {
            "lot": lot.lot_number,
            "date": lot.expires_on.isoformat(),
        }
        if lot.is_expired_on(self.day):
            return f"{label} · {_('EXPIRED')}"
        if not lot.is_active:
            return f"{label} · {_('not in stock')}"
        return label

    def lot_choices(self):
        groups = {}
        for lot in self.lots:
            groups.setdefault(lot.product.name, []).append((lot.pk, self.lot_label(lot)))
        return [("", "—"), *groups.items()]

    def lot_products(self):
        return {lot.pk: lot.product_id for lot in self.lots}

    def lots_of(self, product_id):
        return [lot for lot in self.lots if lot.product_id == product_id]


class LotSelect(forms.Select):
    """The lot picker: options grouped by product, each saying which product it belongs to
    (the page shows only the chosen product's lots)."""

    def __init__(self, *args, lot_products=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lot_products = lot_products or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        product = self.lot_products.get(getattr(value, "value", value))
        if product is not None:
            option["attrs"]["data-product"] = str(product)
        return option


# --- the record's own fields -------------------------------------------------------------------


class SessionRecordForm(forms.ModelForm):
    """Before injecting, what was done for the whole session, tolerance and aftercare."""

    class Meta:
        model = SessionRecord
        fields = RECORD_FIELDS
        widgets = {
            "health_changes": forms.Textarea(attrs={"rows": 2}),
            "medication_changes": forms.Textarea(attrs={"rows": 2}),
            "weight_kg": forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            "topical_anaesthetic": forms.TextInput(attrs={"list": "anaesthetics"}),
            "tolerance": forms.RadioSelect,
            "aftercare_given": forms.Textarea(attrs={"rows": 6}),
            "next_session_recommendation": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, data=None, *, record):
        # A copy: validating must not change the record the page is drawn from.
        copy = SessionRecord(**{name: getattr(record, name) for name in RECORD_FIELDS})
        super().__init__(data, instance=copy)
        self.fields["tolerance"].choices = SessionRecord.Tolerance.choices
        self.fields["alerts_reviewed"].label = _("I reviewed the patient's alerts before injecting")
        self.fields["no_side_effects_since_last"].label = _(
            "No side effects since the last session"
        )
        self.fields["topical_anaesthetic"].label = _("Topical anaesthetic used")

    def draft_data(self):
        return {name: self.cleaned_data[name] for name in RECORD_FIELDS}


# --- rows --------------------------------------------------------------------------------------


class RowForm(forms.Form):
    """One row of a list. ``STARTED_BY``: fields whose value means someone filled the row in;
    ``REQUIRED``: what a started row needs before it can be saved."""

    STARTED_BY = ()
    REQUIRED = ()
    row_title = ""  # names the row in error messages ("Side effect 2", "Abdomen")

    def value_of(self, name):
        data = getattr(self, "cleaned_data", None)
        if data is not None and name in data:
            return data[name]
        return self[name].value()

    def is_started(self):
        if self.value_of("DELETE"):
            return False
        return any(self.value_of(name) not in (None, "", []) for name in self.STARTED_BY)

    def missing(self):
        return [name for name in self.REQUIRED if self.value_of(name) in (None, "", [])]

    def values(self):
        raise NotImplementedError


class SideEffectForm(RowForm):
    STARTED_BY = ("kind", "severity", "duration_days", "notes")
    REQUIRED = ("kind", "severity", "duration_days")

    kind = forms.ChoiceField(
        label=_("Side effect"),
        choices=[("", "—"), *SideEffectReport.Kind.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", "—"), *SideEffectReport._meta.get_field("severity").choices],
        required=False,
    )
    duration_days = forms.IntegerField(
        label=_("Lasted (days)"),
        required=False,
        min_value=0,
        max_value=90,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=300)

    def values(self):
        return {name: self.cleaned_data.get(name) for name in self.STARTED_BY}


class AdverseEventForm(RowForm):
    STARTED_BY = ("kind", "severity", "action_taken", "follow_up")
    REQUIRED = ("kind", "severity", "action_taken")

    kind = forms.ChoiceField(
        label=_("Adverse event"),
        choices=[("", "—"), *AdverseEvent.Kind.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[("", "—"), *AdverseEvent._meta.get_field("severity").choices],
        required=False,
    )
    action_taken = forms.CharField(
        label=_("Action taken"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    follow_up = forms.CharField(
        label=_("Follow-up"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def values(self):
        return {name: self.cleaned_data.get(name) for name in self.STARTED_BY}


def _points_json(points):
    return json.dumps(
        [
            {
                "diagram": p.diagram,
                "x": float(p.x),
                "y": float(p.y),
                "volume_ml": float(p.volume_ml) if p.volume_ml is not None else None,
            }
            for p in points
        ]
    )


class TreatedAreaForm(RowForm):
    """One treated area, its injection map points (a JSON list kept in a hidden input) and
    its optional assessment for the trend."""

    STARTED_BY = (
        "lot",
        "volume_ml",
        "injection_points",
        "depth_mm",
        "technique",
        "needle_gauge",
        "needle_length_mm",
        "points",
    )
    REQUIRED = (
        "area",
        "product",
        "lot",
        "volume_ml",
        "injection_points",
        "depth_mm",
        "technique",
        "needle_gauge",
        "needle_length_mm",
    )
    AREA_FIELDS = REQUIRED[1:]

    area = forms.ChoiceField(choices=BodyArea.choices, required=False, widget=forms.HiddenInput)
    product = forms.TypedChoiceField(
        label=_("Product"), coerce=int, empty_value=None, required=False
    )
    lot = forms.IntegerField(label=_("Lot"), required=False)
    volume_ml = _decimal(TreatedArea, "volume_ml", "0.05")
    injection_points = forms.IntegerField(
        label=_("Injection points"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **_bounds(TreatedArea, "injection_points"),
    )
    depth_mm = _decimal(TreatedArea, "depth_mm", "0.5")
    technique = forms.ChoiceField(
        label=_("Technique"),
        choices=[("", "—"), *TreatedArea.Technique.choices],
        required=False,
    )
    needle_gauge = forms.TypedChoiceField(
        label=_("Needle gauge"),
        choices=[("", "—"), *((g, f"{g}G") for g in NEEDLE_GAUGES)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    needle_length_mm = _decimal(TreatedArea, "needle_length_mm", "0.5")
    points = forms.CharField(required=False, widget=forms.HiddenInput)
    grade = forms.TypedChoiceField(
        label=_("Nürnberger-Müller grade"),
        choices=GRADE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    circumference_cm = _decimal(AreaAssessment, "circumference_cm", "0.5")

    def __init__(self, *args, catalogue, planned=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.planned = set(planned)
        self.fields["product"].choices = catalogue.product_choices()
        self.fields["lot"].widget = LotSelect(
            choices=catalogue.lot_choices(), lot_products=catalogue.lot_products()
        )
        self.fields["needle_length_mm"].label = _("Needle length (mm)")
        self.fields["circumference_cm"].label = _("Circumference (cm)")
        self.fields["points"].widget.attrs["data-points"] = ""

    @property
    def area_value(self):
        return self.value_of("area") or ""

    @property
    def area_label(self):
        return area_label(self.area_value)

    @property
    def row_title(self):
        return self.area_label

    @property
    def colour(self):
        return AREA_COLOURS.get(self.area_value, "#333333")

    @property
    def is_extra(self):
        return bool(self.planned) and self.area_value not in self.planned

    @property
    def diagram(self):
        return AREA_DIAGRAM.get(self.area_value, "body_front")

    def clean_points(self):
        raw = (self.cleaned_data.get("points") or "").strip()
        if not raw:
            return []
        try:
            points = json.loads(raw)
        except ValueError:
            points = None
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise forms.ValidationError(_("The map points could not be read: tap them again."))
        if len(points) > MAX_POINTS_PER_AREA:
            raise forms.ValidationError(
                _("At most %(n)s points per area.") % {"n": MAX_POINTS_PER_AREA}
            )
        return [self._point(p) for p in points]

    @staticmethod
    def _point(values):
        try:
            x, y = float(values.get("x")), float(values.get("y"))
            volume = values.get("volume_ml")
            volume = None if volume in (None, "") else round(float(volume), 2)
        except (TypeError, ValueError):
            raise forms.ValidationError(_("A map point is not a number: tap it again.")) from None
        if values.get("diagram") not in InjectionPoint.Diagram.values:
            raise forms.ValidationError(_("A map point is on an unknown diagram."))
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise forms.ValidationError(_("A map point is off the diagram."))
        if volume is not None and not (Decimal("0.01") <= Decimal(str(volume)) <= 5):
            raise forms.ValidationError(_("A point's volume must be between 0.01 and 5 ml."))
        return {
            "diagram": values["diagram"],
            "x": round(x, 4),
            "y": round(y, 4),
            "volume_ml": volume,
        }

    def values(self):
        data = self.cleaned_data
        return {
            "area": data["area"],
            **{name: data.get(name) for name in self.AREA_FIELDS},
            "points": data.get("points") or [],
        }

    def assessment(self):
        """The grade and circumference for the trend, if any was entered."""
        data = getattr(self, "cleaned_data", None) or {}
        if data.get("DELETE") or not data.get("area"):
            return None
        if data.get("grade") is None and data.get("circumference_cm") is None:
            return None
        return {
            "area": data["area"],
            "nurnberger_muller_grade": data.get("grade"),
            "circumference_cm": data.get("circumference_cm"),
        }


class RowFormSet(forms.BaseFormSet):
    def started_rows(self):
        """(index, form) of the rows filled in and not removed."""
        return [
            (i, f)
            for i, f in enumerate(self.forms)
            if getattr(f, "cleaned_data", None) is not None and f.is_started()
        ]

    def incomplete(self):
        return [(i, f, f.missing()) for i, f in self.started_rows() if f.missing()]

    def require_complete(self):
        """Mark what started rows still miss (an explicit save); True if nothing does."""
        incomplete = self.incomplete()
        for _index, form, missing in incomplete:
            for name in missing:
                if name in form.fields and not form.has_error(name):
                    form.add_error(name if name != "area" else None, _("This field is required."))
        return not incomplete


class TreatedAreaFormSet(RowFormSet):
    def clean(self):
        areas = [
            f.cleaned_data.get("area")
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]
        areas = [a for a in areas if a]
        if len(areas) != len(set(areas)):
            raise forms.ValidationError(_("Each area is recorded once per session."))

    def assessments(self):
        """(index, values) of the rows with a grade or circumference."""
        rows = []
        for index, form in enumerate(self.forms):
            values = form.assessment()
            if values is not None:
                rows.append((index, values))
        return rows


SideEffectFormSet = forms.formset_factory(
    SideEffectForm, formset=RowFormSet, extra=0, can_delete=True
)
AdverseEventFormSet = forms.formset_factory(
    AdverseEventForm, formset=RowFormSet, extra=0, can_delete=True
)
AreaFormSet = forms.formset_factory(
    TreatedAreaForm, formset=TreatedAreaFormSet, extra=0, can_delete=True
)


def side_effect_initial(record):
    return [
        {name: getattr(row, name) for name in SideEffectForm.STARTED_BY}
        for row in record.side_effects.all()
    ]


def adverse_event_initial(record):
    return [
        {name: getattr(row, name) for name in AdverseEventForm.STARTED_BY}
        for row in record.adverse_events.all()
    ]


def saved_area_values(treated):
    """A saved treated area as ``session_record_save_draft`` takes it."""
    return {
        "area": treated.area,
        "product": treated.product_id,
        "lot": treated.lot_id,
        **{name: getattr(treated, name) for name in TreatedAreaForm.AREA_FIELDS[2:]},
        "points": [
            {"diagram": p.diagram, "x": p.x, "y": p.y, "volume_ml": p.volume_ml}
            for p in treated.points.all()
        ],
    }


def area_initial(record, planned, *, default_product=None, added=()):
    """The rows shown: the planned areas in the plan's order (as saved, or blank with the
    plan's product), then the extra areas saved, then any area just added; each with its
    assessment. The order stays the same once a planned area is saved."""
    assessments = {a.area: a for a in record.assessments.all()}
    saved = {treated.area: treated for treated in record.areas.all()}
    order = [*planned, *saved, *assessments, *added]
    rows, shown = [], set()
    for area in order:
        if area in shown or area not in BodyArea.values:
            continue
        shown.add(area)
        treated = saved.get(area)
        if treated is None:
            row = {"area": area, "product": default_product}
        else:
            row = {
                "area": area,
                "product": treated.product_id,
                "lot": treated.lot_id,
                **{name: getattr(treated, name) for name in TreatedAreaForm.AREA_FIELDS[2:]},
                "points": _points_json(treated.points.all()),
            }
        assessment = assessments.get(area)
        if assessment is not None:
            row["grade"] = assessment.nurnberger_muller_grade
            row["circumference_cm"] = assessment.circumference_cm
        rows.append(row)
    return rows


class AddAreaForm(forms.Form):
    """The areas not on the page yet, to add a row for (marked extra if not planned)."""

    add_area = forms.ChoiceField(label=_("Add an area"), choices=BodyArea.choices, required=False)

    def __init__(self, *args, taken=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_area"].choices = [("", "—")] + [
            (value, label) for value, label in BodyArea.choices if value not in taken
        ]


class SessionAddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}))


PHOTO_FORM_ID = "photo-form"


class SessionPhotoForm(PhotoUploadForm):
    """Before or after photos of one area, added to the session record (same checks and
    privacy as every clinical photo: consent, private storage, protected view)."""

    moment = forms.ChoiceField(
        label=_("Taken"),
        choices=[("before", _("Before injecting")), ("after", _("After injecting"))],
        widget=forms.RadioSelect,
        initial="before",
    )

    def __init__(self, *args, patient, areas=(), **kwargs):
        kwargs.setdefault("prefix", "photo")
        super().__init__(*args, patient=patient, **kwargs)
        del self.fields["consultation"]
        for name in ("area", "view"):  # their form is outside the record's form
            self.fields[name].widget.attrs["form"] = PHOTO_FORM_ID
        if areas:  # the session's areas first
            others = [(v, label) for v, label in BodyArea.choices if v not in areas]
            self.fields["area"].choices = [
                ("", "---------"),
                (_("This session"), [(a, area_label(a)) for a in areas]),
                (_("Other areas"), others),
            ]
