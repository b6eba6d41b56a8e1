"""`promptreel prompt show` and `promptreel templates ...` through the real entry point."""

import json
import subprocess
import sys

import pytest

from promptreel.core.cli import main

SHOT = (
    'subject = "a weathered fisherman"\naction = "hauls a net"\nlocation = "a trawler at dawn"\n'
    'audio = "gulls"\nnegative_prompt = "text, watermark"\n'
)


@pytest.fixture
def shot(tmp_path):
    path = tmp_path / "shot.toml"
    path.write_text(SHOT, encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prompt_show_prints_what_would_be_sent(capsys, shot):
    code, out, err = run(capsys, "prompt", "show", "--model", "veo-3.1", "--fields", str(shot))
    assert code == 0
    assert "A weathered fisherman hauls a net. A trawler at dawn. Audio: gulls." in out
    assert "negative prompt: text, watermark" in out and "/4000 characters" in out


def test_prompt_show_json_names_drops_and_warnings(capsys, shot):
    code, out, _ = run(capsys, "prompt", "show", "--model", "gen-4.5", "--fields", str(shot), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["text"] == "A weathered fisherman hauls a net. A trawler at dawn."
    assert data["negative_prompt"] is None and data["dropped"] == ["audio", "negative_prompt"]
    assert len(data["warnings"]) == 2 and data["max_chars"] == 1000


def test_prompt_show_free_text_wins(capsys, shot):
    code, out, err = run(
        capsys,
        "prompt",
        "show",
        "--model",
        "veo-3.1",
        "--fields",
        str(shot),
        "--prompt",
        "A lighthouse in a storm.",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["text"] == "A lighthouse in a storm." and data["source"] == "free text"
    assert data["negative_prompt"] == "text, watermark"


def test_prompt_show_refuses_clearly(capsys, tmp_path):
    bad = tmp_path / "shot.toml"
    bad.write_text('subjet = "typo"\n')
    code, out, err = run(capsys, "prompt", "show", "--model", "veo-3.1", "--fields", str(bad))
    assert code == 2 and "unknown field(s): subjet" in err and "Traceback" not in err
    code, _, err = run(capsys, "prompt", "show", "--model", "veo-9", "--prompt", "x")
    assert code == 2 and "Unknown model 'veo-9'" in err
    code, _, err = run(capsys, "prompt", "show", "--model", "veo-3.1")
    assert code == 2 and "--fields" in err


def test_templates_commands_end_to_end(capsys, tmp_path, shot):
    code, out, _ = run(
        capsys, "templates", "save", "night", "--text", "{subject} at {time_of_day}", "--tag", "ext", "--tag", "night"
    )
    assert code == 0 and "placeholders: subject, time_of_day" in out
    code, _, err = run(capsys, "templates", "save", "night", "--text", "other")
    assert code == 2 and "--replace" in err
    code, out, _ = run(capsys, "templates", "list", "--tag", "night")
    assert out.startswith("night  [ext, night]: {subject} at {time_of_day}")
    code, out, _ = run(capsys, "templates", "list", "--json")
    assert json.loads(out) == [
        {"name": "night", "text": "{subject} at {time_of_day}", "tags": ["ext", "night"], "description": ""}
    ]
    code, out, _ = run(capsys, "templates", "list", "--tag", "int")
    assert "No templates tagged 'int'" in out
    code, out, _ = run(capsys, "templates", "show", "night", "--json")
    assert json.loads(out)["placeholders"] == ["subject", "time_of_day"]
    code, out, _ = run(capsys, "templates", "show", "night", "--set", "subject=A fox", "--set", "time_of_day=dusk")
    assert out.strip() == "A fox at dusk"
    code, _, err = run(capsys, "templates", "show", "night", "--set", "subject=A fox")
    assert code == 2 and "needs a value for: time_of_day" in err

    # A template filled from the shot file plus --set, as the prompt for a model.
    code, out, _ = run(
        capsys,
        "prompt",
        "show",
        "--model",
        "veo-3.1",
        "--fields",
        str(shot),
        "--template",
        "night",
        "--set",
        "time_of_day=dusk",
        "--json",
    )
    data = json.loads(out)
    assert data["text"] == "a weathered fisherman at dusk" and data["negative_prompt"] == "text, watermark"
    assert data["warnings"] == []

    code, _, err = run(capsys, "prompt", "show", "--model", "veo-3.1", "--template", "night", "--prompt", "x")
    assert code == 2 and "not both" in err

    house = tmp_path / "house.toml"
    assert run(capsys, "templates", "export", str(house))[0] == 0
    assert run(capsys, "templates", "delete", "night")[0] == 0
    code, out, _ = run(capsys, "templates", "import", str(house))
    assert code == 0 and "Imported 1 template(s): night." in out
    code, _, err = run(capsys, "templates", "export", str(house))
    assert code == 2 and "--overwrite" in err


def test_help_does_not_import_the_prompt_modules():
    code = (
        "import sys\nfrom promptreel.core.cli import main\nmain(['--help'])\n"
        "print(any(m.startswith('promptreel.core.prompts') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0
    assert "prompt " in out.stdout and "templates" in out.stdout
    assert out.stdout.strip().endswith("False")
