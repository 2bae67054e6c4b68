"""Template helpers for billing pages and for the day lists of scheduling, which load this
library by name (``{% load billing_tags %}``) without scheduling importing billing."""

from django import template
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..money import format_money

register = template.Library()

STATE_LABELS = {
    "paid": (_("Paid"), "success"),
    "part_paid": (_("Part paid"), "warning"),
    "unpaid": (_("Unpaid"), "danger"),
    "draft": (_("Draft"), "secondary"),
    "void": (_("Void"), "secondary"),
    "credited": (_("Credited"), "info"),
    "credit_note": (_("Credit note"), "info"),
    "issued": (_("Issued"), "primary"),
}


@register.filter
def money(amount, currency):
    """``{{ invoice.total|money:invoice.currency }}`` -> '1,234.50 USD'."""
    try:
        return format_money(amount, currency)
    except (ValueError, TypeError):
        return amount


@register.inclusion_tag("billing/partials/state_badge.html")
def state_badge(state):
    label, colour = STATE_LABELS.get(state, (state, "secondary"))
    return {"label": label, "colour": colour, "state": state}


@register.simple_tag(takes_context=True)
def payment_states(context, appointments):
    """``{% payment_states appointments as states %}``: paid/unpaid per visit, one query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return selectors.appointment_payment_states(user, [a.pk for a in appointments])


PAYMENT_LABELS = {
    **STATE_LABELS,
    "draft": (_("To invoice"), "secondary"),
}


@register.inclusion_tag("billing/partials/payment_badge.html")
def payment_badge(states, appointment):
    """Paid, part paid, unpaid, or "to invoice" (a draft waits for front desk)."""
    state = (states or {}).get(appointment.pk)
    label, colour = PAYMENT_LABELS.get(state, ("", "secondary"))
    return {"state": state, "label": label, "colour": colour}


@register.filter
def get_item(mapping, key):
    """``{{ errors|get_item:line.pk }}``: a dict lookup by a variable key."""
    try:
        return mapping.get(key) or []
    except AttributeError:
        return []


@register.filter
def field_named(form, name):
    """``{{ form|field_named:"type_3" }}``: a bound field of a dynamically built form."""
    return form[name]
