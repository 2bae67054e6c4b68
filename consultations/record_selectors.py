"""Every read of the consultation record that a page or the API uses. The record is clinical:
practitioners and managers see it; front desk and patients do not (404)."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _

from clinic import audit
from clinic.permissions import has_role
from clinic.roles import Role

from .models import Addendum, Consultation

CLINICIANS = (Role.PRACTITIONER, Role.MANAGER)


def can_view_consultations(user):
    return has_role(user, *CLINICIANS)


def _with_record(queryset):
    """The record with its assessments, plan and addenda: three queries for any number of
    consultations."""
    return queryset.select_related(
        "patient",
        "practitioner",
        "appointment__appointment_type",
        "appointment__location",
        "medical_history",
        "signed_by",
        "plan__product",
        "plan__appointment_type",
    ).prefetch_related(
        "assessments",
        Prefetch("addenda", queryset=Addendum.objects.select_related("written_by")),
    )


def consultation_queryset_for_user(user):
    """Consultations the user may see: all for practitioners and managers, none for anyone
    else."""
    if not can_view_consultations(user):
        return Consultation.objects.none()
    return _with_record(Consultation.objects.all())


def consultation_get_for_user(user, pk, *, audit_read=True):
    """One consultation with its record, else 404. Records the read."""
    try:
        consultation = consultation_queryset_for_user(user).get(pk=pk)
    except (Consultation.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such consultation.")) from None
    if audit_read:
        audit.record(
            actor=user,
            action="consultation.viewed",
            target=consultation,
            patient_id=consultation.patient_id,
        )
    return consultation


def consultations_of_patient(user, patient):
    """The patient's consultations, newest first, with their records. Audited as one read."""
    if not can_view_consultations(user):
        raise Http404
    consultations = list(consultation_queryset_for_user(user).filter(patient=patient))
    audit.record(
        actor=user,
        action="consultation.list_viewed",
        target=patient,
        patient_id=patient.pk,
        detail={"rows": len(consultations)},
    )
    return consultations
