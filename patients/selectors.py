"""Every read of patient data, scoped to what the user may see."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from clinic import audit
from clinic.permissions import is_staff_user
from clinic.roles import Role

from .models import (
    AlertAcknowledgement,
    ConsentSignature,
    ConsentTemplate,
    IntakeInvitation,
    MedicalHistory,
    Patient,
    digits_only,
    fold,
)


def can_view_medical_history(user):
    return user.is_authenticated and user.has_perm("patients.view_medical_history")


def can_edit_demographics(user):
    return user.is_authenticated and user.has_perm("patients.change_patient")


def patient_queryset_for_user(user):
    """Patients the user may see: all for staff, only their own record for a patient."""
    if is_staff_user(user) and user.has_perm("patients.view_patient"):
        return Patient.objects.all()
    if user.is_authenticated and user.role == Role.PATIENT:
        return Patient.objects.filter(portal_user=user)
    return Patient.objects.none()


def patient_get_for_user(user, pk, *, audit_read=True):
    """The patient ``pk`` if ``user`` may see them, else 404. Records the read."""
    patient = patient_queryset_for_user(user).filter(pk=pk).first()
    if patient is None:
        raise Http404(_("No such patient."))
    if audit_read:
        audit.record(actor=user, action="patient.viewed", target=patient, patient_id=patient.pk)
    return patient


def patient_for_portal_user(user):
    """The logged-in patient's own record, or 404."""
    patient = Patient.objects.filter(portal_user=user).first() if user.is_authenticated else None
    if patient is None:
        raise Http404(_("Your account is not linked to a patient record yet."))
    return patient


_DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"]


def _as_date(text):
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, not a time
        except ValueError:
            continue
    return None


def patient_search(user, query="", *, date_of_birth=None, phone=None, email=None):
    """Staff search: a name (accents and case ignored, partial words), a phone number in any
    format, an email or a date of birth, all in one box. Uses the trigram indexes."""
    patients = patient_queryset_for_user(user)
    if not is_staff_user(user):
        return patients.none()
    query = (query or "").strip()
    if query:
        as_date = _as_date(query)
        digits = digits_only(query)
        if as_date:
            patients = patients.filter(date_of_birth=as_date)
        elif "@" in query:
            # Emails are stored lower-case, so a plain LIKE can use the trigram index.
            patients = patients.filter(email__contains=query.lower())
        elif len(digits) >= 3 and not re.search(r"[^\d\s().+\-/]", query):
            patients = patients.filter(phone_digits__contains=_national_digits(digits))
        else:
            for word in fold(query).split():
                patients = patients.filter(search_name__contains=word)
    if date_of_birth:
        patients = patients.filter(date_of_birth=date_of_birth)
    if phone:
        patients = patients.filter(phone_digits__contains=_national_digits(digits_only(phone)))
    if email:
        patients = patients.filter(email__iexact=email.strip())
    return patients.order_by("legal_last_name", "legal_first_name", "id")


def _national_digits(digits):
    # "0612 34 56 78" and "+33 6 12 34 56 78" should both find +33612345678: drop a trunk 0.
    return digits[1:] if digits.startswith("0") and len(digits) > 6 else digits


def patient_find_duplicates(*, first_name, last_name, date_of_birth, phone, email, exclude=None):
    """Likely duplicates of a new registration: same name and date of birth, or same phone,
    or same email."""
    match = Q(
        date_of_birth=date_of_birth,
        search_name__startswith=fold(f"{first_name} {last_name}"),
    )
    if phone:
        match |= Q(phone_digits=digits_only(phone))
    if email:
        match |= Q(email__iexact=email)
    candidates = Patient.objects.filter(match)
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    return list(candidates.order_by("id")[:10])


def current_history(patient):
    """The newest medical history version with its allergies and medications, or None."""
    return (
        MedicalHistory.objects.filter(patient=patient)
        .prefetch_related("allergies", "medications")
        .order_by("-version")
        .first()
    )


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # "allergy", "medication" or "condition"
    label: str
    detail: str
    severe: bool
    acknowledgement: AlertAcknowledgement | None = None


CONDITION_LABELS = {
    "pregnant_or_breastfeeding": "Pregnant or breastfeeding",
    "bleeding_disorder": "Bleeding disorder",
    "active_skin_infection": "Active skin infection",
    "cancer_treatment": "Cancer or cancer treatment",
    "autoimmune_disease": "Autoimmune disease",
    "diabetes": "Diabetes",
    "keloid_scarring": "Keloid scarring",
    "heart_condition": "Heart condition",
}
SEVERE_CONDITIONS = {
    "pregnant_or_breastfeeding",
    "bleeding_disorder",
    "active_skin_infection",
    "cancer_treatment",
}


def patient_alerts(history, acknowledgements):
    """Allergies and contraindications of a history version, each with its acknowledgement."""
    if history is None:
        return []
    acks = {a.alert_key: a for a in acknowledgements if a.history_id == history.pk}
    alerts = []
    for allergy in history.allergies.all():
        key = f"allergy:{fold(allergy.substance)}"
        alerts.append(
            Alert(
                key=key,
                kind="allergy",
                label=_("Allergy: %(substance)s") % {"substance": allergy.substance},
                detail=" · ".join(filter(None, [allergy.reaction, allergy.get_severity_display()])),
                severe=allergy.severity == "severe",
                acknowledgement=acks.get(key),
            )
        )
    for medication in history.medications.all():
        if medication.is_anticoagulant or medication.is_antiplatelet:
            kind = _("anticoagulant") if medication.is_anticoagulant else _("anti-platelet")
            key = f"medication:{fold(medication.name)}"
            alerts.append(
                Alert(
                    key=key,
                    kind="medication",
                    label=_("Takes %(name)s (%(kind)s)") % {"name": medication.name, "kind": kind},
                    detail=_("Bleeding and bruising risk")
                    + (f" · {medication.dose}" if medication.dose else ""),
                    severe=True,
                    acknowledgement=acks.get(key),
                )
            )
    for field in MedicalHistory.CONTRAINDICATIONS:
        if getattr(history, field):
            key = f"condition:{field}"
            alerts.append(
                Alert(
                    key=key,
                    kind="condition",
                    label=_(CONDITION_LABELS[field]),
                    detail=_("Contraindication to check before injecting"),
                    severe=field in SEVERE_CONDITIONS,
                    acknowledgement=acks.get(key),
                )
            )
    return alerts


def current_alerts(patient, history):
    """Alerts of ``history`` (the current one) with their acknowledgements: two queries."""
    acks = AlertAcknowledgement.objects.filter(patient=patient).select_related("acknowledged_by")
    return patient_alerts(history, list(acks))


def patient_alerts_for_user(user, patient):
    """The current alerts, for users who may read medical history. Audited."""
    if not can_view_medical_history(user):
        raise Http404
    audit.record(actor=user, action="alert.list_viewed", target=patient, patient_id=patient.pk)
    return current_alerts(patient, current_history(patient))


def medical_history_list(user, patient):
    """Every version of the patient's history, newest first, in three queries: for clinicians,
    or the patient's own. Audited."""
    own = user.role == Role.PATIENT and patient.portal_user_id == user.pk
    if not (own or can_view_medical_history(user)):
        raise Http404
    audit.record(
        actor=user, action="medical_history.list_viewed", target=patient, patient_id=patient.pk
    )
    return (
        MedicalHistory.objects.filter(patient=patient)
        .select_related("submitted_by")
        .prefetch_related("allergies", "medications")
        .order_by("-version")
    )


def consent_status(patient):
    """For each current consent template: the patient's valid signature on it, if any."""
    # Treatment, then photographs, then the optional marketing consent.
    templates = list(ConsentTemplate.objects.filter(is_current=True).order_by("-kind"))
    signatures = list(
        ConsentSignature.objects.filter(patient=patient)
        .select_related("template", "collected_by", "withdrawn_by")
        .defer("signature_png")
        .order_by("-signed_at")
    )
    valid = {s.template_id: s for s in signatures if s.is_valid}
    return {
        "current": [(t, valid.get(t.pk)) for t in templates],
        "signatures": signatures,
    }


def patient_chart(user, patient):
    """Everything the chart page shows, in a fixed number of queries. Medical history and
    alerts only for users allowed to read them. Records the read in the audit trail."""
    chart = {"patient": patient, "can_view_history": can_view_medical_history(user)}
    chart["consents"] = consent_status(patient)
    chart["pending_invitation"] = (
        IntakeInvitation.objects.filter(patient=patient, used_at=None, revoked_at=None)
        .order_by("-created_at")
        .first()
    )
    if chart["can_view_history"]:
        history = current_history(patient)
        chart["history"] = history
        chart["alerts"] = current_alerts(patient, history)
        chart["history_versions"] = list(
            MedicalHistory.objects.filter(patient=patient)
            .select_related("submitted_by")
            .only(
                "id",
                "version",
                "submitted_at",
                "source",
                "submitted_by__email",
                "submitted_by__full_name",
                "patient_id",
            )
            .order_by("-version")
        )
    audit.record(actor=user, action="patient.chart_viewed", target=patient, patient_id=patient.pk)
    return chart


def medical_history_get(user, patient, version):
    if not can_view_medical_history(user) and not (
        user.role == Role.PATIENT and patient.portal_user_id == user.pk
    ):
        raise Http404
    history = (
        MedicalHistory.objects.filter(patient=patient, version=version)
        .prefetch_related("allergies", "medications")
        .select_related("submitted_by")
        .first()
    )
    if history is None:
        raise Http404
    audit.record(actor=user, action="medical_history.viewed", target=history, patient_id=patient.pk)
    return history


def consent_signature_get_for_user(user, pk):
    signature = ConsentSignature.objects.select_related("patient", "template").filter(pk=pk).first()
    if (
        signature is None
        or not patient_queryset_for_user(user).filter(pk=signature.patient_id).exists()
    ):
        raise Http404
    return signature


def alert_labels_by_patient(patient_ids):
    """Short alert labels (allergies, blood thinners, contraindications) of each patient's
    current history, for calendars and day lists: three queries whatever the number of
    patients. Not audited per patient: the caller's page read is."""
    histories = (
        MedicalHistory.objects.filter(patient_id__in=set(patient_ids))
        .order_by("patient_id", "-version")
        .distinct("patient_id")
        .prefetch_related("allergies", "medications")
    )
    return {h.patient_id: [a.label for a in patient_alerts(h, [])] for h in histories}
