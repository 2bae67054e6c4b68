"""Pages of reminders and messages: front desk's outbox (filters, resend a failed one), the
manager's reminder policy in the clinic set-up, and the public pages behind the link in a
message (confirm or cancel an appointment, answer the side-effects question).

The link pages need no login: the signed, single-use token in the URL is the credential. A
GET never changes anything (mail scanners and link previews open links); the patient presses
a button, which posts.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.errors import ApplicationError
from clinic.lib.forms import add_service_error
from clinic.models import ClinicSettings, Location
from clinic.permissions import desk_required, manager_required
from patients.models import Patient
from sessions import services as scheduling
from sessions.messaging import links, services
from sessions.messaging import selectors as reminder_selectors
from sessions.messaging.forms import (
    FollowUpAnswerForm,
    LinkCancelForm,
    OutboxFilterForm,
    ReminderPolicyForm,
    ReminderRuleFormSet,
)
from sessions.messaging.links import LinkError
from sessions.models import OutboundMessage

OUTBOX_PAGE_SIZE = 50
Kind = OutboundMessage.Kind


# -- front desk's outbox --------------------------------------------------------------------------


@require_GET
@desk_required
def outbox(request):
    """Every message to patients, newest due first, filtered by status, channel, kind, patient
    and due dates; failed ones can be sent again."""
    form = OutboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    patient = None
    if filters.get("patient"):
        patient = Patient.objects.filter(pk=filters["patient"]).first()
    # Dates are read in the clinic's (first) location's zone, like the today page.
    location = Location.objects.filter(is_active=True).order_by("pk").first()
    zone = location.zone if location else timezone.get_current_timezone()
    due_from = filters.get("due_from")
    due_until = filters.get("due_until")
    queryset = reminder_selectors.outbox_messages(
        request.user,
        status=filters.get("status") or None,
        channel=filters.get("channel") or None,
        kind=filters.get("kind") or None,
        patient_id=filters.get("patient"),
        due_from=datetime.combine(due_from, time(0), zone) if due_from else None,
        due_until=datetime.combine(due_until + timedelta(days=1), time(0), zone)
        if due_until
        else None,
    )
    page = Paginator(queryset, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = reminder_selectors.outbox_counts(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    status_query = request.GET.copy()
    for key in ("page", "status"):
        status_query.pop(key, None)
    return render(
        request,
        "treatment_sessions/reminders/outbox.html",
        {
            "form": form,
            "page": page,
            "patient": patient,
            "tabs": [
                (value, label, counts.get(value, 0))
                for value, label in OutboundMessage.Status.choices
                if value != OutboundMessage.Status.SENDING or counts.get(value)
            ],
            "chosen_status": filters.get("status") or "",
            "query": query.urlencode(),
            "status_query": status_query.urlencode(),
        },
    )


@require_POST
@desk_required
def outbox_resend(request, pk):
    """Send a failed message again; back to where the button was."""
    message = reminder_selectors.message_get_for_user(request.user, pk)
    try:
        services.message_resend(actor=request.user, message=message)
    except ApplicationError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(
            request,
            _("The %(kind)s to %(patient)s will be sent again in a moment.")
            % {"kind": message.get_kind_display().lower(), "patient": message.patient.full_name},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("treatment_sessions:outbox")
    return redirect(target)


# -- the manager's policy -------------------------------------------------------------------------


def _rules_from(formset):
    rules = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if data.get("DELETE") or data.get("hours_before") is None:
            continue
        rules.append(
            {
                "channel": data["channel"],
                "hours_before": data["hours_before"],
                "is_active": data.get("is_active", False),
            }
        )
    return rules


@manager_required
@require_http_methods(["GET", "POST"])
def reminder_policy(request):
    """Which reminders go out and when, quiet hours, and the messages after a session."""
    policy, rules = reminder_selectors.reminder_policy_with_rules()
    initial = [
        {"channel": r.channel, "hours_before": r.hours_before, "is_active": r.is_active}
        for r in rules
    ]
    data = request.POST if request.method == "POST" else None
    form = ReminderPolicyForm(data, instance=policy)
    formset = ReminderRuleFormSet(data, initial=initial, prefix="rules")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.reminder_policy_update(
                actor=request.user, data=form.cleaned_data, rules=_rules_from(formset)
            )
        except (ApplicationError, ValidationError) as exc:
            add_service_error(form, exc)
        else:
            flash.success(
                request,
                _("Reminder policy saved; upcoming appointments' reminders follow it now."),
            )
            return redirect("treatment_sessions:setup_reminders")
    has_errors = bool(
        form.errors or any(f.errors for f in formset.forms) or formset.non_form_errors()
    )
    return render(
        request,
        "treatment_sessions/setup/reminders.html",
        {"form": form, "formset": formset, "section": "reminders", "policy": policy},
        status=400 if has_errors else 200,
    )


# -- the link in a message (public) ---------------------------------------------------------------


def _link_page(request, template, context, *, status=200, language=None):
    with translation.override(language or translation.get_language()):
        response = render(
            request,
            template,
            {"clinic": ClinicSettings.load(), **context},
            status=status,
        )
    # A page reached by a secret URL: no caches, no search engines.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _invalid(request, error):
    link = getattr(error, "link", None)
    language = link.message.patient.preferred_language if link is not None else None
    location = link.message.appointment.location if link is not None else None
    return _link_page(
        request,
        "treatment_sessions/reminders/link_invalid.html",
        {"reason": error.message, "location": location},
        status=getattr(error, "status_code", 410),
        language=language,
    )


def _when(appointment):
    local = timezone.localtime(appointment.starts_at, appointment.location.zone)
    return f"{formats.date_format(local, 'l j F Y')}, {formats.time_format(local, 'H:i')}"


@login_not_required
@require_http_methods(["GET", "POST"])
def message_link(request, token, action=None):
    """Where the link in a reminder or a follow-up leads."""
    if action not in (None, "confirm", "cancel"):
        raise Http404
    try:
        link = links.message_link_get(token)
    except LinkError as exc:
        return _invalid(request, exc)
    message = link.message
    if message.kind == Kind.FOLLOW_UP and action is None:
        return _follow_up_page(request, token, link)
    if message.kind != Kind.REMINDER:
        raise Http404
    language = message.patient.preferred_language
    with translation.override(language):
        return _reminder_page(request, token, link, action, language)


def _reminder_page(request, token, link, action, language):
    appointment = link.message.appointment
    clinic = ClinicSettings.load()
    cancel_form = LinkCancelForm(request.POST if action == "cancel" else None)
    context = {
        "appointment": appointment,
        "when": _when(appointment),
        "action": action,
        "cancel_form": cancel_form,
        "phone": appointment.location.phone or clinic.phone,
        "late_to_cancel": appointment.starts_at - timezone.now()
        < timedelta(hours=clinic.cancellation_window_hours),
        "late_message": scheduling.late_cancellation_message(clinic),
    }
    template = "treatment_sessions/reminders/link_appointment.html"
    if request.method == "POST":
        answers = {
            "confirm": ("confirmed", lambda: links.message_link_confirm(token=token)),
            "cancel": (
                "cancelled",
                lambda: links.message_link_cancel(
                    token=token, reason=cancel_form.cleaned_data["reason"]
                ),
            ),
        }
        if action in answers and (action == "confirm" or cancel_form.is_valid()):
            done, answer = answers[action]
            try:
                answer()
            except LinkError as exc:
                return _invalid(request, exc)
            except ApplicationError as exc:
                return _link_page(
                    request,
                    template,
                    {**context, "refusal": exc.message},
                    status=409,
                    language=language,
                )
            return _link_page(
                request,
                "treatment_sessions/reminders/link_done.html",
                {**context, "done": done},
                language=language,
            )
        if action is None:
            raise Http404
    return _link_page(
        request, template, context, status=400 if cancel_form.errors else 200, language=language
    )


def _follow_up_page(request, token, link):
    message = link.message
    language = message.patient.preferred_language
    with translation.override(language):
        form = FollowUpAnswerForm(request.POST if request.method == "POST" else None)
        context = {
            "form": form,
            "when": _when(message.appointment),
            "phone": message.appointment.location.phone or ClinicSettings.load().phone,
        }
        if request.method == "POST" and form.is_valid():
            try:
                links.follow_up_answer_record(
                    token=token,
                    has_side_effects=form.cleaned_data["has_side_effects"],
                    details=form.cleaned_data["details"],
                )
            except LinkError as exc:
                return _invalid(request, exc)
            except ApplicationError as exc:
                add_service_error(form, exc)
            else:
                return _link_page(
                    request,
                    "treatment_sessions/reminders/link_done.html",
                    {
                        **context,
                        "done": "answered",
                        "side_effects": form.cleaned_data["has_side_effects"],
                    },
                    language=language,
                )
        return _link_page(
            request,
            "treatment_sessions/reminders/link_follow_up.html",
            context,
            status=400 if form.errors else 200,
            language=language,
        )
