"""Turning a clinic's wall-clock times into instants, strictly: on a daylight-saving day a
local time may not exist (clocks jump forward) or may happen twice (clocks go back), and
booking either silently would put a patient at the wrong hour."""

from datetime import UTC, datetime

from django.utils.translation import gettext as _

from clinic.errors import ApplicationError


def local_time_problem(naive, zone):
    """Why ``naive`` cannot be placed in ``zone`` unambiguously, or ``None`` if it can."""
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return _(
            "%(time)s does not exist in %(zone)s: the clocks go forward that night. "
            "Choose a time outside the change."
        ) % {"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key}
    if first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        return _(
            "%(time)s happens twice in %(zone)s: the clocks go back that night. "
            "Choose a time outside the change."
        ) % {"time": naive.strftime("%Y-%m-%d %H:%M"), "zone": zone.key}
    return None


def local_to_aware(naive, zone, *, field="start"):
    """``naive`` wall-clock time at a location -> aware datetime; ``ApplicationError`` on a
    time that does not exist or is ambiguous."""
    problem = local_time_problem(naive, zone)
    if problem:
        raise ApplicationError(problem, field=field)
    return naive.replace(tzinfo=zone)


def at_local(day, time, zone):
    """The instant of ``time`` on ``day`` in ``zone`` (for working hours, where an exact
    daylight-saving edge does not matter: the earlier reading is taken)."""
    return datetime.combine(day, time).replace(tzinfo=zone)
