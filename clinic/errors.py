"""The application's error family: raised by services, mapped to form errors in views and to
400/409 in the API by ``clinic.api.exception_handler``."""


class ApplicationError(Exception):
    """A rule of the clinic was broken by the input; the message is shown to the user."""

    status_code = 400

    def __init__(self, message, *, field=None, extra=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request clashes with data that exists (a booked slot, a likely duplicate, a state)."""

    status_code = 409
