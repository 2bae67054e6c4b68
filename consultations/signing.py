"""What the consultation and the session record share on the way to signing."""

from typing import NamedTuple


class SignBlocker(NamedTuple):
    """Something that still stops a record from being signed: the section of the record's page
    that resolves it (its anchor) and the message shown there. The page links the message to
    the section by ``section``, never by the message's wording."""

    section: str
    message: str


def blocker_messages(blockers: list[SignBlocker]) -> list[str]:
    """The messages alone, as the API and the 409 answer carry them."""
    return [blocker.message for blocker in blockers]
