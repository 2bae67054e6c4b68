"""Every write to the clinical record of a consultation. Each function is one transaction and
audits itself; a signed consultation is never changed, only added to (addenda)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.models import ClinicSettings, Practitioner
from consultations import signing
from consultations.models import Addendum, AreaAssessment, Consultation, TreatmentPlan
from consultations.signing import SignBlocker, blocker_messages
from patients.selectors import current_alerts, current_history

CONSULTATION_FIELDS = [
    "complaint",
    "goals",
    "tried_before",
    "weight_kg",
    "height_cm",
    "explained_expected_results",
    "explained_number_of_sessions",
    "explained_side_effects",
    "explained_maintenance",
    "notes",
]
ASSESSMENT_FIELDS = [
    "condition",
    "nurnberger_muller_grade",
    "hexsel_depressions",
    "hexsel_depth",
    "hexsel_morphology",
    "hexsel_laxity",
    "circumference_cm",
    "notes",
]


def _practitioner_of(actor):
    practitioner = Practitioner.objects.filter(user=actor, is_active=True).first()
    if practitioner is None:
        raise ApplicationError(_("Only a practitioner can record a consultation."))
    return practitioner


def _locked_draft(consultation):
    return signing.locked_draft(
        Consultation.objects.all(),
        consultation.pk,
        signed_message=_(
            "This consultation is signed and can no longer be changed; add an addendum."
        ),
    )


@transaction.atomic
def consultation_start(*, actor, patient, appointment=None):
    """Open the consultation record for a patient (and their consultation appointment):
    returns the existing draft for that appointment if there is one. Practitioners."""
    practitioner = _practitioner_of(actor)
    if appointment is not None:
        if appointment.patient_id != patient.pk:
            raise ApplicationError(_("This appointment is another patient's."), field="appointment")
        existing = Consultation.objects.filter(appointment=appointment).first()
        if existing is not None:
            return existing
    history = current_history(patient)
    consultation = Consultation(
        patient=patient,
        appointment=appointment,
        practitioner=practitioner,
        created_by=actor,
        height_cm=history.height_cm if history is not None else None,
        weight_kg=history.weight_kg if history is not None else None,
    )
    consultation.full_clean()
    consultation.save()
    audit.record(
        actor=actor, action="consultation.started", target=consultation, patient_id=patient.pk
    )
    return consultation


@transaction.atomic
def consultation_save_draft(*, actor, consultation, data, assessments=None):
    """Save what the practitioner has typed so far (also the autosave). ``assessments`` is a
    list of dicts with ``area`` and the assessment fields: areas missing from it are removed.
    Nothing is saved if any value is invalid; the error names the field."""
    consultation = _locked_draft(consultation)
    changed = []
    for field in CONSULTATION_FIELDS:
        if field in data and getattr(consultation, field) != data[field]:
            setattr(consultation, field, data[field])
            changed.append(field)
    consultation.full_clean()
    consultation.save()
    if assessments is not None:
        _replace_assessments(consultation, assessments)
    audit.record(
        actor=actor,
        action="consultation.saved",
        target=consultation,
        patient_id=consultation.patient_id,
        detail={"fields": changed, "areas": len(assessments or [])},
    )
    return consultation


def _replace_assessments(consultation, assessments):
    seen = set()
    existing = {a.area: a for a in consultation.assessments.all()}
    for index, values in enumerate(assessments):
        area = values.get("area")
        if area in seen:
            raise ApplicationError(
                _("Each area is assessed once per consultation."), field=f"assessments.{index}.area"
            )
        seen.add(area)
        assessment = existing.get(area) or AreaAssessment(
            consultation=consultation, patient_id=consultation.patient_id, area=area
        )
        for field in ASSESSMENT_FIELDS:
            if field in values:
                setattr(assessment, field, values[field] if values[field] != "" else None)
        if assessment.notes is None:
            assessment.notes = ""
        try:
            assessment.full_clean(exclude=["consultation", "patient"])
        except ValidationError as exc:  # name the row and the field
            field, messages = next(iter(exc.message_dict.items()))
            raise ApplicationError(messages[0], field=f"assessments.{index}.{field}") from exc
        assessment.save()
    consultation.assessments.exclude(area__in=seen).delete()


@transaction.atomic
def consultation_review_history(*, actor, consultation):
    """The practitioner has reviewed the patient's current medical history: the record
    points at that exact version."""
    consultation = _locked_draft(consultation)
    history = current_history(consultation.patient)
    if history is None:
        raise ConflictError(
            _("The patient has no medical history yet: record it before the consultation.")
        )
    consultation.medical_history = history
    consultation.history_reviewed_at = timezone.now()
    consultation.save(update_fields=["medical_history", "history_reviewed_at", "updated_at"])
    audit.record(
        actor=actor,
        action="consultation.history_reviewed",
        target=consultation,
        patient_id=consultation.patient_id,
        detail={"history_version": history.version},
    )
    return consultation


def sign_blockers(consultation) -> list[SignBlocker]:
    """What still stops the consultation from being signed (empty when it can be), each with
    the section of the record's page that resolves it."""
    blockers = []
    history = current_history(consultation.patient)
    if history is None:
        blockers.append(SignBlocker("alerts", _("The patient has no medical history.")))
    elif consultation.medical_history_id != history.pk:
        blockers.append(SignBlocker("alerts", _("Review the current medical history.")))
    else:
        unacknowledged = [
            a.label
            for a in current_alerts(consultation.patient, history)
            if a.acknowledgement is None
        ]
        if unacknowledged:
            blockers.append(
                SignBlocker(
                    "alerts",
                    _("Acknowledge these alerts first: %(alerts)s.")
                    % {"alerts": ", ".join(unacknowledged)},
                )
            )
    if not consultation.assessments.exists():
        blockers.append(SignBlocker("areas", _("Assess at least one area.")))
    return blockers


@transaction.atomic
def consultation_sign(*, actor, consultation):
    """The practitioner signs; the record is read-only afterwards. Refused (409) while the
    current history is not reviewed, an alert is unacknowledged or no area is assessed."""
    consultation = _locked_draft(consultation)
    if consultation.practitioner.user_id != actor.pk:
        raise ConflictError(_("Only the practitioner who holds the consultation can sign it."))
    blockers = blocker_messages(sign_blockers(consultation))
    if blockers:
        raise ConflictError(" ".join(blockers), extra={"blockers": blockers})
    consultation.status = Consultation.Status.SIGNED
    consultation.signed_at = timezone.now()
    consultation.signed_by = actor
    consultation.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    audit.record(
        actor=actor,
        action="consultation.signed",
        target=consultation,
        patient_id=consultation.patient_id,
    )
    return consultation


@transaction.atomic
def addendum_add(*, actor, consultation, text):
    """A correction to a signed consultation, kept beside the original."""
    return signing.addendum_add(
        actor=actor,
        record=consultation,
        text=text,
        addendum_model=Addendum,
        record_field="consultation",
        action="consultation.addendum_added",
        draft_message=_("The consultation is still a draft: edit it directly."),
    )


@transaction.atomic
def plan_save(*, actor, consultation, data):
    """Set the treatment plan and quote of a draft consultation."""
    consultation = _locked_draft(consultation)
    plan = getattr(consultation, "plan", None) or TreatmentPlan(consultation=consultation)
    for field in (
        "areas",
        "product",
        "appointment_type",
        "planned_sessions",
        "interval_days",
        "price_per_session",
    ):
        if field in data:
            setattr(plan, field, data[field])
    plan.currency = ClinicSettings.load().currency
    plan.full_clean(exclude=["course"])
    plan.save()
    audit.record(
        actor=actor,
        action="consultation.plan_saved",
        target=consultation,
        patient_id=consultation.patient_id,
        detail={"sessions": plan.planned_sessions, "price": str(plan.price_per_session)},
    )
    return plan


def plan_link_booked_course(*, actor, course):
    """A course was just booked for the patient: attach it to the plan of their newest signed
    consultation that has no course yet and plans the same kind of visit. Runs inside the
    booking's transaction."""
    plan = (
        TreatmentPlan.objects.select_for_update()
        .filter(
            consultation__patient_id=course.patient_id,
            consultation__status=Consultation.Status.SIGNED,
            course__isnull=True,
            appointment_type_id=course.appointment_type_id,
        )
        .order_by("-consultation__signed_at")
        .first()
    )
    if plan is None:
        return None
    plan.course = course
    plan.save(update_fields=["course"])
    audit.record(
        actor=actor,
        action="consultation.plan_booked",
        target=plan.consultation,
        patient_id=course.patient_id,
        detail={"course": course.pk},
    )
    return plan
