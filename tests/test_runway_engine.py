"""Runway's hosted models through the real engine and journal against the runway sandbox fake: text to video
(Seedance 2.5), image to video (HappyHorse 1.0) and video to video (Aleph 2, from a file and from an earlier
take by its job id in a later engine run), and fills conformed frame-exact into their slots."""

from fractions import Fraction

import pytest

from promptreel.core.conform.probe import probe
from promptreel.core.request import GenerationRequest, Slot
from promptreel.core.sandbox import SMALL, Spec, render, sandbox
from tests.fakes.images import still
from tests.sandbox_engine import fill_exact, point_at, run


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["runway"], limit=SMALL) as env:
        yield env


def sent(fakes, endpoint):
    return [c.json() for c in fakes.fakes["runway"].calls_to("POST", rf"/v1/{endpoint}")]


def test_text_to_video_seedance_with_audio(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    (result,), (job,) = run(
        isolated_home,
        GenerationRequest(prompt="a tram in the rain", model="seedance-2.5", seconds=6, size="1920x1080", seed=4),
    )
    assert result.ok, result.error
    assert job.route_key == "runway:seedance2_5" and job.estimated_cost == pytest.approx(6 * 0.68)
    info = probe(result.path)
    assert info.has_audio and info.rate == 24 and (info.width, info.height) == (320, 180)
    assert sent(fakes, "text_to_video") == [
        {"model": "seedance2_5", "promptText": "a tram in the rain", "ratio": "1920:1080", "duration": 6, "seed": 4}
    ]


def test_image_to_video_happyhorse_follows_its_frame(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    first = still(tmp_path, 832, 1108, "first")
    (result,), _ = run(
        isolated_home,
        GenerationRequest(
            prompt="a kite lifts off", model="happyhorse-1.0", seconds=4, size="832x1108", first_frame=first
        ),
    )
    assert result.ok, result.error
    assert probe(result.path).height > probe(result.path).width  # portrait frame in, portrait clip out
    (body,) = sent(fakes, "image_to_video")
    assert (body["resolution"], "ratio" in body) == ("720p", False)


def test_video_to_video_aleph_from_a_file_then_from_that_take_after_a_restart(
    fakes, isolated_home, monkeypatch, tmp_path
):
    point_at(fakes, monkeypatch, isolated_home)
    source = tmp_path / "plate.mp4"
    source.write_bytes(render(Spec(1280, 720, Fraction(24), Fraction(1), audio=True)))
    (edited,), (job,) = run(
        isolated_home,
        GenerationRequest(prompt="make it snow", model="aleph-2", seconds=1, size="1280x720", remix_of=str(source)),
    )
    assert edited.ok, edited.error
    assert job.route_key == "runway:aleph2" and job.estimated_cost == pytest.approx(0.28)
    # A fresh engine and journal (as after a restart) edit that take again by its job id: its file is sent.
    (again,), _ = run(
        isolated_home,
        GenerationRequest(prompt="now at night", model="aleph-2", seconds=1, size="1280x720", remix_of=edited.job_id),
    )
    assert again.ok, again.error
    first, second = sent(fakes, "video_to_video")
    assert first["videoUri"].startswith("data:video/mp4;base64,") and second["videoUri"] != first["videoUri"]
    assert fakes.fakes["runway"].creates == 2


def test_gemini_omni_goes_through_runway_when_only_runways_key_is_set(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)  # the runway fake's variables only: no GEMINI_API_KEY
    (result,), (job,) = run(
        isolated_home,
        GenerationRequest(prompt="a fox in snow", model="gemini-omni-1.2-flash", seconds=6, size="720x1280"),
    )
    assert result.ok, result.error
    assert job.route_key == "runway:gemini_omni_flash" and probe(result.path).has_audio
    assert sent(fakes, "text_to_video") == [
        {"model": "gemini_omni_flash", "promptText": "a fox in snow", "ratio": "720:1280", "duration": 6}
    ]
    (wide,), _ = run(
        isolated_home,
        GenerationRequest(prompt="a fox in snow", model="gemini-omni-1.2-flash", seconds=6, size="1920x1080"),
    )
    assert wide.error_kind == "bad_request" and "Choose one of: 1280x720, 720x1280" in wide.error
    assert fakes.fakes["runway"].creates == 1


def test_an_unfinished_or_unknown_source_is_refused_without_a_create(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    (result,), _ = run(
        isolated_home,
        GenerationRequest(prompt="make it snow", model="aleph-2", seconds=1, size="1280x720", remix_of="no-such-job"),
    )
    assert result.error_kind == "bad_request" and "neither a video file nor a finished" in result.error
    assert fakes.fakes["runway"].creates == 0


def test_fill_conforms_runway_takes_frame_exact_into_their_slots(fakes, isolated_home, monkeypatch, tmp_path):
    point_at(fakes, monkeypatch, isolated_home)
    slots = [
        Slot(
            frames=20,
            rate=Fraction(24000, 1001),
            size="320x180",
            prompt="a kite over dunes",
            model="seedance-2",
            name="SH010",
        ),
        Slot(
            frames=17,
            rate=Fraction(25),
            size="180x320",
            prompt="a paper boat on a canal",
            model="happyhorse-1.0",
            name="SH020",
            first_frame=still(tmp_path, 720, 1280, "boat"),
        ),
    ]
    fill_exact(isolated_home, slots)
    assert (
        [b["model"] for b in sent(fakes, "text_to_video")],
        [b["model"] for b in sent(fakes, "image_to_video")],
    ) == (["seedance2"], ["happyhorse_1_0"])


# promptreel as the user runs it, with the engine's waits between polls cut short (the fake advances per read).
CHILD = """
import asyncio, sys
from promptreel.core.engine import Engine

init = Engine.__init__

def quick(self, *a, **kw):
    init(self, *a, **kw)

    async def brief(seconds):
        await asyncio.sleep(0.01)

    self.sleep = brief

Engine.__init__ = quick
from promptreel.core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_edits_a_clip_file_with_aleph_and_prices_it_by_the_clip(fakes, tmp_path):
    """`generate --remix FILE --model aleph-2`: the edit is planned and estimated at the clip's own length."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    fakes.fakes["runway"].reset()
    plate = tmp_path / "plate.mp4"
    plate.write_bytes(render(Spec(640, 360, Fraction(24), Fraction(3))))
    env = {
        **os.environ,
        **fakes,
        "PROMPTREEL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(repo),
        "PROMPTREEL_NO_BROWSER": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            "generate",
            "make it snow",
            "--model",
            "aleph-2",
            "--remix",
            str(plate),
            "--json",
        ],
        env=env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert result["state"] == "done" and result["cost_usd"] == pytest.approx(3 * 0.28)
    (body,) = sent(fakes, "video_to_video")
    assert body["model"] == "aleph2" and "duration" not in body


def test_a_lost_upload_is_sent_again_not_taken_for_an_unknown_create(fakes, isolated_home, monkeypatch, tmp_path):
    import promptreel.core.providers.runway as module

    point_at(fakes, monkeypatch, isolated_home)
    monkeypatch.setattr(module, "DATA_URI_LIMIT", 1024)  # a small real clip stands for one past 5 MB
    source = tmp_path / "plate.mp4"
    source.write_bytes(render(Spec(640, 360, Fraction(24), Fraction(1))))
    fakes.fakes["runway"].fault("upload", "drop")
    (result,), _ = run(
        isolated_home,
        GenerationRequest(prompt="make it snow", model="aleph-2", seconds=1, size="1280x720", remix_of=str(source)),
    )
    assert result.ok, result.error
    assert len(fakes.fakes["runway"].calls_to("POST", r"/v1/uploads")) == 2 and fakes.fakes["runway"].creates == 1


def test_a_take_is_ledgered_at_the_credits_runway_charged_not_at_the_estimate(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    monkeypatch.setitem(fakes.fakes["runway"].credits_per_second, "seedance2_5", 50)  # the catalog says 68
    (result,), (job,) = run(
        isolated_home, GenerationRequest(prompt="a tram at dusk", model="seedance-2.5", seconds=6, size="1920x1080")
    )
    assert result.ok, result.error
    assert job.estimated_cost == pytest.approx(6 * 0.68)
    assert job.actual_cost == pytest.approx(3.0)  # 300 credits at $0.01
