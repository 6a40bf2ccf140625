class DomainError(Exception):
    """A rule of the domain refused the action; the message is French and shown to the user."""

    def __init__(self, message: str, code: str = "", field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class TransitionError(DomainError):
    """A move that the state machine does not allow from the current status."""
