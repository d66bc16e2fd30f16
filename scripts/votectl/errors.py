"""The one error type commands raise for user mistakes: the CLI prints it as one line, no traceback."""


class VotectlError(Exception):
    """A refusal or failure the user can act on; `exit_code` lets commands keep documented codes."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
