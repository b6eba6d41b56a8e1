"""Kling extend: the client keeps Kling's video id, and an extend naming an earlier promptreel job is sent
as that job's Kling video id — through the real engine and journal, against the Kling fake."""

import json

import pytest

from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.providers.base import ErrorKind, JobState, ProviderError
from promptreel.core.providers.kling import Kling
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.drive import poll_to_end, protocol
from promptreel.core.sandbox.run import KLING_ACCESS, KLING_SECRET
from tests.sandbox_engine import point_at, run

EXTEND = ("POST", r"/v1/videos/video-extend")


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["kling"], limit=SMALL) as env:
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home)
    return isolated_home


def kling_req(**kw):
    return GenerationRequest(
        **{"prompt": "rain on a tin roof", "model": "kling-v2.6", "seconds": 5, "size": "1280x720", **kw}
    )


async def first_task(fakes, client, tmp_path):
    """A fresh Kling fake, a client on it, and one text2video task submitted."""
    fake = fakes.fakes["kling"]
    fake.reset()
    proto = protocol(
        Kling, "kling-v2-6", client, {"KLING_ACCESS_KEY": KLING_ACCESS, "KLING_SECRET_KEY": KLING_SECRET}, fake.base_url
    )
    return fake, proto, await proto.submit(proto.build(kling_req(), "job-1"), tmp_path)


async def test_client_records_klings_video_id(fakes, client, tmp_path):
    _, proto, sub = await first_task(fakes, client, tmp_path)
    status = await poll_to_end(proto, sub.job_id)
    task_id = sub.job_id.split("/")[1]
    assert status.media[0].provider_id == f"v{task_id}" != task_id  # the video's id, not the task's


def test_extend_of_an_earlier_job_sends_its_kling_video_id(fakes, home):
    fake = fakes.fakes["kling"]
    (first,), (first_job,) = run(home, kling_req())
    assert first.ok and first_job.media_refs[0].provider_id  # kept in the journal
    video_id = first_job.media_refs[0].provider_id

    (ext,), (ext_job,) = run(home, kling_req(prompt="the rain stops", extend_video=first.job_id))
    assert ext.ok, ext.error
    (sent,) = fake.calls_to(*EXTEND)
    assert sent.json() == {"prompt": "the rain stops", "video_id": video_id, "external_task_id": ext.job_id}
    assert ext_job.request["extend_video"] == first.job_id  # the journal keeps what the editor asked
    assert ext_job.provider_job_id.startswith("video-extend/") and ext_job.route_key == "kling:kling-v2-6"
    assert fake.creates == 2


def test_extend_of_a_job_made_elsewhere_is_refused_before_any_create(fakes, home):
    fake = fakes.fakes["kling"]
    (draft,), _ = run(home, GenerationRequest(prompt="a slate", model="draft", seconds=1, size="320x180"))
    assert draft.ok
    (ext,), (ext_job,) = run(home, kling_req(extend_video=draft.job_id))
    assert ext.state is JobState.FAILED and ext.error_kind == "bad_request"
    assert f"Job {draft.job_id} was made on the draft route" in ext.error and "Kling" in ext.error
    assert fake.creates == 0 and fake.calls_to(*EXTEND) == []


def test_extend_of_an_unfinished_kling_job_is_refused(fakes, home):
    fake = fakes.fakes["kling"]
    fake.fault("outcome", "failed")
    (first,), _ = run(home, kling_req())
    assert first.state is JobState.FAILED
    (ext,), _ = run(home, kling_req(extend_video=first.job_id))
    assert ext.error_kind == "bad_request" and "only a finished take" in ext.error
    assert fake.creates == 1 and fake.calls_to(*EXTEND) == []


async def test_fake_refuses_a_task_id_or_unknown_video(fakes, client, tmp_path):
    fake, proto, sub = await first_task(fakes, client, tmp_path)
    task_id = sub.job_id.split("/")[1]
    # The task id is not the video id; an unknown id, or the video of a task not yet finished, is refused.
    for i, wrong in enumerate((task_id, "v999", f"v{task_id}")):
        with pytest.raises(ProviderError) as e:
            await proto.submit(proto.build(kling_req(extend_video=wrong), f"job-x{i}"), tmp_path)
        assert e.value.kind is ErrorKind.BAD_REQUEST and e.value.status == 400
    done = await poll_to_end(proto, sub.job_id)
    ext = await proto.submit(proto.build(kling_req(extend_video=done.media[0].provider_id), "job-y"), tmp_path)
    assert ext.job_id.startswith("video-extend/") and fake.creates == 2


def test_cli_generate_extend_by_job_id_keeps_the_sources_size(fakes, home, capsys):
    fake = fakes.fakes["kling"]
    fake.reset()
    assert main(["generate", "rain on a tin roof", "--model", "kling-v2.6", "--size", "720x1280", "--json"]) == 0
    (first,) = json.loads(capsys.readouterr().out)
    assert main(["generate", "the rain stops", "--model", "kling-v2.6", "--extend", first["job_id"], "--json"]) == 0
    (second,) = json.loads(capsys.readouterr().out)
    assert second["state"] == "done" and fake.creates == 2
    (sent,) = fake.calls_to(*EXTEND)
    assert sent.json()["prompt"] == "the rain stops" and sent.json()["video_id"].startswith("v")
    assert Journal.open_default().get(second["job_id"]).request["size"] == "720x1280"  # the source's, not the default


def test_cli_generate_with_remix_and_extend_is_refused(home, capsys):
    assert main(["generate", "x", "--model", "kling-v2.6", "--remix", "job_a", "--extend", "job_b"]) == 2
    err = capsys.readouterr().err
    assert "either --remix or --extend" in err and "Traceback" not in err


def test_extend_of_a_cache_hit_sends_the_video_of_the_job_that_made_it(fakes, home):
    fake = fakes.fakes["kling"]
    fake.reset()
    (first,), (first_job,) = run(home, kling_req(prompt="fog over the bay"))
    (hit,), (hit_job,) = run(home, kling_req(prompt="fog over the bay"))
    assert hit.cached and hit_job.cached_from == first.job_id and fake.creates == 1
    (ext,), _ = run(home, kling_req(prompt="the fog lifts", extend_video=hit.job_id))
    assert ext.ok, ext.error
    (sent,) = fake.calls_to(*EXTEND)
    assert sent.json()["video_id"] == first_job.media_refs[0].provider_id and fake.creates == 2
