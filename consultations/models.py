"""The clinical record: consultations with their assessment per body area, the treatment plan
and quote, addenda after signing, injection-site photos, and the product catalogue."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea


class Product(models.Model):
    """A product or mixture from the clinic's catalogue (e.g. phosphatidylcholine +
    deoxycholate, a vitamin cocktail), used in plans and session records."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    composition = models.TextField(_("composition"), blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="product_name_unique_ignoring_case")
        ]

    def __str__(self):
        return self.name


class SignedRecord(models.Model):
    """A clinical record written as a draft and then signed: read-only afterwards, corrected
    only by addenda. Consultations and session records are both."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED


class Consultation(SignedRecord):
    """The first visit: what the patient wants and has tried, the history version reviewed,
    an assessment per area, what was explained, then a plan. Read-only once signed."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consultations"
    )
    appointment = models.OneToOneField(
        "treatment_sessions.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consultation",
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="consultations"
    )
    complaint = models.TextField(_("what brings the patient"), blank=True)
    goals = models.TextField(_("goals"), blank=True)
    tried_before = models.TextField(
        _("tried so far"), blank=True, help_text=_("Diets, exercise, other treatments")
    )
    # The exact questionnaire version the practitioner reviewed.
    medical_history = models.ForeignKey(
        "patients.MedicalHistory",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("medical history reviewed"),
    )
    history_reviewed_at = models.DateTimeField(null=True, blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("25")), MaxValueValidator(Decimal("300"))],
    )
    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("100")), MaxValueValidator(Decimal("230"))],
    )
    explained_expected_results = models.BooleanField(
        _("results show from about the third session, gradually"), default=False
    )
    explained_number_of_sessions = models.BooleanField(
        _("typical number of sessions"), default=False
    )
    explained_side_effects = models.BooleanField(
        _("side effects (bruising, soreness, swelling)"), default=False
    )
    explained_maintenance = models.BooleanField(
        _("maintenance sessions, diet and exercise"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="consultation_signed_has_signer",
            )
        ]

    def __str__(self):
        return f"Consultation {self.patient} {self.created_at:%Y-%m-%d}"

    @property
    def bmi(self):
        if not (self.weight_kg and self.height_cm):
            return None
        metres = self.height_cm / 100
        return (self.weight_kg / (metres * metres)).quantize(Decimal("0.1"))


class Condition(models.TextChoices):
    CELLULITE = "cellulite", _("Cellulite")
    LOCALIZED_FAT = "localized_fat", _("Localized fat")
    LAXITY = "laxity", _("Skin laxity")
    AGING_SKIN = "aging_skin", _("Aging skin")
    HAIR_LOSS = "hair_loss", _("Hair loss")


_GRADE = [MinValueValidator(0), MaxValueValidator(3)]


class AreaAssessment(models.Model):
    """One body area assessed at a consultation (or again at a later session, so the values
    form a trend per area). Nürnberger-Müller grade 0-3; the Hexsel Cellulite Severity Scale's
    five items 0-3 each (total 0-15) where relevant."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey(
        Consultation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assessments",
    )
    session_record = models.ForeignKey(
        "SessionRecord",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assessments",
    )
    area = models.CharField(_("area"), max_length=20, choices=BodyArea.choices)
    condition = models.CharField(_("condition"), max_length=20, choices=Condition.choices)
    nurnberger_muller_grade = models.PositiveSmallIntegerField(
        _("Nürnberger-Müller grade"), null=True, blank=True, validators=_GRADE
    )
    hexsel_depressions = models.PositiveSmallIntegerField(
        _("number of evident depressions"), null=True, blank=True, validators=_GRADE
    )
    hexsel_depth = models.PositiveSmallIntegerField(
        _("depth of depressions"), null=True, blank=True, validators=_GRADE
    )
    hexsel_morphology = models.PositiveSmallIntegerField(
        _("morphological appearance of skin surface alterations"),
        null=True,
        blank=True,
        validators=_GRADE,
    )
    hexsel_laxity = models.PositiveSmallIntegerField(
        _("grade of laxity, flaccidity or sagging skin"),
        null=True,
        blank=True,
        validators=_GRADE,
    )
    circumference_cm = models.DecimalField(
        _("circumference (cm)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("10")), MaxValueValidator(Decimal("250"))],
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "area"], name="one_assessment_per_area_per_consultation"
            ),
            models.UniqueConstraint(
                fields=["session_record", "area"], name="one_assessment_per_area_per_session"
            ),
            models.CheckConstraint(
                condition=Q(nurnberger_muller_grade__isnull=True)
                | Q(nurnberger_muller_grade__lte=3),
                name="nurnberger_muller_grade_0_to_3",
            ),
        ]

    def __str__(self):
        return f"{self.get_area_display()} · {self.get_condition_display()}"

    HEXSEL_ITEMS = ("hexsel_depressions", "hexsel_depth", "hexsel_morphology", "hexsel_laxity")

    @property
    def hexsel_total(self):
        """Hexsel CSS total: four items plus the Nürnberger-Müller grade (item E), 0-15."""
        values = [getattr(self, f) for f in self.HEXSEL_ITEMS] + [self.nurnberger_muller_grade]
        return None if any(v is None for v in values) else sum(values)


class TreatmentPlan(models.Model):
    """What the practitioner proposes at the consultation, with its quote; becomes the course
    front desk books."""

    consultation = models.OneToOneField(Consultation, on_delete=models.CASCADE, related_name="plan")
    areas = ArrayField(
        models.CharField(max_length=20, choices=BodyArea.choices), verbose_name=_("areas")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("formulation")
    )
    appointment_type = models.ForeignKey(
        "treatment_sessions.AppointmentType", on_delete=models.PROTECT, related_name="+"
    )
    planned_sessions = models.PositiveSmallIntegerField(
        _("number of sessions"), validators=[MinValueValidator(1), MaxValueValidator(25)]
    )
    interval_days = models.PositiveSmallIntegerField(
        _("days between sessions"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    price_per_session = models.DecimalField(
        _("price per session"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    course = models.OneToOneField(
        "treatment_sessions.Course",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan",
    )

    class Meta:
        verbose_name = _("treatment plan")
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=1, planned_sessions__lte=25),
                name="plan_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=Q(price_per_session__gte=0), name="plan_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"Plan for {self.consultation}"

    @property
    def total(self):
        return self.price_per_session * self.planned_sessions


class AddendumBase(models.Model):
    """What every addendum holds: a signed record is never edited, only added to."""

    text = models.TextField(_("addendum"))
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["written_at", "id"]


class Addendum(AddendumBase):
    """A correction or addition to a signed record: kept beside the original, never edited."""

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="addenda")

    def __str__(self):
        return f"Addendum {self.pk} to {self.consultation_id}"


class Photo(models.Model):
    """An injection-site photo. The files live in private storage (never under MEDIA_URL) and
    are served only through the protected download view."""

    class View(models.TextChoices):
        FRONT = "front", _("Front")
        BACK = "back", _("Back")
        LEFT = "left", _("Left side")
        RIGHT = "right", _("Right side")
        OBLIQUE = "oblique", _("Oblique")

    class Moment(models.TextChoices):
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="photos")
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    session_record = models.ForeignKey(
        "SessionRecord", null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    moment = models.CharField(
        _("before or after"), max_length=6, choices=Moment.choices, blank=True
    )
    area = models.CharField(_("area"), max_length=20, choices=BodyArea.choices)
    view = models.CharField(_("view"), max_length=8, choices=View.choices)
    sites_marked = models.BooleanField(_("injection sites marked"), default=False)
    taken_at = models.DateTimeField(_("taken"), default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.CharField(max_length=255, editable=False)
    preview = models.CharField(max_length=255, editable=False)
    thumbnail = models.CharField(max_length=255, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    original_format = models.CharField(max_length=8, editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["taken_at", "id"]
        indexes = [models.Index(fields=["patient", "area", "view"], name="photo_area_view_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(consultation__isnull=True) | Q(session_record__isnull=True),
                name="photo_of_one_record",
            )
        ]

    def __str__(self):
        return f"Photo {self.pk} {self.get_area_display()} {self.get_view_display()}"


class ProductLot(models.Model):
    """One delivery of a product, as printed on the vial: every session records the lot it
    used, so a recall finds every patient who received it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=60)
    expires_on = models.DateField(_("expiry date"))
    received_on = models.DateField(_("received"), null=True, blank=True)
    is_active = models.BooleanField(_("in stock"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["product__name", "expires_on", "lot_number"]
        verbose_name = _("product lot")
        verbose_name_plural = _("product lots")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"], name="one_lot_number_per_product"
            ),
            # "ab-12" and "AB-12" are the same lot on the vial.
            models.UniqueConstraint(
                "product", Lower("lot_number"), name="lot_number_unique_per_product_ignoring_case"
            ),
        ]

    def __str__(self):
        return f"{self.product} · {self.lot_number} (exp. {self.expires_on:%Y-%m-%d})"

    def is_expired_on(self, day):
        return self.expires_on < day


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class SessionRecord(SignedRecord):
    """The legal record of one treatment session, written while the patient is in the room:
    what happened since last time, what was injected where (products, lots, volumes, points),
    photos, tolerance and adverse events, the aftercare given. Read-only once signed; signing
    completes the appointment."""

    class Tolerance(models.TextChoices):
        GOOD = "good", _("Good")
        FAIR = "fair", _("Fair: some discomfort")
        POOR = "poor", _("Poor: session shortened or stopped")

    appointment = models.OneToOneField(
        "treatment_sessions.Appointment", on_delete=models.PROTECT, related_name="session_record"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="session_records"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner", on_delete=models.PROTECT, related_name="session_records"
    )
    # Before injecting
    no_side_effects_since_last = models.BooleanField(
        _("no side effects since the last session"), default=False
    )
    health_changes = models.TextField(_("changes in health"), blank=True)
    medication_changes = models.TextField(_("changes in medication"), blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("25")), MaxValueValidator(Decimal("300"))],
    )
    alerts_reviewed = models.BooleanField(_("alerts reviewed before injecting"), default=False)
    # What was done
    topical_anaesthetic = models.CharField(
        _("topical anaesthetic"), max_length=120, blank=True, help_text=_("Empty if none")
    )
    tolerance = models.CharField(
        _("tolerance"), max_length=8, choices=Tolerance.choices, blank=True
    )
    aftercare_given = models.TextField(_("aftercare given"), blank=True)
    next_session_recommendation = models.TextField(_("for the next session"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("session record")
        verbose_name_plural = _("session records")
        permissions = [
            (
                "record_any_session",
                "Can record sessions of other practitioners' patients",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="session_record_signed_has_signer",
            )
        ]

    def __str__(self):
        return f"Session record {self.pk} · {self.patient}"


class SideEffectReport(models.Model):
    """A side effect the patient reports since the previous session."""

    class Kind(models.TextChoices):
        BRUISING = "bruising", _("Bruising")
        SORENESS = "soreness", _("Soreness")
        SWELLING = "swelling", _("Swelling")
        RASH = "rash", _("Rash")
        SORES = "sores", _("Painful sores or inflammation")
        OTHER = "other", _("Other")

    record = models.ForeignKey(SessionRecord, on_delete=models.CASCADE, related_name="side_effects")
    kind = models.CharField(_("side effect"), max_length=10, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    duration_days = models.PositiveSmallIntegerField(
        _("lasted (days)"), validators=[MaxValueValidator(90)]
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.get_kind_display()


class TreatedArea(models.Model):
    """One area treated in the session: product, lot, volume, points, depth, technique and
    needle. ``is_extra`` marks an area that was not in the plan."""

    class Technique(models.TextChoices):
        POINT_BY_POINT = "point_by_point", _("Point by point")
        NAPPAGE = "nappage", _("Nappage")
        PAPULE = "papule", _("Papule")
        LINEAR = "linear", _("Linear retrograde")
        MESOPERFUSION = "mesoperfusion", _("Mesoperfusion (slow infusion)")

    record = models.ForeignKey(SessionRecord, on_delete=models.CASCADE, related_name="areas")
    area = models.CharField(_("area"), max_length=20, choices=BodyArea.choices)
    is_extra = models.BooleanField(_("not in the plan"), default=False)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    lot = models.ForeignKey(
        ProductLot, on_delete=models.PROTECT, related_name="treated_areas", verbose_name=_("lot")
    )
    volume_ml = models.DecimalField(
        _("volume (ml)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(Decimal("50"))],
    )
    injection_points = models.PositiveSmallIntegerField(
        _("injection points"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    depth_mm = models.DecimalField(
        _("depth (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("13"))],
    )
    technique = models.CharField(_("technique"), max_length=16, choices=Technique.choices)
    needle_gauge = models.PositiveSmallIntegerField(
        _("needle gauge (G)"), validators=[MinValueValidator(18), MaxValueValidator(34)]
    )
    needle_length_mm = models.DecimalField(
        _("needle length (mm)"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("2")), MaxValueValidator(Decimal("40"))],
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "area"], name="one_row_per_area_per_session"),
            models.CheckConstraint(
                condition=Q(volume_ml__gt=0, volume_ml__lte=50), name="treated_volume_in_range"
            ),
            models.CheckConstraint(
                condition=Q(depth_mm__gte=Decimal("0.5"), depth_mm__lte=13),
                name="treated_depth_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.get_area_display()} · {self.product} {self.volume_ml} ml"


class InjectionPoint(models.Model):
    """One point tapped on the injection map: where on which diagram (x and y as fractions
    of the diagram's width and height), for which treated area, and how much went in."""

    class Diagram(models.TextChoices):
        BODY_FRONT = "body_front", _("Body, front")
        BODY_BACK = "body_back", _("Body, back")
        FACE = "face", _("Face")

    treated_area = models.ForeignKey(TreatedArea, on_delete=models.CASCADE, related_name="points")
    diagram = models.CharField(_("diagram"), max_length=10, choices=Diagram.choices)
    x = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    y = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    volume_ml = models.DecimalField(
        _("volume (ml)"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("5"))],
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(x__gte=0, x__lte=1, y__gte=0, y__lte=1),
                name="injection_point_on_diagram",
            )
        ]

    def __str__(self):
        return f"{self.get_diagram_display()} ({self.x}, {self.y})"


class AdverseEvent(models.Model):
    """Something that went wrong during or right after the session. A severe one flags the
    course for review before the next session."""

    class Kind(models.TextChoices):
        HAEMATOMA = "haematoma", _("Haematoma or heavy bruising")
        VASOVAGAL = "vasovagal", _("Fainting or dizziness")
        ALLERGIC = "allergic", _("Allergic reaction")
        PAIN = "pain", _("Severe pain")
        BLEEDING = "bleeding", _("Bleeding")
        INFECTION = "infection", _("Infection or inflammation")
        NODULE = "nodule", _("Nodule")
        OTHER = "other", _("Other")

    record = models.ForeignKey(
        SessionRecord, on_delete=models.CASCADE, related_name="adverse_events"
    )
    kind = models.CharField(_("adverse event"), max_length=10, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    action_taken = models.TextField(_("action taken"))
    follow_up = models.TextField(_("follow-up"), blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class SessionAddendum(AddendumBase):
    """A correction or addition to a signed session record, kept beside it."""

    record = models.ForeignKey(SessionRecord, on_delete=models.PROTECT, related_name="addenda")

    def __str__(self):
        return f"Addendum {self.pk} to session record {self.record_id}"
