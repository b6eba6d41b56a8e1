"""`promptreel doctor`: real ffmpeg, a real data folder and SQLite journal, real keys in the environment,
and a real bridge (with the Resolve double behind it) for the Resolve section."""

from __future__ import annotations

import json
import threading

import pytest

from promptreel.core.cli import main
from promptreel.core.ffmpeg import ffmpeg_exe
from promptreel.resolve_plugin.bridge.server import Bridge, write_session_file
from tests.fakes.resolve import FakeResolve

SECRET = "sk-doctor-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def full_ffmpeg(monkeypatch):
    """The imageio-ffmpeg build (it has drawtext, libx264, prores_ks), whatever else is on PATH."""
    import imageio_ffmpeg

    monkeypatch.setenv("PROMPTREEL_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    ffmpeg_exe.cache_clear()
    yield
    ffmpeg_exe.cache_clear()


def doctor(capsys, *args) -> tuple[int, str]:
    code = main(["doctor", *args])
    return code, capsys.readouterr().out


def checks(out: str) -> dict[str, dict]:
    return {c["name"]: c for c in json.loads(out)["checks"]}


def test_everything_in_place_and_which_mode(capsys, isolated_home):
    code, out = doctor(capsys, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    found = checks(out)
    for name in (
        "Python",
        "ffmpeg",
        "ffmpeg drawtext",
        "ffmpeg libx264 or libopenh264",
        "ffmpeg prores_ks",
        "PyAV",
        "data folder",
        "journal",
        "keys",
        "catalog",
        "Scripts entry",
        "Bridge",
        "Mode",
    ):
        assert name in found, name
    assert "from PROMPTREEL_FFMPEG" in found["ffmpeg"]["detail"]
    assert found["PyAV"]["detail"].startswith("version ")
    assert str(isolated_home) in found["data folder"]["detail"] and found["journal"]["ok"]
    assert json.loads(out)["mode"]["mode"] == "file"  # nothing answers here: file mode, and why
    code, text = doctor(capsys)
    assert code == 0 and "problem  keys:" in text and "fix: Set a key" in text
    # Problems listed, so never "everything is in place": it can run, and it says what to look at.
    assert "Everything promptreel needs is in place." not in text
    assert text.rstrip().splitlines()[-1].startswith("promptreel can run;") and "keys" in text.rstrip().splitlines()[-1]


def test_keys_by_name_and_place_never_the_value(capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code, out = doctor(capsys, "--json")
    assert checks(out)["keys"]["ok"] and "OPENAI_API_KEY (environment)" in checks(out)["keys"]["detail"]
    _, text = doctor(capsys)
    assert SECRET not in out and SECRET not in text


def _no_ffmpeg(monkeypatch, home):
    monkeypatch.setenv("PROMPTREEL_FFMPEG", str(home / "no-such-ffmpeg"))
    ffmpeg_exe.cache_clear()
    return "ffmpeg"


def _bad_journal(monkeypatch, home):
    (home / "journal.sqlite").write_bytes(b"this is not a database" * 100)
    return "journal"


def _bad_catalog(monkeypatch, home):
    (home / "mine.toml").write_text("[models.draft\nprice = ", encoding="utf-8")
    (home / "settings.toml").write_text(f"catalog_file = {json.dumps(str(home / 'mine.toml'))}\n", encoding="utf-8")
    return "catalog"


def _unwritable_home(monkeypatch, home):
    (home / "a-file").write_text("x")
    monkeypatch.setenv("PROMPTREEL_HOME", str(home / "a-file"))
    return "data folder"


@pytest.mark.parametrize("breakage", [_no_ffmpeg, _bad_journal, _bad_catalog, _unwritable_home])
def test_an_essential_problem_names_its_fix_and_fails_the_command(capsys, monkeypatch, isolated_home, breakage):
    name = breakage(monkeypatch, isolated_home)
    code, out = doctor(capsys, "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    check = checks(out)[name]
    assert check["ok"] is False and check["essential"] and check["fix"]
    code, text = doctor(capsys)
    assert code == 1 and f"problem  {name}:" in text and "essential problem(s)" in text


def test_a_catalog_override_is_named(capsys, isolated_home):
    (isolated_home / "mine.toml").write_text("[models.draft]\nprompt_max_chars = 500\n", encoding="utf-8")
    (isolated_home / "settings.toml").write_text(
        f"catalog_file = {json.dumps(str(isolated_home / 'mine.toml'))}\n", encoding="utf-8"
    )
    code, out = doctor(capsys, "--json")
    assert code == 0 and "mine.toml" in checks(out)["catalog"]["detail"]


def test_resolve_section_through_a_running_bridge(capsys, isolated_home):
    bridge = Bridge(FakeResolve(studio=False, version=(21, 0, 4, 7)))
    thread = threading.Thread(target=bridge.serve_forever)
    thread.start()
    try:
        write_session_file(str(isolated_home / "bridge.json"), bridge.info())
        code, out = doctor(capsys, "--json")
    finally:
        bridge.stop()
        thread.join(10)
    mode = json.loads(out)["mode"]
    assert code == 0 and mode["mode"] == "connected" and mode["route"] == "bridge"
    assert checks(out)["Bridge"]["ok"] and "DaVinci Resolve" in checks(out)["Bridge"]["detail"]


def test_models_in_use_that_their_vendors_end_are_warned_about(capsys, isolated_home):
    """The panel's default model and recent jobs, checked against the catalog's lifecycle: a warning, exit 0."""
    from datetime import date, timedelta

    from promptreel.core.journal import Journal
    from promptreel.resolve_plugin import panel_settings

    code, out = doctor(capsys, "--json")
    assert checks(out)["models in use"]["ok"]  # draft, the default: nothing to say
    soon = date.today() + timedelta(days=10)
    (isolated_home / "mine.toml").write_text(
        f'[models."kling-v2.6".lifecycle]\nshutdown_on = {soon.isoformat()}\n', encoding="utf-8"
    )
    (isolated_home / "settings.toml").write_text(
        f"catalog_file = {json.dumps(str(isolated_home / 'mine.toml'))}\n", encoding="utf-8"
    )
    panel_settings.update({"model": "kling-v2.6"})
    journal = Journal.open_default()
    journal.add_job(
        batch_id="b1",
        request={"prompt": "p"},
        cache_key="k",
        variant=0,
        model="veo-3",
        route_key="vertex:veo-3.0-generate-001",
        estimated_cost=0.0,
    )
    journal.close()
    code, out = doctor(capsys, "--json")
    found = checks(out)["models in use"]
    assert code == 0 and not found["ok"] and not found["essential"]
    assert f"kling-v2.6 shuts down on {soon}" in found["detail"] and "the panel's default model" in found["detail"]
    assert "veo-3 is retired. Use veo-3.1 (" in found["detail"] and "jobs of the last 30 days" in found["detail"]
    _, text = doctor(capsys)
    assert "problem  models in use:" in text and "promptreel can run;" in text  # a warning, not a failure


def test_a_media_root_not_mounted_here_is_named_with_its_fix(capsys, isolated_home, tmp_path, monkeypatch):
    code, out = doctor(capsys, "--json")
    assert "media root" not in checks(out)  # none set: nothing to check
    monkeypatch.setenv("PROMPTREEL_MEDIA_ROOT", str(tmp_path / "nas"))
    code, out = doctor(capsys, "--json")
    found = checks(out)["media root"]
    assert not found["ok"] and "not mounted" in found["detail"] and "media_root" in found["fix"]
    (tmp_path / "nas").mkdir()
    code, out = doctor(capsys, "--json")
    assert checks(out)["media root"]["ok"]
