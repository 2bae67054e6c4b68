class SendError(Exception):
    """A message could not be handed to the provider. ``permanent`` says whether trying the
    same message again could succeed (an invalid number never will; a timeout may)."""

    permanent = False

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class PermanentSendError(SendError):
    """Trying again will not help: a bad address, a number that cannot receive SMS, a refusal."""

    permanent = True


class TransientSendError(SendError):
    """The provider could not be reached or asked us to wait: try again later."""

    permanent = False
