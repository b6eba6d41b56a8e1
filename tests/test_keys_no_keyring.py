"""`promptreel keys set` on a machine without an OS keyring (headless Linux): said before the value is
asked for, with the alternatives; `--file` keeps the key in a 0600 file in the data folder."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from promptreel.core.cli import main
from promptreel.core.keys import get_key, keys_file, redact

PLANTED = "fal-0123456789abcdef-planted"


@pytest.fixture
def no_keyring(monkeypatch):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    asked = []
    monkeypatch.setattr("click.termui.hidden_prompt_func", lambda prompt: asked.append(prompt) or PLANTED)
    monkeypatch.delenv("FAL_KEY", raising=False)
    yield asked
    keyring.set_keyring(previous)


def test_no_keyring_is_said_before_the_value_is_asked_for(no_keyring, capsys):
    assert main(["keys", "set", "FAL_KEY"]) == 2
    err = capsys.readouterr().err.strip()
    assert no_keyring == []  # never asked (twice) for a value it cannot keep
    assert len(err.splitlines()) == 1 and "no usable OS keyring" in err and "Traceback" not in err
    assert "Export FAL_KEY" in err and "promptreel keys set FAL_KEY --file" in err and "(0600)" in err
    assert not keys_file().exists()


def test_file_keeps_the_key_for_its_owner_only_and_delete_removes_it(no_keyring, capsys):
    assert main(["keys", "set", "FAL_KEY", "--file"]) == 0
    assert len(no_keyring) == 2  # the value and its confirmation
    assert keys_file().stat().st_mode & 0o777 == 0o600
    assert get_key("FAL_KEY") == PLANTED and redact(f"key {PLANTED}") != f"key {PLANTED}"
    assert main(["keys", "list"]) == 0
    out = capsys.readouterr().out
    assert PLANTED not in out and any(
        line.startswith("FAL_KEY") and f"file {keys_file()}" in line for line in out.splitlines()
    )
    assert main(["keys", "delete", "FAL_KEY"]) == 0
    assert not keys_file().exists() and get_key("FAL_KEY") is None
