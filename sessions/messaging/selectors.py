"""Reads of messages to patients: front desk's outbox (page and API) and the chart's message
history. Scoped to who may see them; a fixed number of queries per page."""

from django.db.models import Count
from django.http import Http404

from clinic import audit
from sessions.models import FollowUpAnswer, OutboundMessage, ReminderPolicy, ReminderRule
from sessions.selectors import can_book, is_scheduling_staff

Status = OutboundMessage.Status


def outbox_queryset(user):
    """Every message, for front desk and managers; 404 for anyone else."""
    if not can_book(user):
        raise Http404
    return OutboundMessage.objects.select_related(
        "patient", "appointment__location", "resent_by"
    ).order_by("-scheduled_for", "-id")


def outbox_messages(
    user, *, status=None, channel=None, kind=None, patient_id=None, due_from=None, due_until=None
):
    """Front desk's outbox, filtered. Without a status filter withdrawn rows (a moved or
    cancelled appointment's reminders) are left out. Records the read."""
    queryset = outbox_queryset(user)
    if status:
        queryset = queryset.filter(status__in=status if isinstance(status, list) else [status])
    else:
        queryset = queryset.exclude(status=Status.VOID)
    if channel:
        queryset = queryset.filter(channel=channel)
    if kind:
        queryset = queryset.filter(kind=kind)
    if patient_id is not None:
        queryset = queryset.filter(patient_id=patient_id)
    if due_from is not None:
        queryset = queryset.filter(scheduled_for__gte=due_from)
    if due_until is not None:
        queryset = queryset.filter(scheduled_for__lt=due_until)
    audit.record(
        actor=user,
        action="messages.listed",
        patient_id=patient_id,
        detail={"status": status or "", "channel": channel or "", "kind": kind or ""},
    )
    return queryset


def outbox_counts(user):
    """How many messages are in each status (one query), for the filter tabs."""
    if not can_book(user):
        raise Http404
    rows = OutboundMessage.objects.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def message_get_for_user(user, pk):
    try:
        return outbox_queryset(user).get(pk=pk)
    except (OutboundMessage.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def reminder_policy_with_rules():
    """The policy and its rules, for the set-up page and the API."""
    return ReminderPolicy.load(), list(ReminderRule.objects.all())


def chart_messages_panel(user, patient):
    """The chart's "Messages" panel: the patient's latest messages with their outcome, for
    clinic staff, and their answers to the side-effects question for those who read medical
    history (the practitioner). Two or three queries."""
    if not is_scheduling_staff(user):
        return None
    recent = list(
        OutboundMessage.objects.filter(patient=patient)
        .exclude(status=Status.VOID)
        .select_related("appointment__location")
        .order_by("-scheduled_for", "-id")[:8]
    )
    answers = []
    if user.has_perm("patients.view_medical_history"):
        answers = list(
            FollowUpAnswer.objects.filter(patient=patient)
            .select_related("appointment__location")
            .order_by("-answered_at")[:5]
        )
    return {
        "template": "treatment_sessions/reminders/chart_panel.html",
        "recent": recent,
        "answers": answers,
        "can_open_outbox": can_book(user),
    }
