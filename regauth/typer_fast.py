"""Option values without pydantic: a start-up shortcut for typer's value coercion.

Typer (0.2x) converts every option value through a pydantic ``TypeAdapter``. Importing pydantic and building the
adapters costs 60–80 ms on each run, a third of a single ``pull-check``, for conversions that are trivial here:
regauth's options are ``str``, ``int``/``float`` (with min/max), ``Path``, an ``Enum``, and lists of those.

`install()` makes typer's parameters try a direct conversion first and fall back to typer's own machinery for
anything else: other types, parsers, clamping, every value the shortcut does not recognise, and so every invalid
value — error messages stay typer's. Paths still go through typer's own checks (``exists``, ``readable``, …). If
typer's internals are not the ones this was written against, `install()` does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

_MISS = object()
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_installed = False


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    from typer._param_types import coerce_cli_choice, coerce_cli_path

    if getattr(info, "parser", None) is not None:
        return _MISS
    if annotation is str:
        return value if isinstance(value, str) else _MISS
    if annotation is int or annotation is float:
        if getattr(info, "clamp", False) or isinstance(value, bool):
            return _MISS
        if annotation is int:
            if isinstance(value, int):
                number: float = value
            elif isinstance(value, str) and _INT.fullmatch(value):
                number = int(value)
            else:
                return _MISS
        elif isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str) and _FLOAT.fullmatch(value):
            number = float(value)
        else:
            return _MISS
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if (low is not None and number < low) or (high is not None and number > high):
            return _MISS
        return number
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            return _MISS
    if annotation is Path and getattr(info, "path_type", None) is None:
        if isinstance(value, str):
            value = Path(value)
        if not isinstance(value, Path):
            return _MISS
        return coerce_cli_path(value, info, path_type=Path, param=param, ctx=ctx)
    return _MISS


def coerce(annotation: Any, info: Any, value: Any, param: Any = None, ctx: Any = None) -> Any:
    """The converted value, or `_MISS` when typer's own coercion must decide."""
    origin = get_origin(annotation)
    if origin is list:
        args = get_args(annotation)
        if len(args) != 1 or not isinstance(value, (list, tuple)):
            return _MISS
        out = []
        for item in value:
            converted = _leaf(args[0], info, item, param, ctx)
            if converted is _MISS:
                return _MISS
            out.append(converted)
        return out
    if origin is not None:
        return _MISS
    return _leaf(annotation, info, value, param, ctx)


def install() -> bool:
    """Patch typer's parameters to try `coerce` first. Idempotent; False when typer is not the expected one."""
    global _installed
    if _installed:
        return True
    try:
        from typer import core
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._param_types import coerce_cli_choice, coerce_cli_path  # noqa: F401 - used by _leaf
    except ImportError:
        return False
    cls = getattr(core, "_TyperParameter", None)
    if cls is None or not hasattr(cls, "get_runtime_param") or not hasattr(RuntimeParam, "_coerce_value"):
        return False

    @dataclass(frozen=True)
    class FastRuntimeParam(RuntimeParam):  # type: ignore[misc, valid-type]
        descriptor: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            converted = coerce(self.annotation, self.parameter_info, value, param, ctx)
            if converted is not _MISS:
                return converted
            real = build_runtime_param(self.descriptor)
            param._runtime_param = real
            return real._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            if getattr(descriptor, "file_annotation", None) is None:
                self._runtime_param = FastRuntimeParam(parameter_info=descriptor.parameter_info,
                                                       annotation=descriptor.annotation, descriptor=descriptor)
            else:
                self._runtime_param = build_runtime_param(descriptor)
        return self._runtime_param

    cls.get_runtime_param = get_runtime_param
    _installed = True
    return True
