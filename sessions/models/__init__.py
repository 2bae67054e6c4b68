"""Scheduling (appointments, courses, portal requests, calendar feeds) and patient messaging
(the outbox of reminders and after-visit messages) keep their models apart; Django and the
migrations find them all here."""

from sessions.models.messaging import (
    DEFAULT_REMINDER_RULES,
    MAX_REMINDER_HOURS,
    FollowUpAnswer,
    MessageChannel,
    MessageLink,
    OutboundMessage,
    ReminderPolicy,
    ReminderRule,
    new_link_nonce,
)
from sessions.models.scheduling import (
    _ACTIVE,
    _HELD_RANGE,
    ACTIVE_STATUSES,
    MAX_COURSE_SESSIONS,
    Appointment,
    AppointmentStatus,
    AppointmentTransition,
    AppointmentType,
    CalendarFeed,
    Course,
    PortalRequest,
    TsTzRange,
    new_feed_token,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Appointment",
    "AppointmentStatus",
    "AppointmentTransition",
    "AppointmentType",
    "CalendarFeed",
    "Course",
    "DEFAULT_REMINDER_RULES",
    "FollowUpAnswer",
    "MAX_COURSE_SESSIONS",
    "MAX_REMINDER_HOURS",
    "MessageChannel",
    "MessageLink",
    "OutboundMessage",
    "PortalRequest",
    "ReminderPolicy",
    "ReminderRule",
    "TsTzRange",
    "_ACTIVE",
    "_HELD_RANGE",
    "new_feed_token",
    "new_link_nonce",
]
