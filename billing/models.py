"""Billing: the price list (versions in force from a date), invoices and credit notes with
their lines, payments, refunds and how they are applied to invoices, packages of sessions, the
patient ledger, and the counters behind gapless invoice numbers.

Money is ``Decimal`` with three decimal places in the database (enough for KWD); services
round every amount to the currency's own minor unit (``billing.money``).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.areas import BodyArea

from .money import CURRENCY_CHOICES, validate_currency

MONEY = {"max_digits": 14, "decimal_places": 3}
POSITIVE = [MinValueValidator(Decimal("0.001"))]


def money_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, **MONEY, **kwargs)


def currency_field():
    return models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, validators=[validate_currency]
    )


class TaxRate(models.Model):
    """A tax rate the clinic charges (VAT, sales tax), as a percentage. 0 % for exempt."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["rate", "name"]
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0, rate__lte=100), name="tax_rate_between_0_and_100"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.rate.normalize()} %)"


class AreaTier(models.TextChoices):
    SMALL = "small", _("Small")
    STANDARD = "standard", _("Standard")
    LARGE = "large", _("Large or complex")


class PriceList(models.Model):
    """One version of the clinic's prices, in force from ``effective_from`` until the next
    version starts. Invoices copy every amount onto their lines, so a new version never
    changes an issued invoice; a version that an issued invoice used is locked."""

    class AdditionalAreas(models.TextChoices):
        FULL = "full", _("Full price for every area")
        FIXED = "fixed", _("Each additional area: a fixed amount")
        PERCENT = "percent", _("Each additional area: a percentage of its price")

    effective_from = models.DateField(_("in force from"), unique=True)
    currency = currency_field()
    prices_include_tax = models.BooleanField(
        _("prices include tax"),
        default=False,
        help_text=_("Tick when the amounts below are what the patient pays, tax included."),
    )
    tax_rate = models.ForeignKey(
        TaxRate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tax on treatments and fees"),
        help_text=_("Leave empty when the clinic charges no tax."),
    )
    additional_areas = models.CharField(
        _("additional areas in one session"),
        max_length=8,
        choices=AdditionalAreas.choices,
        default=AdditionalAreas.FULL,
    )
    additional_area_value = models.DecimalField(
        _("additional area amount or percentage"),
        **MONEY,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("A fixed amount per additional area, or a percentage of its own price."),
    )
    small_area_max_ml = models.DecimalField(
        _("small tier up to (ml)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("An area treated with at most this volume is priced as small."),
    )
    large_area_min_ml = models.DecimalField(
        _("large tier from (ml)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE,
        help_text=_("An area treated with at least this volume is priced as large."),
    )
    consultation_credited = models.BooleanField(
        _("consultation fee credited against the first session"), default=False
    )
    no_show_fee = models.DecimalField(
        _("no-show fee"), **MONEY, null=True, blank=True, validators=POSITIVE
    )
    late_cancellation_fee = models.DecimalField(
        _("late cancellation fee"), **MONEY, null=True, blank=True, validators=POSITIVE
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            models.CheckConstraint(
                condition=Q(additional_areas="full")
                | Q(additional_area_value__isnull=False, additional_area_value__gt=0),
                name="price_list_additional_area_value_given",
            ),
            models.CheckConstraint(
                condition=Q(no_show_fee__isnull=True) | Q(no_show_fee__gt=0),
                name="price_list_no_show_fee_positive",
            ),
            models.CheckConstraint(
                condition=Q(late_cancellation_fee__isnull=True) | Q(late_cancellation_fee__gt=0),
                name="price_list_late_fee_positive",
            ),
        ]

    def __str__(self):
        return f"Prices from {self.effective_from:%Y-%m-%d}"

    @property
    def tax_percent(self):
        return self.tax_rate.rate if self.tax_rate_id else Decimal("0")


class SessionPrice(models.Model):
    """The price of an appointment type (the consultation fee, a session's base price)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="sessions")
    appointment_type = models.ForeignKey(
        "treatment_sessions.AppointmentType", on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("price"), validators=POSITIVE)

    class Meta:
        ordering = ["appointment_type__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "appointment_type"], name="one_price_per_type_per_list"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="session_price_positive"),
        ]

    def __str__(self):
        return f"{self.appointment_type}: {self.amount}"


class AreaPrice(models.Model):
    """The price of treating one body area at one size or complexity tier."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="areas")
    area = models.CharField(_("area"), max_length=20, choices=BodyArea.choices)
    tier = models.CharField(_("tier"), max_length=8, choices=AreaTier.choices)
    amount = money_field(_("price"), validators=POSITIVE)

    class Meta:
        ordering = ["area", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "area", "tier"], name="one_price_per_area_tier_per_list"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="area_price_positive"),
        ]

    def __str__(self):
        return f"{self.get_area_display()} ({self.get_tier_display()}): {self.amount}"


class ProductPrice(models.Model):
    """A billable product, charged per millilitre used."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey("consultations.Product", on_delete=models.PROTECT, related_name="+")
    amount_per_ml = money_field(_("price per ml"), validators=POSITIVE)

    class Meta:
        ordering = ["product__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product"], name="one_price_per_product_per_list"
            ),
            models.CheckConstraint(condition=Q(amount_per_ml__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return f"{self.product}: {self.amount_per_ml}/ml"


class BillingAccount(models.Model):
    """One row per patient that every money operation locks first (``select_for_update``),
    so two desks cannot spend the same account credit or package session at once."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="billing_account"
    )

    def __str__(self):
        return f"Account of patient {self.patient_id}"


class InvoiceSequence(models.Model):
    """The last number given in one series (invoices or credit notes) at one location in one
    year. Locked inside the issuing transaction, so numbers are gapless and never repeat."""

    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=2)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "series", "year"], name="one_sequence_per_series_and_year"
            )
        ]

    def __str__(self):
        return f"{self.location_id} {self.series} {self.year}: {self.last_number}"


class Invoice(models.Model):
    """An invoice or a credit note. A draft can be edited, voided or issued; issuing gives it
    its number and freezes it (a database trigger refuses later changes to its amounts and
    lines). A mistake on an issued invoice is corrected by a credit note referencing it."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        VOID = "void", _("Void")

    class Purpose(models.TextChoices):
        SESSION = "session", _("Treatment session")
        CONSULTATION = "consultation", _("Consultation")
        NO_SHOW_FEE = "no_show_fee", _("No-show fee")
        LATE_CANCELLATION_FEE = "late_cancellation_fee", _("Late cancellation fee")
        PACKAGE = "package", _("Package of sessions")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.DRAFT
    )
    purpose = models.CharField(_("for"), max_length=24, choices=Purpose.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="invoices"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        "treatment_sessions.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    course = models.ForeignKey(
        "treatment_sessions.Course",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    credited_invoice = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    price_list = models.ForeignKey(
        PriceList, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    currency = currency_field()
    number = models.CharField(_("number"), max_length=32, unique=True, null=True, blank=True)
    series = models.CharField(max_length=2, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    subtotal = money_field(_("subtotal"), default=Decimal("0"))
    tax_total = money_field(_("tax"), default=Decimal("0"))
    total = money_field(_("total"), default=Decimal("0"))
    notes = models.TextField(_("notes printed on the invoice"), blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        permissions = [
            ("bill_patients", _("Can draft, issue and credit invoices and take payments")),
            ("manage_prices", _("Can change the price list")),
        ]
        indexes = [
            models.Index(fields=["patient", "status"], name="invoice_patient_status_idx"),
            models.Index(fields=["issued_at"], name="invoice_issued_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="issued", number__isnull=False, issued_at__isnull=False)
                | (~Q(status="issued") & Q(number__isnull=True)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="credit_note_references_invoice",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0) & Q(total=F("subtotal") + F("tax_total")),
                name="invoice_total_is_subtotal_plus_tax",
            ),
            models.UniqueConstraint(
                fields=["appointment", "purpose"],
                condition=Q(kind="invoice", status__in=["draft", "issued"]),
                name="one_live_invoice_per_appointment_and_purpose",
            ),
            models.UniqueConstraint(
                fields=["location", "series", "year", "sequence"],
                name="invoice_sequence_unique",
            ),
        ]

    def __str__(self):
        return self.number or f"Draft {self.pk}"

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    @property
    def is_issued(self):
        return self.status == self.Status.ISSUED

    @property
    def is_credit_note(self):
        return self.kind == self.Kind.CREDIT_NOTE


class InvoiceLine(models.Model):
    """One line of an invoice: what, how many, at what price, with the tax rate copied from
    the price list at drafting. ``net + tax == total`` is held by the database."""

    class Kind(models.TextChoices):
        SESSION = "session", _("Session")
        AREA = "area", _("Area treated")
        ADDITIONAL_AREA = "additional_area", _("Additional area")
        PRODUCT = "product", _("Product")
        CONSULTATION = "consultation", _("Consultation")
        CONSULTATION_CREDIT = "consultation_credit", _("Consultation fee credited")
        PACKAGE = "package", _("Package")
        PACKAGE_SESSION = "package_session", _("Session from a package")
        FEE = "fee", _("Fee")
        OTHER = "other", _("Other")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    description = models.CharField(_("description"), max_length=200)
    area = models.CharField(_("area"), max_length=20, choices=BodyArea.choices, blank=True)
    tier = models.CharField(_("tier"), max_length=8, choices=AreaTier.choices, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=8, decimal_places=2, default=Decimal("1")
    )
    unit_price = money_field(_("unit price"))
    discount = money_field(_("discount"), default=Decimal("0"))
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=6, decimal_places=3, default=Decimal("0")
    )
    tax_included = models.BooleanField(default=False)
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    total = money_field(_("amount"))
    practitioner = models.ForeignKey(
        "clinic.Practitioner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "consultations.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The consultation invoice whose fee this line credits (kind consultation_credit).
    credits_consultation = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # On a credit note: the line of the credited invoice it reverses.
    credited_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )
    package = models.ForeignKey(
        "Package", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="line_discount_not_negative"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) | Q(kind="consultation_credit"),
                name="line_price_not_negative_except_credit",
            ),
            models.CheckConstraint(
                condition=Q(total=F("net") + F("tax")), name="line_total_is_net_plus_tax"
            ),
        ]

    def __str__(self):
        return f"{self.description}: {self.total}"


class Package(models.Model):
    """A course sold as a package: N sessions for a total price, paid up front or in
    instalments through its package invoice. Each completed session of the course draws one
    session (``PackageDraw``) instead of billing the session price."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED = "used", _("All sessions used")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="packages"
    )
    course = models.ForeignKey(
        "treatment_sessions.Course",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="packages",
    )
    appointment_type = models.ForeignKey(
        "treatment_sessions.AppointmentType", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    sessions_total = models.PositiveSmallIntegerField(
        _("sessions"), validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    price = money_field(_("price of the package"), validators=POSITIVE)
    currency = currency_field()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="sold_package"
    )
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sold_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sold_at", "-id"]
        verbose_name = _("package")
        verbose_name_plural = _("packages")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="package_price_positive"),
            models.CheckConstraint(
                condition=Q(sessions_total__gte=1, sessions_total__lte=50),
                name="package_sessions_in_range",
            ),
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(status="active"),
                name="one_active_package_per_course",
            ),
        ]

    def __str__(self):
        return f"{self.name} · {self.patient}"


class PackageDraw(models.Model):
    """One session taken from a package for one appointment, valued at an equal share of the
    package price (the last share takes what is left, so the shares add up to the price)."""

    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="draws")
    appointment = models.ForeignKey(
        "treatment_sessions.Appointment", on_delete=models.PROTECT, related_name="package_draws"
    )
    value = money_field(_("value"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["drawn_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(reversed_at__isnull=True),
                name="one_draw_per_appointment",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="draw_value_not_negative"),
        ]

    def __str__(self):
        return f"Draw {self.pk} from package {self.package_id}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    PACKAGE = "package", _("Package credit")
    ACCOUNT_CREDIT = "account_credit", _("Account credit")


# Methods by which money actually changes hands (in the cash-up); the others move value the
# patient already has.
MONEY_METHODS = [PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER]


class Payment(models.Model):
    """Value received from a patient: money (cash, card with the terminal's reference, bank
    transfer) or a session's value from a package. What is not applied to an invoice is the
    patient's account credit (an overpayment, a deposit not yet used, money released by a
    credit note). ``method`` is never account credit: using credit is an ``Allocation``."""

    class Purpose(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        DEPOSIT = "deposit", _("Deposit")

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="payments"
    )
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(
        _("method"),
        max_length=16,
        choices=[c for c in PaymentMethod.choices if c[0] != PaymentMethod.ACCOUNT_CREDIT],
    )
    purpose = models.CharField(
        _("purpose"), max_length=8, choices=Purpose.choices, default=Purpose.PAYMENT
    )
    amount = money_field(_("amount"), validators=POSITIVE)
    currency = currency_field()
    reference = models.CharField(
        _("reference"),
        max_length=80,
        blank=True,
        help_text=_("The card terminal's transaction reference, or the bank transfer's."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The invoice it was taken for (its receipt); a deposit points at the course or visit.
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payments_taken"
    )
    course = models.ForeignKey(
        "treatment_sessions.Course",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deposits",
    )
    appointment = models.ForeignKey(
        "treatment_sessions.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deposits",
    )
    package_draw = models.OneToOneField(
        PackageDraw, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(method="account_credit"), name="payment_method_not_account_credit"
            ),
            models.CheckConstraint(
                condition=Q(method="package", package_draw__isnull=False)
                | (~Q(method="package") & Q(package_draw__isnull=True)),
                name="package_credit_has_draw",
            ),
            models.CheckConstraint(
                condition=~Q(method="card") | ~Q(reference=""),
                name="card_payment_has_reference",
            ),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount} {self.currency}"

    @property
    def is_money(self):
        return self.method in MONEY_METHODS


class Refund(models.Model):
    """Money given back from a payment, always to the method it came by."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    location = models.ForeignKey("clinic.Location", on_delete=models.PROTECT, related_name="+")
    amount = money_field(_("amount"), validators=POSITIVE)
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    refunded_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-refunded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return f"Refund {self.amount} of payment {self.payment_id}"


class Allocation(models.Model):
    """Value applied to (or, when negative, released from) an invoice: from a payment or
    from a credit note. Rows are only ever added. For each invoice the allocations never
    exceed its total; a payment's allocations never exceed what is left of it after refunds."""

    class Source(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        ACCOUNT_CREDIT = "account_credit", _("Account credit")
        DEPOSIT = "deposit", _("Deposit")
        CREDIT_NOTE = "credit_note", _("Credit note")
        RELEASE = "release", _("Released")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    amount = money_field(_("amount"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payment__isnull=False, credit_note__isnull=True)
                | Q(payment__isnull=True, credit_note__isnull=False),
                name="allocation_from_payment_or_credit_note",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero"),
        ]

    def __str__(self):
        return f"{self.amount} to invoice {self.invoice_id}"


class LedgerEntry(models.Model):
    """The patient ledger: one row per money event, append-only (a trigger refuses updates
    and deletes). Positive amounts are what the patient owes (invoices, refunds), negative
    what they paid or were credited; the balance is the sum."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = money_field(_("amount"))
    currency = currency_field()
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["patient", "at"], name="ledger_patient_at_idx")]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_not_zero")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only")
