"""Billing's part of scheduling's day pages (registered with ``sessions.day_extras``): whether
a visit is paid (front desk, the manager, practitioners) and the way to check a finished visit
out (front desk and the manager). One query for the whole list."""

from django.utils.translation import gettext_lazy as _

from sessions.day_extras import CALENDAR_PANEL, MY_DAY, TODAY
from sessions.models import AppointmentStatus

from .selectors import appointment_payment_states, can_bill
from .templatetags.billing_tags import STATE_LABELS

# A visit that is over can be checked out: its invoice, or the fee for a missed one.
FINISHED = (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)

PAYMENT_LABELS = {
    **STATE_LABELS,
    "draft": (_("To invoice"), "secondary"),
}

BADGE = "billing/partials/payment_badge.html"
VISIT_CHECKOUT = "billing/partials/visit_checkout.html"
PANEL_CHECKOUT = "billing/partials/panel_checkout.html"


def _badge(state):
    """Paid, part paid, unpaid, or "to invoice" (a draft waits for front desk)."""
    label, colour = PAYMENT_LABELS.get(state, ("", "secondary"))
    return {"state": state, "label": label, "colour": colour}


def appointment_day_extras(user, appointments, place):
    """``{appointment id: extra}`` for ``sessions.day_extras``: on the practitioner's day the
    payment badge; on today's list the badge and the checkout button of a finished visit; in
    the calendar panel the checkout link of a finished visit."""
    finished = [a for a in appointments if a.status in FINISHED]
    checkout = can_bill(user)
    if place == CALENDAR_PANEL:
        if not checkout:
            return {}
        return {a.pk: {"template": PANEL_CHECKOUT, "appointment_id": a.pk} for a in finished}
    if place == MY_DAY:
        states = appointment_payment_states(user, [a.pk for a in appointments])
        return {pk: {"template": BADGE, **_badge(state)} for pk, state in states.items()}
    if place == TODAY:
        states = appointment_payment_states(user, [a.pk for a in finished])
        return {
            a.pk: {
                "template": VISIT_CHECKOUT,
                "appointment_id": a.pk,
                "checkout": checkout,
                **_badge(states.get(a.pk)),
            }
            for a in finished
            if checkout or a.pk in states
        }
    return {}
