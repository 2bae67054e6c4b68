"""Every write to scheduling, split by topic; import from here. Messages to patients are
``sessions.messaging.services``: scheduling never imports them, it sends ``sessions.signals``."""

from sessions.services.booking import *  # noqa: F403
from sessions.services.courses import *  # noqa: F403
from sessions.services.portal import *  # noqa: F403
