"""The isola front end: version, help, and clear errors for bad usage."""
from conftest import run


def test_version(isola):
    p = run([isola, "--version"])
    assert p.returncode == 0
    assert p.stdout.startswith("isola version ")


def test_unknown_command_is_named(isola):
    p = run([isola, "frobnicate"])
    assert p.returncode == 2
    assert "frobnicate" in p.stderr


def test_help_lists_commands(isola):
    p = run([isola, "--help"])
    assert p.returncode == 0
    assert "Usage: isola" in p.stdout
