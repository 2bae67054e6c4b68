"""The one way to record who did what to which patient's data.

Call ``audit.record(...)`` from services (every write) and selectors (every read of patient
data). The request of the current thread is remembered by ``AuditContextMiddleware`` so callers
deep in a service need not pass the IP address around.
"""

import contextvars

from .models import AuditEvent

Outcome = AuditEvent.Outcome

_current_request = contextvars.ContextVar("clinic_audit_request", default=None)


def bind_request(request):
    return _current_request.set(request)


def unbind_request(token):
    _current_request.reset(token)


def current_actor():
    request = _current_request.get()
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def client_ip(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    actor,
    action,
    target=None,
    patient_id=None,
    request=None,
    outcome=Outcome.SUCCESS,
    detail=None,
):
    """Append one audit event.

    ``target`` is the model instance acted on (its type and id are stored); ``patient_id`` is
    the patient whose data it is, when there is one. Returns the event.
    """
    request = request or _current_request.get()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None and target.pk is not None else "",
        patient_id=patient_id,
        ip_address=client_ip(request),
        outcome=outcome,
        detail=detail or {},
    )
