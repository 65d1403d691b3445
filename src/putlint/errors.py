"""Exit codes and the one exception type that means "the input is bad"."""

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERNAL_ERROR = 123
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C), as a shell reports it


class InputError(Exception):
    """A problem with what the user gave us: reported in one line, exit 2."""
