"""Exceptions that cross module boundaries."""


class InputError(Exception):
    """Malformed user input (reference, file, header, token, certificate): exit code 2, one line, no traceback."""
