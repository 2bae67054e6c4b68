"""Every write to a patient's record. Each function runs in a transaction and audits itself."""

import base64
import binascii
import io
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.models import ClinicSettings, User
from clinic.roles import Role
from clinic.services import user_create, user_set_role

from .models import (
    AlertAcknowledgement,
    Allergy,
    ConsentSignature,
    ConsentTemplate,
    IntakeInvitation,
    MedicalHistory,
    Medication,
    Patient,
)
from .selectors import current_history, patient_alerts, patient_find_duplicates

PATIENT_EDITABLE_FIELDS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "mobile_phone",
    "address_line",
    "postcode",
    "city",
    "country",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "preferred_language",
    "referral_source",
    "notes",
    *Patient.COMMUNICATION_CONSENTS,
]
# What a patient may change about themselves in the portal: not their legal identity, nor the
# clinic's notes or how they heard of the clinic.
PORTAL_EDITABLE_FIELDS = [
    f
    for f in PATIENT_EDITABLE_FIELDS
    if f
    not in {
        "legal_first_name",
        "legal_last_name",
        "date_of_birth",
        "sex",
        "referral_source",
        "notes",
    }
]


class DuplicatePatientError(ConflictError):
    def __init__(self, candidates):
        self.candidates = list(candidates)
        super().__init__(
            _("This patient may already be registered. Check the list, or create anyway."),
            extra={
                "candidates": [
                    {
                        "id": p.pk,
                        "name": p.full_name,
                        "date_of_birth": p.date_of_birth.isoformat(),
                        "email": p.email,
                        "mobile_phone": str(p.mobile_phone or ""),
                    }
                    for p in self.candidates
                ]
            },
        )


def _stamp_communication_consents(patient, before=None):
    """Note when each consent was given or withdrawn (a new patient's "no" is neither)."""
    now = timezone.now()
    for field in Patient.COMMUNICATION_CONSENTS:
        if before is None:
            changed = getattr(patient, field)
        else:
            changed = getattr(before, field) != getattr(patient, field)
        if changed:
            setattr(patient, f"{field}_at", now)


@transaction.atomic
def patient_create(*, actor, data, force=False):
    """Register a patient. Front desk and managers.

    Raises ``DuplicatePatientError`` (409) listing likely duplicates unless ``force``.
    """
    patient = Patient(**{k: v for k, v in data.items() if k in PATIENT_EDITABLE_FIELDS})
    patient.full_clean()
    if not force:
        candidates = patient_find_duplicates(
            first_name=patient.legal_first_name,
            last_name=patient.legal_last_name,
            date_of_birth=patient.date_of_birth,
            phone=patient.mobile_phone,
            email=patient.email,
        )
        if candidates:
            raise DuplicatePatientError(candidates)
    _stamp_communication_consents(patient)
    patient.save()
    audit.record(
        actor=actor,
        action="patient.created",
        target=patient,
        patient_id=patient.pk,
        detail={"forced_despite_duplicates": bool(force)},
    )
    return patient


@transaction.atomic
def patient_update(*, actor, patient, data, allowed_fields=None):
    """Change identity and contact details. Staff use ``PATIENT_EDITABLE_FIELDS``; the portal
    passes ``PORTAL_EDITABLE_FIELDS``. Locks the row so two desks editing at once do not
    overwrite each other's consent timestamps."""
    allowed = set(allowed_fields or [*PATIENT_EDITABLE_FIELDS, "is_active"])
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    before = Patient.objects.get(pk=patient.pk)
    changed = []
    for field, value in data.items():
        if field in allowed and getattr(patient, field) != value:
            setattr(patient, field, value)
            changed.append(field)
    if not changed:
        return patient
    patient.full_clean()
    _stamp_communication_consents(patient, before)
    patient.save()
    audit.record(
        actor=actor,
        action="patient.updated",
        target=patient,
        patient_id=patient.pk,
        detail={"fields": sorted(changed)},
    )
    return patient


HISTORY_FIELDS = [
    "no_known_allergies",
    "height_cm",
    "weight_kg",
    *MedicalHistory.CONTRAINDICATIONS,
    "other_conditions",
    "earlier_aesthetic_treatments",
    "tried_diet",
    "tried_exercise",
    "tried_liposuction",
    "tried_other",
    "goals",
    "notes",
]


@transaction.atomic
def medical_history_submit(*, actor, patient, data, allergies=(), medications=(), source):
    """Save a new version of the patient's medical history; the newest is current.

    Practitioners and managers at the clinic, or the patient through the portal. Locks the
    patient row so two submissions at once get consecutive version numbers.
    """
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    latest = patient.medical_histories.order_by("-version").values_list("version", flat=True)
    history = MedicalHistory(
        patient=patient,
        version=(latest.first() or 0) + 1,
        submitted_by=actor,
        source=source,
        **{k: v for k, v in data.items() if k in HISTORY_FIELDS},
    )
    history.full_clean()
    history.save()
    rows = [Allergy(history=history, **a) for a in allergies if a.get("substance")]
    rows_m = [Medication(history=history, **m) for m in medications if m.get("name")]
    for row in [*rows, *rows_m]:
        row.full_clean()
    Allergy.objects.bulk_create(rows)
    Medication.objects.bulk_create(rows_m)
    audit.record(
        actor=actor,
        action="medical_history.submitted",
        target=history,
        patient_id=patient.pk,
        detail={"version": history.version, "source": source},
    )
    if source == MedicalHistory.Source.PORTAL:
        intake_complete_if_done(patient=patient)
    return history


@transaction.atomic
def alert_acknowledge(*, actor, patient, alert_key, note):
    """A practitioner (or manager) acknowledges one alert of the current history with a note."""
    note = (note or "").strip()
    if not note:
        raise ApplicationError(_("Write a note saying how the alert is handled."), field="note")
    history = current_history(patient)
    if history is None or alert_key not in {a.key for a in patient_alerts(history, [])}:
        raise ApplicationError(_("This alert is not on the patient's current history."))
    try:
        with transaction.atomic():
            ack = AlertAcknowledgement.objects.create(
                patient=patient,
                history=history,
                alert_key=alert_key,
                note=note,
                acknowledged_by=actor,
            )
    except IntegrityError as exc:
        raise ConflictError(_("This alert has already been acknowledged.")) from exc
    audit.record(
        actor=actor,
        action="alert.acknowledged",
        target=ack,
        patient_id=patient.pk,
        detail={"alert": alert_key},
    )
    return ack


MAX_SIGNATURE_BYTES = 500_000


def _signature_png(data_url):
    """Decode a drawn signature (``data:image/png;base64,...``), check it is a real PNG with
    ink on it, and return the PNG bytes."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise ApplicationError(_("Please sign in the box."), field="signature")
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApplicationError(_("The signature could not be read."), field="signature") from exc
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ApplicationError(_("The signature image is too large."), field="signature")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.verify()
        with Image.open(io.BytesIO(raw)) as image:
            # Ink is anything clearly darker than white once laid on white paper, so neither a
            # transparent nor a plain white image counts as a signature.
            paper = Image.new("RGBA", image.size, "white")
            paper.alpha_composite(image.convert("RGBA"))
            ink = ImageOps.invert(paper.convert("L")).point(lambda v: 255 if v > 60 else 0)
            inked = ink.getbbox() is not None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ApplicationError(_("The signature could not be read."), field="signature") from exc
    if not inked:
        raise ApplicationError(_("Please sign in the box."), field="signature")
    return raw


@transaction.atomic
def consent_sign(*, actor, patient, template, signed_name, signature, via, request=None):
    """Record a patient's signature on the exact template version shown to them.

    At the desk (``via="desk"``, staff hand the tablet over) or in the portal (``via="portal"``).
    """
    signed_name = (signed_name or "").strip()
    if not signed_name:
        raise ApplicationError(_("Type your full name."), field="signed_name")
    if not template.is_current:
        raise ConflictError(_("This consent text has been replaced; please read the new version."))
    png = _signature_png(signature)
    meta = request.META if request is not None else {}
    try:
        with transaction.atomic():
            signature_row = ConsentSignature.objects.create(
                patient=patient,
                template=template,
                signed_name=signed_name,
                signature_png=png,
                ip_address=audit.client_ip(request),
                user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
                signed_via=via,
                collected_by=actor if via == "desk" else None,
            )
    except IntegrityError as exc:
        raise ConflictError(_("This consent is already signed.")) from exc
    audit.record(
        actor=actor,
        action="consent.signed",
        target=signature_row,
        patient_id=patient.pk,
        detail={"template": template.pk, "kind": template.kind, "version": template.version},
    )
    if via == "portal":
        intake_complete_if_done(patient=patient)
    return signature_row


@transaction.atomic
def consent_withdraw(*, actor, signature, reason=""):
    """Withdraw a signed consent: it is kept, with when and by whom it was withdrawn."""
    signature = ConsentSignature.objects.select_for_update().get(pk=signature.pk)
    if signature.withdrawn_at is not None:
        raise ConflictError(_("This consent was already withdrawn."))
    ConsentSignature.objects.filter(pk=signature.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=actor, withdrawal_reason=(reason or "")[:300]
    )
    signature.refresh_from_db()
    audit.record(
        actor=actor,
        action="consent.withdrawn",
        target=signature,
        patient_id=signature.patient_id,
    )
    return signature


@transaction.atomic
def consent_template_publish(*, actor, kind, title, body, required_for_intake=True):
    """Publish a new version of a consent text (managers). Signed versions stay as they were."""
    previous = ConsentTemplate.objects.select_for_update().filter(kind=kind).order_by("-version")
    last = previous.first()
    previous.filter(is_current=True).update(is_current=False)
    template = ConsentTemplate(
        kind=kind,
        version=(last.version + 1) if last else 1,
        title=title,
        body=body,
        required_for_intake=required_for_intake,
    )
    template.full_clean()
    template.save()
    audit.record(actor=actor, action="consent_template.published", target=template)
    return template


INVITATION_SALT = "patients.intake-invitation"


def intake_invitation_url(invitation):
    token = signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT)
    return reverse("patients:intake_accept", args=[token])


@transaction.atomic
def intake_invitation_send(*, actor, patient, base_url):
    """Email the patient a single-use link to set a password and do their intake online.
    Front desk and managers. Earlier pending invitations are revoked."""
    if not patient.email:
        raise ApplicationError(_("Add the patient's email address first."), field="email")
    if patient.portal_user_id and patient.intake_completed_at:
        raise ConflictError(_("This patient has already completed their intake."))
    now = timezone.now()
    IntakeInvitation.objects.filter(patient=patient, used_at=None, revoked_at=None).update(
        revoked_at=now
    )
    days = ClinicSettings.load().intake_link_valid_days
    invitation = IntakeInvitation.objects.create(
        patient=patient,
        email=patient.email,
        nonce=secrets.token_urlsafe(24),
        created_by=actor,
        expires_at=now + timedelta(days=days),
    )
    link = base_url.rstrip("/") + intake_invitation_url(invitation)
    clinic = ClinicSettings.load()
    context = {"patient": patient, "link": link, "clinic": clinic, "days": days}
    subject = _("Your intake form for %(clinic)s") % {"clinic": clinic.name}
    text = render_to_string("patients/email/intake_invitation.txt", context)
    html = render_to_string("patients/email/intake_invitation.html", context)
    # The email goes out only once the invitation is really saved.
    transaction.on_commit(
        lambda: send_mail(
            subject, text, settings.DEFAULT_FROM_EMAIL, [invitation.email], html_message=html
        )
    )
    audit.record(
        actor=actor, action="intake_invitation.sent", target=invitation, patient_id=patient.pk
    )
    return invitation


def intake_invitation_from_token(token):
    """The pending invitation a link points at, or ``ApplicationError`` saying why not."""
    max_age = timedelta(days=max(ClinicSettings.load().intake_link_valid_days, 1))
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise ApplicationError(_("This link has expired. Ask the clinic for a new one.")) from exc
    except signing.BadSignature as exc:
        raise ApplicationError(_("This link is not valid. Ask the clinic for a new one.")) from exc
    invitation = (
        IntakeInvitation.objects.select_related("patient")
        .filter(pk=payload.get("i"), nonce=payload.get("n"))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise ApplicationError(_("This link is no longer valid. Ask the clinic for a new one."))
    if invitation.used_at is not None:
        raise ApplicationError(_("This link has already been used. Log in with your password."))
    if invitation.expires_at <= timezone.now():
        raise ApplicationError(_("This link has expired. Ask the clinic for a new one."))
    return invitation


@transaction.atomic
def intake_invitation_accept(*, token, password):
    """The patient opens the link and sets a password: creates (or re-links) their portal
    account and uses up the invitation. Locks the invitation so a double submit cannot use it
    twice."""
    invitation = intake_invitation_from_token(token)
    invitation = IntakeInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise ApplicationError(_("This link has already been used. Log in with your password."))
    patient = Patient.objects.select_for_update().get(pk=invitation.patient_id)
    user = patient.portal_user
    try:
        validate_password(password, user=user or User(email=invitation.email))
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), field="password") from exc
    if user is None:
        existing = User.objects.filter(email__iexact=invitation.email).first()
        if existing is not None and (existing.role != Role.PATIENT or hasattr(existing, "patient")):
            raise ConflictError(
                _("This email address already has an account. Please call the clinic.")
            )
        user = existing or user_create(
            actor=None,
            email=invitation.email,
            password=password,
            full_name=patient.full_name,
            role=Role.PATIENT,
        )
        patient.portal_user = user
        patient.save(update_fields=["portal_user", "updated_at"])
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    if user.role != Role.PATIENT:
        user_set_role(actor=None, user=user, role=Role.PATIENT)
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    audit.record(
        actor=user, action="intake_invitation.accepted", target=invitation, patient_id=patient.pk
    )
    return user


def intake_complete_if_done(*, patient):
    """Mark the intake complete once the patient has a history and has signed every consent
    asked for at intake. Called inside the transactions of the portal's writes."""
    if patient.intake_completed_at is not None or current_history(patient) is None:
        return
    required = set(
        ConsentTemplate.objects.filter(is_current=True, required_for_intake=True).values_list(
            "pk", flat=True
        )
    )
    signed = set(
        patient.consents.filter(withdrawn_at=None, template__in=required).values_list(
            "template_id", flat=True
        )
    )
    if required <= signed:
        Patient.objects.filter(pk=patient.pk).update(intake_completed_at=timezone.now())
        patient.intake_completed_at = timezone.now()
        audit.record(actor=None, action="intake.completed", target=patient, patient_id=patient.pk)
