"""Every write to the record of a treatment session. Each function is one transaction and
audits itself. A signed record is never changed, only added to (addenda); signing completes
the appointment and tells billing and reminders."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.models import ClinicSettings, Practitioner
from consultations import signing
from consultations.models import (
    AdverseEvent,
    AreaAssessment,
    Condition,
    InjectionPoint,
    Product,
    ProductLot,
    SessionAddendum,
    SessionRecord,
    Severity,
    SideEffectReport,
    TreatedArea,
)
from consultations.services.common import as_instance, clean_row
from consultations.services.lots import checked_lot
from consultations.signals import session_record_signed
from consultations.signing import SignBlocker, blocker_messages
from patients.selectors import current_history
from sessions.models import Appointment, AppointmentStatus, AppointmentType
from sessions.services import appointment_complete, appointment_start, course_flag_for_review

RECORD_FIELDS = [
    "no_side_effects_since_last",
    "health_changes",
    "medication_changes",
    "weight_kg",
    "alerts_reviewed",
    "topical_anaesthetic",
    "tolerance",
    "aftercare_given",
    "next_session_recommendation",
    "notes",
]
TREATED_AREA_FIELDS = [
    "volume_ml",
    "injection_points",
    "depth_mm",
    "technique",
    "needle_gauge",
    "needle_length_mm",
]
SIDE_EFFECT_FIELDS = ["kind", "severity", "duration_days", "notes"]
ADVERSE_EVENT_FIELDS = ["kind", "severity", "action_taken", "follow_up"]
RECORDABLE_STATUSES = (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS)
# Maintenance sessions inject too; consultations and follow-up visits have no session record.
INJECTING_KINDS = (AppointmentType.Kind.TREATMENT, AppointmentType.Kind.MAINTENANCE)
REVIEW_REASON = "Severe adverse event at the last session: a practitioner reviews first."


# --- Who may record -------------------------------------------------------------------------


def recording_practitioner(actor, appointment):
    """The actor's practitioner profile if they may record this appointment's session: the
    appointment's own practitioner, or one holding the "record any session" permission (a
    colleague covering). Raises ``PermissionDenied`` otherwise."""
    practitioner = Practitioner.objects.filter(user=actor, is_active=True).first()
    if practitioner is None:
        raise PermissionDenied(_("Only a practitioner can record a treatment session."))
    if appointment.practitioner_id != practitioner.pk and not actor.has_perm(
        "consultations.record_any_session"
    ):
        raise PermissionDenied(
            _(
                "This session is booked with %(name)s; only they, or a colleague the manager "
                "allowed to cover, can record it."
            )
            % {"name": appointment.practitioner}
        )
    return practitioner


def _session_day(appointment):
    return timezone.localdate(appointment.starts_at, timezone=appointment.location.zone)


def plan_areas(appointment):
    """The areas the course plans: the consultation's plan if it is linked, else the course's
    own list (empty without a course)."""
    course = appointment.course
    if course is None:
        return []
    plan = getattr(course, "plan", None)
    return list(plan.areas) if plan is not None else list(course.areas)


# --- Starting and saving ----------------------------------------------------------------------


@transaction.atomic
def session_record_start(*, actor, appointment):
    """Open the record of a treatment appointment whose patient is checked in or already in the
    room (returns the existing record if there is one) and takes the patient in. The weight
    starts from the last session's, the aftercare from the clinic's template."""
    # Locked so two clicks on "Open session record" make one record, not a clash.
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("appointment_type", "location", "practitioner", "course")
        .get(pk=appointment.pk)
    )
    existing = SessionRecord.objects.filter(appointment=appointment).first()
    if existing is not None:
        recording_practitioner(actor, appointment)
        return existing
    kind = appointment.appointment_type.kind
    if kind == AppointmentType.Kind.CONSULTATION:
        raise ApplicationError(
            _("This appointment is a consultation: open the consultation record instead."),
            field="appointment",
        )
    if kind not in INJECTING_KINDS:
        raise ApplicationError(
            _("Only treatment and maintenance sessions have a session record."),
            field="appointment",
        )
    if appointment.status not in RECORDABLE_STATUSES:
        raise ConflictError(
            _("Check the patient in before recording the session (the appointment is %(s)s).")
            % {"s": AppointmentStatus(appointment.status).label.lower()},
            field="appointment",
            extra={"status": appointment.status},
        )
    practitioner = recording_practitioner(actor, appointment)
    record = SessionRecord(
        appointment=appointment,
        patient_id=appointment.patient_id,
        practitioner=practitioner,
        created_by=actor,
        weight_kg=_last_weight(appointment),
        aftercare_given=ClinicSettings.load().aftercare_template,
    )
    record.full_clean(exclude=["appointment"])
    record.save()
    if appointment.status == AppointmentStatus.CHECKED_IN:
        appointment_start(actor=actor, appointment=appointment)
    audit.record(
        actor=actor,
        action="session_record.started",
        target=record,
        patient_id=record.patient_id,
        detail={"appointment": appointment.pk},
    )
    return record


def _last_weight(appointment):
    last = (
        SessionRecord.objects.filter(patient_id=appointment.patient_id, weight_kg__isnull=False)
        .order_by("-created_at")
        .values_list("weight_kg", flat=True)
        .first()
    )
    if last is not None:
        return last
    history = current_history(appointment.patient)
    return history.weight_kg if history is not None else None


def _locked_draft(record):
    """The record row, locked so an autosave and the signature cannot interleave; 409 once
    it is signed."""
    return signing.locked_draft(
        SessionRecord.objects.select_related("appointment__location", "appointment__course"),
        record.pk,
        signed_message=_(
            "This session record is signed and can no longer be changed; add an addendum."
        ),
    )


@transaction.atomic
def session_record_save_draft(
    *, actor, record, data, side_effects=None, areas=None, adverse_events=None, assessments=None
):
    """Save what the practitioner has recorded so far (also the autosave). The lists replace
    what was there when given (``None`` leaves them alone):

    - ``side_effects``: dicts with kind, severity, duration_days, notes;
    - ``areas``: dicts with area, product, lot (ids or objects), the treated-area fields and
      ``points`` (dicts with diagram, x, y, volume_ml);
    - ``adverse_events``: dicts with kind, severity, action_taken, follow_up;
    - ``assessments``: dicts with area, nurnberger_muller_grade, circumference_cm (the trend).

    Nothing is saved if anything is invalid; the error names the field (``areas.1.lot``)."""
    record = _locked_draft(record)
    recording_practitioner(actor, record.appointment)
    changed = []
    for field in RECORD_FIELDS:
        if field in data and getattr(record, field) != data[field]:
            setattr(
                record, field, "" if data[field] is None and field != "weight_kg" else data[field]
            )
            changed.append(field)
    clean_row(record, exclude=["appointment", "patient", "practitioner"])
    record.save()
    if side_effects is not None:
        _replace_rows(record, "side_effects", SideEffectReport, SIDE_EFFECT_FIELDS, side_effects)
    if adverse_events is not None:
        _replace_rows(record, "adverse_events", AdverseEvent, ADVERSE_EVENT_FIELDS, adverse_events)
    if areas is not None:
        _replace_areas(record, areas)
    if assessments is not None:
        _replace_assessments(record, assessments)
    audit.record(
        actor=actor,
        action="session_record.saved",
        target=record,
        patient_id=record.patient_id,
        detail={"fields": changed, "areas": len(areas or [])},
    )
    return record


def _replace_rows(record, related, model, fields, rows):
    getattr(record, related).all().delete()
    for index, values in enumerate(rows):
        row = model(record=record)
        for field in fields:
            value = values.get(field)
            setattr(row, field, "" if value is None and field in ("notes", "follow_up") else value)
        clean_row(row, exclude=["record"], prefix=f"{related}.{index}.")
        row.save()


def _replace_areas(record, areas):
    appointment = record.appointment
    planned = set(plan_areas(appointment))
    day = _session_day(appointment)
    # A lot already on this record stays acceptable after it is marked out of stock (the
    # practitioner may have just used its last vial); only new choices must be in stock.
    lots_in_use = set(TreatedArea.objects.filter(record=record).values_list("lot_id", flat=True))
    TreatedArea.objects.filter(record=record).delete()  # points go with them
    seen = set()
    for index, values in enumerate(areas):
        prefix = f"areas.{index}."
        area = values.get("area")
        if area in seen:
            raise ApplicationError(
                _("Each area is recorded once per session."), field=f"{prefix}area"
            )
        seen.add(area)
        product = as_instance(
            Product, values.get("product"), f"{prefix}product", _("Unknown product.")
        )
        lot_value = values.get("lot")
        lot_id = lot_value.pk if isinstance(lot_value, ProductLot) else lot_value
        lot = checked_lot(
            lot=lot_value,
            product=product,
            day=day,
            field=f"{prefix}lot",
            require_in_stock=str(lot_id) not in {str(i) for i in lots_in_use},
        )
        treated = TreatedArea(
            record=record,
            area=area,
            is_extra=bool(planned) and area not in planned,
            product=product,
            lot=lot,
        )
        for field in TREATED_AREA_FIELDS:
            setattr(treated, field, values.get(field))
        clean_row(treated, exclude=["record"], prefix=prefix)
        treated.save()
        _add_points(treated, values.get("points") or [], prefix=f"{prefix}points.")


MAX_POINTS_PER_AREA = 500


def _add_points(treated, points, *, prefix):
    if len(points) > MAX_POINTS_PER_AREA:
        raise ApplicationError(
            _("At most %(n)s points per area.") % {"n": MAX_POINTS_PER_AREA}, field=prefix[:-1]
        )
    rows = []
    for index, values in enumerate(points):
        point = InjectionPoint(
            treated_area=treated,
            diagram=values.get("diagram"),
            x=_decimal(values.get("x"), f"{prefix}{index}.x"),
            y=_decimal(values.get("y"), f"{prefix}{index}.y"),
            volume_ml=_decimal(values.get("volume_ml"), f"{prefix}{index}.volume_ml", 2),
        )
        clean_row(point, exclude=["treated_area"], prefix=f"{prefix}{index}.")
        rows.append(point)
    InjectionPoint.objects.bulk_create(rows)


def _decimal(value, field, places=4):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("Enter a number."), field=field) from None


def _replace_assessments(record, assessments):
    baseline = {
        a.area: a.condition
        for a in AreaAssessment.objects.filter(
            patient_id=record.patient_id, consultation__isnull=False
        ).order_by("recorded_at")
    }
    record.assessments.all().delete()
    seen = set()
    for index, values in enumerate(assessments):
        area = values.get("area")
        if area in seen:
            raise ApplicationError(
                _("Each area is assessed once per session."), field=f"assessments.{index}.area"
            )
        seen.add(area)
        grade = values.get("nurnberger_muller_grade")
        circumference = values.get("circumference_cm")
        if grade in (None, "") and circumference in (None, ""):
            continue
        assessment = AreaAssessment(
            patient_id=record.patient_id,
            session_record=record,
            area=area,
            condition=values.get("condition") or baseline.get(area) or Condition.CELLULITE,
            nurnberger_muller_grade=None if grade == "" else grade,
            circumference_cm=None if circumference == "" else circumference,
            recorded_at=record.appointment.starts_at,
        )
        clean_row(
            assessment,
            exclude=["patient", "consultation", "session_record"],
            prefix=f"assessments.{index}.",
        )
        assessment.save()


# --- Signing ----------------------------------------------------------------------------------


def sign_blockers(record) -> list[SignBlocker]:
    """What still stops the session record from being signed (empty when it can be), each
    with the section of the record's page that resolves it."""
    blockers = []
    if not record.alerts_reviewed:
        blockers.append(
            SignBlocker("alerts", _("Confirm you reviewed the patient's alerts before injecting."))
        )
    if (
        not record.no_side_effects_since_last
        and not record.side_effects.exists()
        and _has_earlier_session(record)
    ):
        blockers.append(
            SignBlocker(
                "before", _('Record the side effects since the last session, or tick "none".')
            )
        )
    if not record.areas.exists():
        blockers.append(
            SignBlocker("areas", _("Record at least one treated area with its product and lot."))
        )
    if not record.tolerance:
        blockers.append(
            SignBlocker("tolerance", _("Record how the patient tolerated the session."))
        )
    if not record.aftercare_given.strip():
        blockers.append(SignBlocker("aftercare", _("Record the aftercare given.")))
    return blockers


def _has_earlier_session(record):
    return SessionRecord.objects.filter(
        patient_id=record.patient_id,
        status=SessionRecord.Status.SIGNED,
        appointment__starts_at__lt=record.appointment.starts_at,
    ).exists()


@transaction.atomic
def session_record_sign(*, actor, record):
    """Complete the session: sign the record (read-only afterwards), move the appointment to
    completed, flag the course for review after a severe adverse event, and send
    ``session_record_signed`` (billing drafts the invoice; the appointment's own
    ``appointment_completed`` queues the aftercare message). Refused (409) while something is
    missing, for a lot that has expired since it was chosen, or when already signed."""
    record = _locked_draft(record)
    recording_practitioner(actor, record.appointment)
    blockers = sign_blockers(record)
    day = _session_day(record.appointment)
    for index, treated in enumerate(record.areas.select_related("lot", "product")):
        try:
            checked_lot(
                lot=treated.lot,
                product=treated.product,
                day=day,
                field=f"areas.{index}.lot",
                require_in_stock=False,
            )
        except ApplicationError as exc:
            blockers.append(SignBlocker("areas", exc.message))
    if blockers:
        messages = blocker_messages(blockers)
        raise ConflictError(" ".join(messages), extra={"blockers": messages})
    if record.appointment.status != AppointmentStatus.IN_PROGRESS:
        raise ConflictError(
            _("The appointment is %(s)s; only a session in progress can be completed.")
            % {"s": AppointmentStatus(record.appointment.status).label.lower()},
            extra={"status": record.appointment.status},
        )
    record.status = SessionRecord.Status.SIGNED
    record.signed_at = timezone.now()
    record.signed_by = actor
    record.save(update_fields=["status", "signed_at", "signed_by", "updated_at"])
    appointment = appointment_complete(actor=actor, appointment=record.appointment)
    severe = record.adverse_events.filter(severity=Severity.SEVERE).exists()
    if severe and appointment.course_id:
        course_flag_for_review(actor=actor, course=appointment.course, reason=REVIEW_REASON)
    audit.record(
        actor=actor,
        action="session_record.signed",
        target=record,
        patient_id=record.patient_id,
        detail={"appointment": appointment.pk, "severe_adverse_event": severe},
    )
    record.appointment = appointment
    session_record_signed.send(sender=SessionRecord, record=record, actor=actor)
    return record


@transaction.atomic
def session_addendum_add(*, actor, record, text):
    """A correction to a signed session record, kept beside the original. Practitioners."""
    if not (text or "").strip():
        raise ApplicationError(_("Write the addendum."), field="text")
    if Practitioner.objects.filter(user=actor, is_active=True).first() is None:
        raise PermissionDenied(_("Only a practitioner can add to a session record."))
    return signing.addendum_add(
        actor=actor,
        record=record,
        text=text,
        addendum_model=SessionAddendum,
        record_field="record",
        action="session_record.addendum_added",
        draft_message=_("The session record is still a draft: edit it directly."),
    )


# --- Lots ---------------------------------------------------------------------------------
