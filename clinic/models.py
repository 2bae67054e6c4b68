import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who logs in: staff of the clinic or a patient using the portal.

    The role is the user's group (see ``clinic.roles``); permissions come from the group.
    """

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    is_staff = models.BooleanField(
        _("admin site access"),
        default=False,
        help_text=_("Only clinic managers use the Django admin."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("access_staff_pages", _("Can use the clinic's staff pages")),
            ("access_patient_portal", _("Can use the patient portal")),
            ("manage_clinic", _("Can set up the clinic (locations, rooms, practitioners)")),
            ("view_reports", _("Can read the clinic's reports")),
        ]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def role(self):
        """The user's role, from a prefetched or cached set of group names."""
        if not hasattr(self, "_role_cache"):
            names = {g.name for g in self.groups.all()}
            self._role_cache = next((r for r in Role if r.label_en in names), None)
        return self._role_cache

    @property
    def is_patient(self):
        return self.role == Role.PATIENT

    @property
    def is_clinic_staff(self):
        return self.is_active and self.has_perm("clinic.access_staff_pages")


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(tz)s is not a known time zone."), params={"tz": value})


class Location(models.Model):
    """A clinic site. Times are shown in its time zone."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"),
        max_length=12,
        unique=True,
        help_text=_("Short code used in invoice numbers, e.g. PAR."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self):
        return self.name

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class Room(models.Model):
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("location")
    )
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["location", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_unique_name_per_location"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.location})"


class Practitioner(models.Model):
    """A clinician who sees patients; linked to a staff login."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="practitioner", verbose_name=_("login")
    )
    display_name = models.CharField(_("display name"), max_length=120)
    title = models.CharField(_("title"), max_length=60, blank=True, help_text=_("e.g. Dr, RN"))
    locations = models.ManyToManyField(
        Location, related_name="practitioners", verbose_name=_("locations")
    )
    colour = models.CharField(_("calendar colour"), max_length=7, default="#3b82f6")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")

    def __str__(self):
        return f"{self.title} {self.display_name}".strip()


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """A practitioner's regular weekly hours at one location, in the location's local time."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="working_hours_end_after_start"
            )
        ]

    def __str__(self):
        return f"{self.practitioner} {self.get_weekday_display()} {self.starts_at}-{self.ends_at}"


class WorkingHoursException(models.Model):
    """A one-off change to a practitioner's hours on one date: time off (the whole day when no
    times are given) or extra hours at a location."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", _("Time off")
        EXTRA_HOURS = "extra_hours", _("Extra hours")

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="hours_exceptions"
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text=_("Needed for extra hours; leave empty for time off at every location."),
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    starts_at = models.TimeField(_("from"), null=True, blank=True)
    ends_at = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["date", "starts_at"]
        verbose_name = _("working hours exception")
        verbose_name_plural = _("working hours exceptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, ends_at__isnull=True)
                | Q(ends_at__gt=F("starts_at")),
                name="hours_exception_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(kind="extra_hours")
                | Q(location__isnull=False, starts_at__isnull=False),
                name="extra_hours_have_place_and_time",
            ),
        ]

    def __str__(self):
        return f"{self.practitioner} {self.date} {self.get_kind_display()}"

    @property
    def whole_day(self):
        return self.starts_at is None


DEFAULT_AFTERCARE = (
    "Some bruising at the injection sites is common and can last up to a week.\n"
    "Soreness or tenderness usually settles within about 48 hours; some swelling is normal.\n"
    "Avoid saunas, hot baths, massage of the treated areas and strenuous exercise for 24 hours.\n"
    "Drink plenty of water and keep the injection sites clean; do not apply make-up or creams "
    "to them today.\n"
    "Call the clinic if you notice painful sores, redness that spreads, heat, fever or a rash, "
    "or if bruising or pain gets worse instead of better."
)


class ClinicSettings(models.Model):
    """Clinic-wide settings; exactly one row (``ClinicSettings.load()``)."""

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    name = models.CharField(_("clinic name"), max_length=120, default="Mesotherapy Clinic")
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.TextField(_("address"), blank=True)
    currency = models.CharField(_("currency (ISO 4217)"), max_length=3, default="USD")
    cancellation_window_hours = models.PositiveIntegerField(
        _("cancellation window (hours)"), default=24
    )
    intake_link_valid_days = models.PositiveIntegerField(
        _("intake invitation valid for (days)"), default=7
    )
    front_desk_sees_photos = models.BooleanField(
        _("front desk may see injection-site photos"), default=False
    )
    portal_shows_photos = models.BooleanField(
        _("patients see their own photos in the portal"), default=False
    )
    aftercare_template = models.TextField(
        _("aftercare advice"),
        default=DEFAULT_AFTERCARE,
        help_text=_("Given after each session; the practitioner can adapt it per session."),
    )

    class Meta:
        verbose_name = _("clinic settings")
        verbose_name_plural = _("clinic settings")
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="clinic_settings_single_row")
        ]

    def __str__(self):
        return self.name

    @classmethod
    def load(cls):
        obj, _created = cls.objects.get_or_create(singleton=True)
        return obj


class AuditEvent(models.Model):
    """Append-only trail of who did what to which patient's data. Written by ``clinic.audit``."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("success")
        DENIED = "denied", _("denied")
        FAILURE = "failure", _("failure")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # PROTECT: a user who appears in the trail is deactivated, never deleted.
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only")
