"""`promptreel sandbox serve` and `sandbox(...)`: the fakes started together, reachable over real HTTP
with the variables they print, and promptreel's own protocols running against them offline."""

import json
import os
import shlex
import signal
import subprocess
import sys
from datetime import date

import httpx
import pytest

from promptreel.core.catalog import Route
from promptreel.core.cli.sandbox import SHELLS
from promptreel.core.providers.base import JobState
from promptreel.core.providers.openai import OpenAIVideos
from promptreel.core.providers.vertex import VertexVeo
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.drive import download, frame_size, poll_to_end
from promptreel.core.sandbox.fake import SANDBOX_KEY

SERVE = [sys.executable, "-m", "promptreel.core.cli", "sandbox", "serve"]


def read_lines(proc: subprocess.Popen, count: int) -> list[str]:
    lines = []
    while len(lines) < count:
        line = proc.stdout.readline()
        assert line, f"serve ended early: {proc.stderr.read()}"
        lines.append(line.rstrip("\n"))
    return lines


def read_env(proc: subprocess.Popen, names: set[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    while not names <= set(env):
        line = read_lines(proc, 1)[0]
        words = shlex.split(line)
        assert len(words) == 2 and words[0] == "export", f"not an export line: {line!r}"
        name, sep, value = words[1].partition("=")
        assert sep and name.isupper() and value, f"not an export NAME=VALUE line: {line!r}"
        env[name] = value
    return env


def test_serve_prints_variables_and_answers_create_and_poll():
    proc = subprocess.Popen(
        [*SERVE, "--route", "runway", "--route", "openai", "--small", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        env = read_env(
            proc, {"PROMPTREEL_RUNWAY_BASE_URL", "RUNWAYML_API_SECRET", "PROMPTREEL_OPENAI_BASE_URL", "OPENAI_API_KEY"}
        )
        assert env["OPENAI_API_KEY"] == SANDBOX_KEY and env["PROMPTREEL_OPENAI_BASE_URL"].endswith("/v1")
        headers = {"Authorization": f"Bearer {env['RUNWAYML_API_SECRET']}", "X-Runway-Version": "2024-11-06"}
        with httpx.Client(base_url=env["PROMPTREEL_RUNWAY_BASE_URL"], headers=headers, timeout=10) as c:
            task = c.post(
                "/v1/text_to_video",
                json={"model": "gen4.5", "promptText": "a harbour at dawn", "ratio": "1280:720", "duration": 5},
            )
            assert task.status_code == 200
            states = [c.get(f"/v1/tasks/{task.json()['id']}").json()["status"] for _ in range(3)]
        assert states == ["PENDING", "RUNNING", "SUCCEEDED"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def serve_lines(args: list[str], count: int, env: dict | None = None) -> list[str]:
    proc = subprocess.Popen([*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        return read_lines(proc, count)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_pasted_lines_reach_promptreel_whatever_the_values_hold(tmp_path, shell):
    # The Vertex fake's credentials file lives under TMPDIR: give it a space and a quote.
    tmpdir = tmp_path / "it's a dir"
    tmpdir.mkdir()
    lines = serve_lines(["--route", "vertex", "--route", "openai"], 7, {**os.environ, "TMPDIR": str(tmpdir)})
    assert all(line.startswith("export ") for line in lines)
    script = "\n".join([*lines, f"{sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))'"])
    seen = json.loads(
        subprocess.run(
            [shell, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": os.environ["PATH"], "OPENAI_API_KEY": "sk-real-key-exported"},
        ).stdout
    )
    assert seen["OPENAI_API_KEY"] == SANDBOX_KEY and seen["PROMPTREEL_OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert seen["PROMPTREEL_VERTEX_BASE_URL"].startswith("http://127.0.0.1:")
    adc = seen["GOOGLE_APPLICATION_CREDENTIALS"]
    assert adc.startswith(str(tmpdir)) and adc.endswith("vertex-adc.json")


def test_fish_and_powershell_forms_quote_every_value():
    tricky = "C:\\it's \u2019here\\ $HOME `x` %PATH%"
    assert SHELLS["fish"]("A", tricky) == "set -gx A 'C:\\\\it\\'s \u2019here\\\\ $HOME `x` %PATH%'"
    assert SHELLS["powershell"]("A", tricky) == "$env:A = 'C:\\it''s \u2019\u2019here\\ $HOME `x` %PATH%'"
    assert SHELLS["posix"]("A", tricky) == "export A='C:\\it'\"'\"'s \u2019here\\ $HOME `x` %PATH%'"


def test_serve_prints_the_form_env_asks_for():
    lines = serve_lines(["--route", "openai", "--env", "fish"], 2)
    assert lines[0].startswith("set -gx PROMPTREEL_OPENAI_BASE_URL 'http://127.0.0.1:")
    assert lines[1] == f"set -gx OPENAI_API_KEY '{SANDBOX_KEY}'"
    lines = serve_lines(["--route", "openai", "--env", "powershell"], 2)
    assert lines[1] == f"$env:OPENAI_API_KEY = '{SANDBOX_KEY}'"


def test_serve_refuses_an_unknown_route():
    out = subprocess.run([*SERVE, "--route", "sora"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "no route 'sora'" in out.stderr and "openai" in out.stderr


async def test_python_api_runs_promptreel_protocols_offline(tmp_path):
    before = dict(os.environ)
    with sandbox(routes=["openai", "vertex"], limit=SMALL, export=True) as env:
        assert set(env.fakes) == {"openai", "vertex"} and os.environ["OPENAI_API_KEY"] == SANDBOX_KEY
        env.fakes["openai"].today = date(2026, 9, 1)  # the Sora API as it answered before its shutdown
        async with httpx.AsyncClient(timeout=10) as client:
            sora = OpenAIVideos(
                client,
                Route(protocol="openai", model_id="sora-2"),
                {"OPENAI_API_KEY": env["OPENAI_API_KEY"]},
                base_url=env["PROMPTREEL_OPENAI_BASE_URL"],
            )
            job = await sora.submit(
                sora.build(GenerationRequest(prompt="p", seconds=4, size="1280x720"), "j1"), tmp_path
            )
            done = await poll_to_end(sora, job.job_id)
            assert await download(client, sora, done.media[0], tmp_path / "sora.mp4") == 1
            assert frame_size(tmp_path / "sora.mp4") == (320, 180)

            # Vertex with no token given: google-auth reads the sandbox's ADC file and refreshes at the fake.
            veo = VertexVeo(
                client,
                Route(protocol="vertex", model_id="veo-3.1-generate-001"),
                {},
                base_url=env["PROMPTREEL_VERTEX_BASE_URL"],
                staging_dir=tmp_path,
            )
            op = await veo.submit(veo.build(GenerationRequest(prompt="p", seconds=8, size="1280x720"), "j2"), tmp_path)
            status = await poll_to_end(veo, op.job_id)
            assert status.state is JobState.SUCCEEDED and frame_size(status.media[0].inline_path) == (320, 180)
        assert env.fakes["openai"].creates == 1 and env.fakes["vertex"].creates == 1
    assert dict(os.environ) == before
