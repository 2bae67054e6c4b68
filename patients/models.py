import unicodedata

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


def fold(text):
    """Lower-case, accent-free form of ``text`` used for searching names ("Zoé" -> "zoe")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def digits_only(text):
    return "".join(c for c in str(text or "") if c.isdigit())


def validate_birth_date(value):
    today = timezone.localdate()
    if value > today:
        raise ValidationError(_("The date of birth cannot be in the future."))
    try:
        limit = today.replace(year=today.year - 120)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - 120, day=28)
    if value < limit:
        raise ValidationError(_("The date of birth cannot be more than 120 years ago."))


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class ReferralSource(models.TextChoices):
    FRIEND = "friend", _("Friend or family")
    SEARCH = "search", _("Web search")
    SOCIAL = "social", _("Social media")
    DOCTOR = "doctor", _("Referred by a doctor")
    PASSING = "passing", _("Walked past the clinic")
    ADVERT = "advert", _("Advertisement")
    OTHER = "other", _("Other")


class Patient(models.Model):
    """A person treated (or to be treated) at the clinic: identity and contact details.

    Medical data lives in ``MedicalHistory`` versions, which only clinicians read.
    """

    legal_first_name = models.CharField(_("legal first name"), max_length=100)
    legal_last_name = models.CharField(_("legal last name"), max_length=100)
    preferred_name = models.CharField(
        _("preferred name"),
        max_length=100,
        blank=True,
        help_text=_("The name used when talking to the patient."),
    )
    date_of_birth = models.DateField(_("date of birth"), validators=[validate_birth_date])
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices)
    email = models.EmailField(_("email"), blank=True)
    mobile_phone = PhoneNumberField(_("mobile phone"), blank=True)
    address_line = models.CharField(_("street address"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact phone"), blank=True)
    emergency_contact_relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    referral_source = models.CharField(
        _("how they heard of the clinic"), max_length=12, choices=ReferralSource.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)

    # Communication consents: each a separate yes/no with when it was last given or withdrawn.
    consents_email_reminders = models.BooleanField(_("email reminders"), default=False)
    consents_email_reminders_at = models.DateTimeField(null=True, blank=True, editable=False)
    consents_sms_reminders = models.BooleanField(_("SMS reminders"), default=False)
    consents_sms_reminders_at = models.DateTimeField(null=True, blank=True, editable=False)
    consents_marketing = models.BooleanField(_("marketing messages"), default=False)
    consents_marketing_at = models.DateTimeField(null=True, blank=True, editable=False)

    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
        verbose_name=_("portal account"),
    )
    is_active = models.BooleanField(
        _("active record"), default=True, help_text=_("Archived records cannot be booked.")
    )
    intake_completed_at = models.DateTimeField(_("intake completed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Search helpers kept in step by save(): accent-free names and the phone's digits.
    search_name = models.CharField(max_length=420, editable=False, default="")
    phone_digits = models.CharField(max_length=20, editable=False, default="", blank=True)

    COMMUNICATION_CONSENTS = [
        "consents_email_reminders",
        "consents_sms_reminders",
        "consents_marketing",
    ]

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="patient_name_trgm"),
            GinIndex(
                fields=["phone_digits"], opclasses=["gin_trgm_ops"], name="patient_phone_trgm"
            ),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            GinIndex(fields=["email"], opclasses=["gin_trgm_ops"], name="patient_email_trgm"),
        ]
        permissions = [
            ("view_medical_history", _("Can read patients' medical history")),
            ("change_medical_history", _("Can record patients' medical history")),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.legal_first_name} {self.legal_last_name}".strip()

    @property
    def display_name(self):
        if self.preferred_name and self.preferred_name != self.legal_first_name:
            return f"{self.preferred_name} ({self.legal_first_name}) {self.legal_last_name}"
        return self.full_name

    @property
    def age(self):
        today = timezone.localdate()
        dob = self.date_of_birth
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        self.search_name = fold(
            " ".join([self.legal_first_name, self.legal_last_name, self.preferred_name])
        )
        self.phone_digits = digits_only(self.mobile_phone)
        super().save(*args, **kwargs)


class Goal(models.TextChoices):
    CELLULITE = "cellulite", _("Cellulite")
    LOCALIZED_FAT = "localized_fat", _("Localized fat / body sculpting")
    SKIN_REJUVENATION = "skin_rejuvenation", _("Skin rejuvenation")
    FACE_LIFTING = "face_lifting", _("Face lifting")
    HAIR_LOSS = "hair_loss", _("Hair loss")
    WEIGHT_LOSS = "weight_loss", _("Weight loss")


class MedicalHistory(models.Model):
    """One dated submission of the intake questionnaire. Never edited: a new version is saved;
    the newest is the patient's current history."""

    class Source(models.TextChoices):
        CLINIC = "clinic", _("Recorded at the clinic")
        PORTAL = "portal", _("Filled in by the patient online")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medical_histories")
    version = models.PositiveIntegerField(_("version"))
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINIC)

    height_cm = models.DecimalField(
        _("height (cm)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(50, message=_("Height must be between 50 and 250 cm.")),
            MaxValueValidator(250, message=_("Height must be between 50 and 250 cm.")),
        ],
    )
    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(20, message=_("Weight must be between 20 and 350 kg.")),
            MaxValueValidator(350, message=_("Weight must be between 20 and 350 kg.")),
        ],
    )
    no_known_allergies = models.BooleanField(_("no known allergies"), default=False)
    pregnant_or_breastfeeding = models.BooleanField(_("pregnant or breastfeeding"), default=False)
    diabetes = models.BooleanField(_("diabetes"), default=False)
    bleeding_disorder = models.BooleanField(_("bleeding disorder"), default=False)
    autoimmune_disease = models.BooleanField(_("autoimmune disease"), default=False)
    active_skin_infection = models.BooleanField(_("active skin infection"), default=False)
    cancer_treatment = models.BooleanField(_("cancer or cancer treatment"), default=False)
    keloid_scarring = models.BooleanField(_("keloid scarring"), default=False)
    heart_condition = models.BooleanField(_("heart condition"), default=False)
    other_conditions = models.TextField(_("other conditions"), blank=True)
    earlier_aesthetic_treatments = models.TextField(_("earlier aesthetic treatments"), blank=True)
    tried_diet = models.BooleanField(_("diet"), default=False)
    tried_exercise = models.BooleanField(_("exercise"), default=False)
    tried_liposuction = models.BooleanField(_("liposuction"), default=False)
    tried_other = models.CharField(_("other things tried"), max_length=300, blank=True)
    goals = ArrayField(
        models.CharField(max_length=20, choices=Goal.choices),
        default=list,
        blank=True,
        verbose_name=_("goals"),
    )
    notes = models.TextField(_("notes"), blank=True)

    CONTRAINDICATIONS = [
        "pregnant_or_breastfeeding",
        "bleeding_disorder",
        "active_skin_infection",
        "cancer_treatment",
        "autoimmune_disease",
        "diabetes",
        "keloid_scarring",
        "heart_condition",
    ]

    class Meta:
        ordering = ["patient", "-version"]
        get_latest_by = "version"
        verbose_name = _("medical history")
        verbose_name_plural = _("medical histories")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "version"], name="medical_history_unique_version"
            )
        ]

    def __str__(self):
        return f"{self.patient} history v{self.version}"

    @property
    def goal_labels(self):
        return [Goal(g).label for g in self.goals if g in Goal.values]

    @property
    def bmi(self):
        if self.height_cm and self.weight_kg:
            metres = float(self.height_cm) / 100
            return round(float(self.weight_kg) / (metres * metres), 1)
        return None


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe (anaphylaxis)")


class Allergy(models.Model):
    history = models.ForeignKey(MedicalHistory, on_delete=models.CASCADE, related_name="allergies")
    substance = models.CharField(_("substance"), max_length=120)
    reaction = models.CharField(_("reaction"), max_length=200, blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)

    class Meta:
        ordering = ["id"]
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")

    def __str__(self):
        return self.substance


class Medication(models.Model):
    history = models.ForeignKey(
        MedicalHistory, on_delete=models.CASCADE, related_name="medications"
    )
    name = models.CharField(_("medication"), max_length=120)
    dose = models.CharField(_("dose"), max_length=80, blank=True)
    is_anticoagulant = models.BooleanField(_("anticoagulant"), default=False)
    is_antiplatelet = models.BooleanField(_("anti-platelet"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("medication")
        verbose_name_plural = _("medications")

    def __str__(self):
        return self.name


class AlertAcknowledgement(models.Model):
    """A practitioner read an alert of a history version and noted how they handle it."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="alert_acknowledgements"
    )
    history = models.ForeignKey(
        MedicalHistory, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    alert_key = models.CharField(max_length=160)
    note = models.TextField(_("note"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["history", "alert_key"], name="alert_ack_once_per_version"
            )
        ]

    def __str__(self):
        return f"{self.alert_key} acknowledged by {self.acknowledged_by}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Informed consent to mesotherapy")
    PHOTOGRAPHS = "photographs", _("Consent to clinical photographs")
    MARKETING_PHOTOS = "marketing_photos", _("Consent to use photographs for marketing")


class ConsentTemplate(models.Model):
    """A version of a consent text. A changed text is a new version; signed versions stay."""

    kind = models.CharField(_("kind"), max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    is_current = models.BooleanField(_("current version"), default=True)
    required_for_intake = models.BooleanField(_("asked for at intake"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        verbose_name = _("consent template")
        verbose_name_plural = _("consent templates")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version"], name="consent_template_unique_version"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_current=True), name="consent_template_one_current"
            ),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class ConsentSignature(models.Model):
    """A patient's signature on one exact template version. Never edited; only withdrawn."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    template = models.ForeignKey(
        ConsentTemplate, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_name = models.CharField(_("full name as typed"), max_length=200)
    signature_png = models.BinaryField(editable=False)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    signed_via = models.CharField(
        max_length=10, choices=[("desk", _("At the clinic")), ("portal", _("Online"))]
    )
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-signed_at"]
        verbose_name = _("signed consent")
        verbose_name_plural = _("signed consents")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "template"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_valid_signature_per_version",
            )
        ]

    def __str__(self):
        return f"{self.patient} · {self.template}"

    @property
    def is_valid(self):
        return self.withdrawn_at is None


class IntakeInvitation(models.Model):
    """An emailed, signed, single-use link for the patient to do their intake online."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="intake_invitations"
    )
    email = models.EmailField()
    nonce = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Intake invitation for {self.patient}"

    @property
    def is_pending(self):
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()
