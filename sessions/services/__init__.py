"""Every write to scheduling, split by topic; import from here."""

from .booking import *  # noqa: F403
