"""Template helpers for billing pages. (Scheduling's day pages show billing's badge and
checkout through ``sessions.day_extras``: see ``billing.day_extras``.)"""

from django import template
from django.utils.translation import gettext_lazy as _

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
