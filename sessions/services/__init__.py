"""Every write to scheduling, split by topic; import from here."""

from .booking import *  # noqa: F403
from .courses import *  # noqa: F403
from .portal import *  # noqa: F403
