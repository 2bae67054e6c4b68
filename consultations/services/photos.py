"""Writes of injection-site photos. The files go to private storage (``storages["private"]``),
never below MEDIA_URL; only the protected download view serves them."""

import logging
import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from consultations.imaging import process_photo
from consultations.models import Consultation, Photo, SessionRecord
from consultations.selectors.photos import can_add_photos
from patients.models import ConsentKind, ConsentSignature

logger = logging.getLogger(__name__)

# Storage name suffix of each stored copy, and the Photo field that holds its name.
VARIANTS = {"full": "file", "preview": "preview", "thumb": "thumbnail"}


def private_storage():
    return storages["private"]


def photo_add(
    *,
    actor,
    patient,
    uploaded_file,
    area,
    view,
    sites_marked,
    consultation=None,
    session_record=None,
    moment="",
    taken_at=None,
):
    """Check, clean and store one injection-site photo of ``patient``. Practitioners and
    managers.

    The upload is processed (real image, size and pixel limits, orientation, all metadata
    removed) before anything is written: a bad file raises ``ApplicationError(field="file")``.
    Then, in one transaction, the patient's valid photographs consent is locked (so a
    withdrawal in the same instant either happens first and refuses the photo, or waits for
    it) and so is the consultation (so a signature cannot slip in between). Without that
    consent, or for a signed consultation, ``ConflictError`` (409); nothing stays stored.

    The three copies are written to private storage inside the transaction and deleted again
    if it fails. If a caller wraps this in its own transaction and that one rolls back later,
    the files stay behind without a row (harmless, unreachable; a sweep can remove them).
    """
    if not can_add_photos(actor):
        raise PermissionDenied(_("Only practitioners and managers can add photos."))
    processed = process_photo(uploaded_file)
    stored = []
    try:
        return _photo_create(
            actor=actor,
            patient=patient,
            processed=processed,
            stored=stored,
            area=area,
            view=view,
            sites_marked=sites_marked,
            consultation=consultation,
            session_record=session_record,
            moment=moment,
            taken_at=taken_at,
        )
    except BaseException:
        _delete_files(stored)
        raise


@transaction.atomic
def _photo_create(
    *,
    actor,
    patient,
    processed,
    stored,
    area,
    view,
    sites_marked,
    consultation,
    session_record,
    moment,
    taken_at,
):
    _lock_photo_consent(patient)
    if consultation is not None:
        consultation = _lock_open_consultation(consultation, patient)
    if session_record is not None:
        session_record = _lock_open_session_record(session_record, patient)
        if moment not in Photo.Moment.values:
            raise ApplicationError(
                _("Say whether the photo was taken before or after injecting."), field="moment"
            )
    stem = f"photos/{patient.pk}/{uuid.uuid4().hex}"
    storage = private_storage()
    names = {}
    for variant, content in (
        ("full", processed.full),
        ("preview", processed.preview),
        ("thumb", processed.thumbnail),
    ):
        name = storage.save(f"{stem}-{variant}.jpg", ContentFile(content))
        stored.append(name)
        names[VARIANTS[variant]] = name
    photo = Photo(
        patient=patient,
        consultation=consultation,
        session_record=session_record,
        moment=moment or "",
        area=area,
        view=view,
        sites_marked=bool(sites_marked),
        taken_at=taken_at or _camera_time(processed.taken_at) or timezone.now(),
        taken_by=actor,
        width=processed.width,
        height=processed.height,
        original_format=processed.original_format,
        sha256=processed.sha256,
        **names,
    )
    photo.full_clean()
    photo.save()
    audit.record(
        actor=actor,
        action="photo.uploaded",
        target=photo,
        patient_id=patient.pk,
        detail={
            "area": area,
            "view": view,
            "consultation": consultation.pk if consultation is not None else None,
            "session_record": session_record.pk if session_record is not None else None,
            "moment": moment or "",
            "sha256": processed.sha256,
        },
    )
    return photo


def _lock_photo_consent(patient):
    """The patient's valid signature on the current photographs consent, locked; 409 if none."""
    signature = (
        ConsentSignature.objects.select_for_update(of=("self",))
        .filter(
            patient=patient,
            withdrawn_at__isnull=True,
            template__kind=ConsentKind.PHOTOGRAPHS,
            template__is_current=True,
        )
        .only("id")
        .first()
    )
    if signature is None:
        raise ConflictError(
            _(
                "This patient has not signed the consent to clinical photographs (or withdrew "
                "it). Ask them to sign it before taking photos."
            ),
            extra={"patient": patient.pk, "consent": ConsentKind.PHOTOGRAPHS.value},
        )
    return signature


def _lock_open_consultation(consultation, patient):
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.patient_id != patient.pk:
        raise ApplicationError(_("This consultation is another patient's."), field="consultation")
    if consultation.is_signed:
        raise ConflictError(
            _("This consultation is signed; photos can no longer be added to it."),
            extra={"consultation": consultation.pk, "status": consultation.status},
        )
    return consultation


def _lock_open_session_record(record, patient):
    record = SessionRecord.objects.select_for_update().get(pk=record.pk)
    if record.patient_id != patient.pk:
        raise ApplicationError(_("This session record is another patient's."), field="session")
    if record.is_signed:
        raise ConflictError(
            _("This session is signed; photos can no longer be added to it."),
            extra={"session_record": record.pk, "status": record.status},
        )
    return record


def _camera_time(taken_at):
    """The camera's time, if believable: made aware in the clinic's zone when the camera gave
    no offset, dropped when it lies in the future (a camera clock never set)."""
    if taken_at is None:
        return None
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    if taken_at > timezone.now() + timedelta(hours=1):
        return None
    return taken_at


def _delete_files(names):
    storage = private_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # best effort: the error that got us here is the one to raise
            logger.warning("photo file %s could not be deleted", name, exc_info=True)
