"""regauth.typer_fast converts option values exactly as typer's pydantic-based coercion does, or defers to it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer._coercion import build_runtime_param

from regauth import typer_fast
from regauth.cli import app

COMMAND = typer.main.get_command(app)
VALUES = ["abc", "8", "0", "64", "65", "-3", "+7", "15", "15.5", ".5", "1e3", "nan", " 8", "8 ", "", "-", "text",
          "json", "github", "JSON", "xml", "/tmp", "relative/file.txt", 8, 15.0, 2.5, True, None, ("a", "b"), ["x"]]


def _params():
    for name, command in COMMAND.commands.items():
        for param in command.params:
            yield pytest.param(command, param, id=f"{name}-{param.name}")


@pytest.mark.parametrize("command,param", list(_params()))
def test_fast_coercion_matches_typer(command, param):
    descriptor = param.type_descriptor
    if descriptor.file_annotation is not None:
        pytest.skip("file parameters keep typer's own coercion")
    ctx = typer.main._click.Context(command) if hasattr(typer.main, "_click") else None
    real_param = build_runtime_param(descriptor)
    for value in VALUES:
        fast = typer_fast.coerce(descriptor.annotation, descriptor.parameter_info, value, param, ctx)
        if fast is typer_fast._MISS:
            continue
        real = real_param._coerce_value(value, param=param, ctx=ctx)
        assert fast == real and type(fast) is type(real), (param.name, value, fast, real)
        if isinstance(real, list):
            assert [type(x) for x in fast] == [type(x) for x in real]


def test_installed_by_the_cli_and_idempotent():
    assert typer_fast.install() is True
    assert typer_fast.install() is True


def test_pull_check_does_not_import_pydantic(tmp_path):
    """A run that parses every kind of option (Path, float, int, Enum, list) without pydantic being imported."""
    code = ("import sys\n"
            "from regauth.cli import app\n"
            "try:\n"
            f"    app(['pull-check', 'Bad/Ref', '-o', 'json', '-j', '3', '--timeout', '2.5', '--platform', 'linux/arm64',"
            f" '--junit', {str(tmp_path / 'j.xml')!r}], prog_name='regauth')\n"
            "except SystemExit as e:\n"
            "    print('exit', e.code, 'pydantic' in sys.modules, file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.stderr.strip().splitlines()[-1] == "exit 2 False", proc.stderr
    assert (tmp_path / "j.xml").exists()


@pytest.mark.parametrize("args,message", [
    (["-j", "0"], "Invalid value for '--concurrency' / '-j'"),
    (["-j", "x"], "Invalid value for '--concurrency' / '-j'"),
    (["--timeout", "soon"], "Invalid value for '--timeout'"),
    (["-o", "xml"], "Invalid value for '--output' / '-o'"),
])
def test_invalid_values_still_get_typers_errors(args, message):
    proc = subprocess.run([sys.executable, "-m", "regauth", "pull-check", "x", *args], capture_output=True, text=True,
                          timeout=60, env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert message in proc.stderr
