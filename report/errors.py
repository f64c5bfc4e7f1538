"""The one exception type that reaches the user as a single line."""


class ReportError(Exception):
    """A problem the user can fix (bad input, missing data, ...).

    The CLI prints its message on one line and exits with `exit_code`, never a
    traceback: the message must therefore say what is wrong and what to do.
    """

    exit_code = 2


def shorten(text: str, limit: int = 60) -> str:
    """`text` cut short in the middle when long, so that a message echoing a mistyped
    100,000-character option (or a library's long error) still fits one line."""
    return text if len(text) <= limit else f"{text[:limit // 2]}…{text[-(limit // 2):]} ({len(text):,} characters)"


def shown(value: object, limit: int = 60) -> str:
    """A value as a message echoes it: a string quoted, and either one cut short (`shorten`)."""
    return shorten(repr(value) if isinstance(value, str) else str(value), limit)
