"""The one draft -> sign -> addendum path the consultation and the session record share:
the locked draft, the audited read for a user, the blockers and the addendum."""

from typing import NamedTuple, TypeVar

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from consultations.models import AddendumBase, SignedRecord

R = TypeVar("R", bound=SignedRecord)


class SignBlocker(NamedTuple):
    """Something that still stops a record from being signed: the section of the record's page
    that resolves it (its anchor) and the message shown there. The page links the message to
    the section by ``section``, never by the message's wording."""

    section: str
    message: str


def blocker_messages(blockers: list[SignBlocker]) -> list[str]:
    """The messages alone, as the API and the 409 answer carry them."""
    return [blocker.message for blocker in blockers]


def locked_draft(queryset: QuerySet[R], pk: int, *, signed_message: str) -> R:
    """The record's row, locked (``SELECT ... FOR UPDATE`` of that row only) so an autosave and
    the signature cannot interleave; 409 with ``signed_message`` once it is signed."""
    record = queryset.select_for_update(of=("self",)).get(pk=pk)
    if record.is_signed:
        raise ConflictError(signed_message, extra={"status": record.status})
    return record


def record_get_for_user(
    queryset: QuerySet[R], pk, *, user, action: str, not_found: str, audit_read: bool = True
) -> R:
    """One record from the queryset the user may see, else 404 with ``not_found``; the read is
    on the audit trail as ``action`` unless ``audit_read`` is off (a write follows that is
    audited itself)."""
    try:
        record = queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(not_found) from None
    if audit_read:
        audit.record(actor=user, action=action, target=record, patient_id=record.patient_id)
    return record


def addendum_add(
    *,
    actor,
    record: SignedRecord,
    text: str,
    addendum_model: type[AddendumBase],
    record_field: str,
    action: str,
    draft_message: str,
) -> AddendumBase:
    """A correction to a signed record, kept beside the original (the caller's transaction
    holds the lock on the record's row while it is written)."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write the addendum."), field="text")
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if not record.is_signed:
        raise ConflictError(draft_message)
    addendum = addendum_model.objects.create(**{record_field: record}, text=text, written_by=actor)
    audit.record(
        actor=actor,
        action=action,
        target=record,
        patient_id=record.patient_id,
        detail={"addendum": addendum.pk},
    )
    return addendum
