"""The one exception type that reaches the user as a single line."""


class ReportError(Exception):
    """A problem the user can fix (bad input, missing data, ...).

    The CLI prints its message on one line and exits with `exit_code`, never a
    traceback: the message must therefore say what is wrong and what to do.
    """

    exit_code = 2
