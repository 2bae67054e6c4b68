"""Every read of the consultation record that a page or the API uses. The record is clinical:
practitioners and managers see it; front desk and patients do not (404)."""

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Count, Prefetch, Value
from django.http import Http404
from django.utils.translation import gettext as _

from clinic import audit
from clinic.areas import BodyArea
from clinic.permissions import has_role
from clinic.roles import CLINICAL_ROLES, Role
from consultations.models import Addendum, Consultation, Photo, SessionRecord
from consultations.signing import record_get_for_user


def can_view_consultations(user):
    return has_role(user, *CLINICAL_ROLES)


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
    return record_get_for_user(
        consultation_queryset_for_user(user),
        pk,
        user=user,
        action="consultation.viewed",
        not_found=_("No such consultation."),
        audit_read=audit_read,
    )


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


CHART_SESSION_RECORDS = 5


def _last_session_records(patient):
    """The patient's last session records with their course and the areas treated (codes
    gathered by the database): one query."""
    records = list(
        SessionRecord.objects.filter(patient=patient)
        .select_related("appointment__course", "appointment__location")
        .annotate(area_codes=ArrayAgg("areas__area", distinct=True, default=Value([])))
        .order_by("-appointment__starts_at", "-id")[:CHART_SESSION_RECORDS]
    )
    order = {code: index for index, code in enumerate(BodyArea.values)}
    for record in records:
        codes = sorted((c for c in record.area_codes if c), key=lambda c: order.get(c, 99))
        record.area_labels = [BodyArea(c).label if c in order else c for c in codes]
    return records


def chart_clinical_panel(user, patient):
    """The chart's "Consultations and photos" panel, for clinicians (and photo counts for
    whoever may see the photos): the last consultations and session records, and the photos
    by area. Three queries."""
    from consultations.selectors.photos import can_view_photos

    sees_records = can_view_consultations(user)
    sees_photos = can_view_photos(user, patient)
    if not (sees_records or sees_photos):
        return None
    consultations = (
        list(
            Consultation.objects.filter(patient=patient)
            .select_related("practitioner")
            .order_by("-created_at")[:5]
        )
        if sees_records
        else []
    )
    photo_areas = (
        list(
            Photo.objects.filter(patient=patient)
            .values("area", "view")
            .annotate(count=Count("id"))
            .order_by("area", "view")
        )
        if sees_photos
        else []
    )
    return {
        "template": "consultations/partials/chart_panel.html",
        "consultations": consultations,
        "session_records": _last_session_records(patient) if sees_records else [],
        "photo_areas": [
            {
                **row,
                "area_label": BodyArea(row["area"]).label,
                "view_label": Photo.View(row["view"]).label,
            }
            for row in photo_areas
        ],
        "can_record": sees_records and user.role == Role.PRACTITIONER,
    }
