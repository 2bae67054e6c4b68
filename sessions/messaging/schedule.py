"""When a message may go out: reminder times before an appointment and quiet hours in the
location's own time zone. Pure functions of their arguments (no database), so the rules can be
tested across time zones and daylight-saving changes.

"48 hours before" is elapsed time: across a daylight-saving change the reminder goes out 48
real hours before, which is 47 or 49 wall-clock hours. Quiet hours are wall-clock times: 21:00
to 08:00 means that in the location's zone on every day, whatever its UTC offset that day.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext as _


def _local_instant(day, at, zone):
    """``at`` on ``day`` in ``zone`` as an instant. A wall-clock time the clocks jump over is
    read with the offset from before the jump, so it lands just after the jump (never before:
    quiet hours end late rather than early); a time that happens twice is its first reading."""
    naive = datetime.combine(day, at)
    readings = [naive.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]
    if readings[0].astimezone(zone).replace(tzinfo=None) != naive:
        return max(readings)
    return readings[0]


def quiet_period_end(instant, zone, start, end):
    """If ``instant`` falls in the quiet hours ``start``-``end`` (local wall-clock times in
    ``zone``; the period may run over midnight), the instant they end; otherwise None.
    ``start == end`` means no quiet hours."""
    if start == end:
        return None
    local = instant.astimezone(zone)
    now_time = local.time().replace(tzinfo=None)
    if start < end:  # e.g. 12:00-14:00 on the same day
        if start <= now_time < end:
            return _local_instant(local.date(), end, zone)
        return None
    # Over midnight, e.g. 21:00-08:00.
    if now_time >= start:
        return _local_instant(local.date() + timedelta(days=1), end, zone)
    if now_time < end:
        return _local_instant(local.date(), end, zone)
    return None


@dataclass(frozen=True)
class SendTime:
    """When to send, or why not: ``at`` is None when ``skip_reason`` says why."""

    at: datetime | None
    deferred: bool = False
    skip_reason: str = ""


def waits_for_quiet_hours(channel, policy):
    return channel == "sms" or policy.quiet_hours_for_email


def send_time(due, *, channel, policy, zone, deadline=None):
    """When a message due at ``due`` may go out under ``policy`` at a location in ``zone``.

    Inside quiet hours (for SMS, and for email if the policy says so) it waits for their end;
    if ``deadline`` is given (a reminder must arrive by then to be useful) and the end of the
    quiet period is later, it is skipped instead."""
    at, deferred = due, False
    if policy.has_quiet_hours and waits_for_quiet_hours(channel, policy):
        release = quiet_period_end(due, zone, policy.quiet_hours_start, policy.quiet_hours_end)
        if release is not None:
            at, deferred = release, True
    if deadline is not None and at > deadline:
        if deferred:
            return SendTime(
                None,
                deferred=True,
                skip_reason=_(
                    "Due in quiet hours (%(start)s-%(end)s) and too close to the appointment "
                    "once they end."
                )
                % {
                    "start": policy.quiet_hours_start.strftime("%H:%M"),
                    "end": policy.quiet_hours_end.strftime("%H:%M"),
                },
            )
        return SendTime(None, skip_reason=_("Too close to the appointment to be useful."))
    return SendTime(at, deferred=deferred)


def reminder_deadline(starts_at, policy):
    """The last moment a reminder for an appointment starting at ``starts_at`` is useful."""
    return starts_at.astimezone(UTC) - timedelta(minutes=policy.minimum_notice_minutes)
