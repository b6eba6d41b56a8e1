"""A take's prompt spec (the structured prompt it was worded from) travels with it to `takes --json` and the panel."""

from __future__ import annotations

import json
from fractions import Fraction

from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.made import MadeClip
from promptreel.core.prompts.compose import PromptSpec
from promptreel.core.request import Slot
from promptreel.core.takes import list_takes, record_takes

KEY = "sk-test-0123456789abcdefXYZ"


def test_takes_json_carries_the_prompt_spec_and_never_a_key(isolated_home, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    spec = PromptSpec(template="dusk", fields={"subject": "a red kite", "lighting": f"low sun {KEY}"})
    worded = Slot(
        frames=24,
        rate=Fraction(24000, 1001),
        size="320x180",
        prompt="a red kite at dusk",
        model="draft",
        name="SH010",
        spec=spec,
    )
    free = worded.model_copy(update={"spec": None, "name": "SH020"})
    journal = Journal.open_default()
    try:
        record_takes(journal, "SH010", [MadeClip.failed(worded, "failed")], "variants")
        record_takes(journal, "SH020", [MadeClip.failed(free, "failed")], "variants")
        assert list_takes(journal, "SH020")[0].as_dict()["spec"] is None  # free text: no spec
    finally:
        journal.close()

    assert main(["takes", "SH010", "--json"]) == 0
    out = capsys.readouterr().out
    take = json.loads(out)[0]
    assert take["spec"] == {
        "prompt": "",
        "template": "dusk",
        "fields": {"subject": "a red kite", "lighting": "low sun [redacted]"},
    }
    assert KEY not in out
