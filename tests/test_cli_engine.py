"""The engine's commands in process: generate, jobs, resume, cost, keys."""

from __future__ import annotations

import csv
import io
import json

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from promptreel.core.cli import main
from tests.engine_env import PLANTED_KEY, clip, env  # noqa: F401  (fixtures)


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_generate_json_summary(env, capsys):
    rc = main(
        [
            "generate",
            "a lighthouse at dusk",
            "--model",
            "test-model",
            "--seconds",
            "8",
            "--variants",
            "2",
            "--seed",
            "3",
            "--json",
        ]
    )
    out = _json(capsys)
    assert rc == 0
    assert [r["state"] for r in out] == ["done", "done"]
    assert out[0]["frames"] == 24 and out[0]["rate"] == "24" and out[0]["size"] == "320x180"
    assert out[0]["cost_usd"] == pytest.approx(0.8)
    sent = env.api.server.calls_to("POST", r"/v1/models/.*/jobs")
    assert sorted(c.json()["seed"] for c in sent) == [3, 4] and sent[0].json()["seconds"] == 8


def test_generate_frames_covers_slot_with_whole_seconds(env, capsys):
    assert (
        main(["generate", "a kite", "--model", "test-model", "--frames", "100", "--fps", "24000/1001", "--json"]) == 0
    )
    _json(capsys)
    assert env.api.server.calls_to("POST", r"/v1/models/.*/jobs")[0].json()["seconds"] == 8  # 100 f = 4.17 s


def test_generate_progress_and_table(env, capsys):
    assert main(["generate", "a kite", "--model", "test-model", "--aspect", "16:9"]) == 0
    out, err = capsys.readouterr()
    assert "done" in err  # progress bars on stderr
    assert "Total cost: $0.40" in out and "320x180" in out


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--seconds", "5"], "Allowed durations"),
        (["--seconds", "4", "--frames", "10", "--fps", "24"], "either --seconds or --frames"),
        (["--frames", "10"], "--frames needs --fps"),
        (["--aspect", "4:3"], "has no 4:3 sizes"),
        (["--first-frame", "/nonexistent.png"], "does not accept a first frame"),
        (["--variants", "40"], "variants"),
        (["--budget", "0.1"], "over the budget of $0.10"),
    ],
)
def test_generate_refusals_are_clear_and_change_nothing(env, capsys, args, needle):
    rc = main(["generate", "a kite", "--model", "test-model", *args])
    err = capsys.readouterr().err
    assert rc in (2, 3) and needle in err and "Traceback" not in err
    assert env.api.server.calls == [] and env.journal.jobs() == []


def test_generate_unknown_model(env, capsys):
    assert main(["generate", "a kite", "--model", "nope"]) == 2
    assert "Unknown model 'nope'" in capsys.readouterr().err


def test_generate_missing_key_refused_before_any_call(env, capsys, monkeypatch):
    monkeypatch.delenv("TESTPROTO_API_KEY")
    monkeypatch.setattr("promptreel.core.keys._keyring_get", lambda name: None)
    assert main(["generate", "a kite", "--model", "test-model"]) == 2
    assert "TESTPROTO_API_KEY" in capsys.readouterr().err
    assert env.api.server.calls == []


def test_jobs_resume_and_cost(env, capsys):
    env.api.job_seconds = 600
    env.settings.poll_cap_seconds = 1  # the CLI reads settings from disk; set it there too
    (env.home / "settings.toml").write_text(
        (env.home / "settings.toml").read_text().replace("[base_urls]", "poll_cap_seconds = 1\n[base_urls]")
    )
    assert main(["generate", "a kite", "--model", "test-model", "--json"]) == 1  # left for resume
    left = _json(capsys)[0]
    assert left["resumable"] and left["error_kind"] == "timeout"

    assert main(["jobs", "--state", "queued", "--state", "running", "--json"]) == 0
    listed = _json(capsys)
    assert [j["job_id"] for j in listed] == [left["job_id"]] and listed[0]["provider_job_id"] == "j1"

    env.api.job_seconds = 0
    assert main(["resume", "--json"]) == 0
    assert _json(capsys)[0]["state"] == "done"
    assert main(["jobs"]) == 0 and left["job_id"] in capsys.readouterr().out

    assert main(["cost", "--by", "model", "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["model", "usd", "jobs"], ["test-model", "0.4000", "1"]]
    assert main(["cost", "--since", "2000-01-01"]) == 0 and "0.40" in capsys.readouterr().out
    assert main(["cost", "--since", "yesterday"]) == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_resume_abandon_and_bad_job(env, capsys):
    env.api.drop_creates = 1
    assert main(["generate", "a kite", "--model", "test-blind", "--json"]) == 1
    job = _json(capsys)[0]
    assert job["state"] == "unknown" and f"--resend {job['job_id']}" in job["error"]
    assert main(["resume", "--abandon", "job_nope"]) == 2 and "no job job_nope" in capsys.readouterr().err
    assert main(["resume", "--abandon", job["job_id"], "--json"]) == 0
    capsys.readouterr()
    assert main(["jobs", "--state", "canceled", "--json"]) == 0 and len(_json(capsys)) == 1
    assert len(env.api.server.calls_to("POST", r"/v1/models/.*/jobs")) == 1


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring (the one boundary this machine lacks)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def test_keys_set_list_delete_never_show_values(env, capsys, monkeypatch):
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    monkeypatch.setattr("click.termui.visible_prompt_func", lambda prompt: "")
    monkeypatch.setattr("click.termui.hidden_prompt_func", lambda prompt: PLANTED_KEY)
    try:
        assert main(["keys", "set", "FAL_KEY"]) == 0
        assert ring.store[("promptreel", "FAL_KEY")] == PLANTED_KEY
        assert main(["keys", "list"]) == 0
        out = capsys.readouterr().out
        assert PLANTED_KEY not in out
        assert any(line.startswith("FAL_KEY") and line.endswith("keyring") for line in out.splitlines())
        assert main(["keys", "delete", "FAL_KEY"]) == 0 and not ring.store
        assert main(["keys", "delete", "FAL_KEY"]) == 2 and "not in the OS keyring" in capsys.readouterr().err
        assert main(["keys", "set", "lower-case"]) == 2
    finally:
        keyring.set_keyring(previous)
