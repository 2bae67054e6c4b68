"""Every write to scheduling, split by topic; import from here."""

from .booking import *  # noqa: F403
from .courses import *  # noqa: F403
from .portal import *  # noqa: F403
from .reminder_links import *  # noqa: F403
from .reminders import *  # noqa: F403
