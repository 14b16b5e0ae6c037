"""Exceptions that cross module boundaries, and plain words for what was wrong with an input."""


class InputError(Exception):
    """Malformed user input (reference, file, header, token, certificate): exit code 2, one line, no traceback."""


def unreadable(err: BaseException) -> str:
    """Why a file could not be read, in plain words (never a Python exception name)."""
    if isinstance(err, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(err, FileNotFoundError):
        return "no such file or directory"
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(err, NotADirectoryError):
        return "a part of the path is not a directory"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror[:1].lower() + err.strerror[1:]
    return "cannot be read"


def json_kind(value: object) -> str:
    """JSON's name for a parsed value's type, for messages (never the value itself)."""
    if value is None:
        return "null"
    for types, name in ((bool, "boolean"), (str, "string"), ((int, float), "number"), (dict, "object"),
                        (list, "array")):
        if isinstance(value, types):
            return name
    return type(value).__name__
