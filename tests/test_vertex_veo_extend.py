"""Vertex Veo extend by an earlier promptreel job, through the real engine and journal against the Vertex
fake: sent by its gs:// URI when the take went to Cloud Storage, else as the kept file's bytes."""

import base64
from pathlib import Path

import pytest

from promptreel.core.errors import UnsupportedRequest
from promptreel.core.request import GenerationRequest
from promptreel.core.sandbox import SMALL, sandbox
from tests.sandbox_engine import point_at, run

CREATE = ("POST", r".*/models/veo-3\.1-generate-001:predictLongRunning")
CATALOG = """
[models."veo-3.1"]
inputs = ["first_frame", "extend"]
routes = [{ protocol = "vertex", model_id = "veo-3.1-generate-001", concurrency = 4, rpm = 0 }]
"""


@pytest.fixture(scope="module")
def fakes():
    with sandbox(routes=["vertex"], limit=SMALL) as env:
        yield env


@pytest.fixture
def home(fakes, isolated_home, monkeypatch):
    point_at(fakes, monkeypatch, isolated_home, CATALOG)
    return isolated_home


def veo(**kw):
    return GenerationRequest(
        **{"prompt": "a lighthouse at dusk", "model": "veo-3.1", "seconds": 8, "size": "1280x720", **kw}
    )


def sent_video(fake) -> dict:
    return fake.calls_to(*CREATE)[-1].json()["instances"][0]["video"]


def test_inline_take_is_extended_by_its_kept_files_bytes(fakes, home):
    fake = fakes.fakes["vertex"]
    (first,), (first_job,) = run(home, veo())
    assert first.ok, first.error
    assert first_job.media_refs[0].provider_id is None  # came back inline: nothing in Cloud Storage
    (ext,), _ = run(home, veo(prompt="the light turns", extend_video=first.job_id))
    assert ext.ok, ext.error
    kept = Path(first_job.output_path).read_bytes()
    assert sent_video(fake) == {"bytesBase64Encoded": base64.b64encode(kept).decode(), "mimeType": "video/mp4"}
    assert fake.creates == 2


def test_cloud_storage_take_is_extended_by_its_gcs_uri(fakes, home):
    fake = fakes.fakes["vertex"]
    settings = home / "settings.toml"
    settings.write_text(settings.read_text() + 'vertex_output_gcs_uri = "gs://promptreel-takes/out"\n')
    (first,), (first_job,) = run(home, veo())
    assert first.ok, first.error
    uri = first_job.media_refs[0].provider_id
    assert uri.startswith("gs://promptreel-takes/out/") and uri.endswith(".mp4")
    Path(first_job.output_path).unlink()  # the gs:// object is what is sent, not the local copy
    (ext,), _ = run(home, veo(prompt="the light turns", extend_video=first.job_id))
    assert ext.ok, ext.error
    assert sent_video(fake) == {"gcsUri": uri, "mimeType": "video/mp4"}
    assert fake.creates == 2


def test_take_from_another_route_is_refused_before_any_create(fakes, home):
    (draft,), _ = run(home, GenerationRequest(prompt="a slate", model="draft", seconds=1, size="320x180"))
    (ext,), _ = run(home, veo(extend_video=draft.job_id))
    assert ext.error_kind == "bad_request" and "made on the draft route" in ext.error
    assert fakes.fakes["vertex"].creates == 0


def test_unfinished_take_is_refused(fakes, home):
    fake = fakes.fakes["vertex"]
    fake.fault("outcome", "rai")
    (first,), _ = run(home, veo())
    assert not first.ok
    (ext,), _ = run(home, veo(extend_video=first.job_id))
    assert ext.error_kind == "bad_request" and f"Job {first.job_id} is failed" in ext.error
    assert fake.creates == 1  # only the first, filtered one


def test_inline_take_whose_file_is_gone_is_refused_clearly(fakes, home):
    fake = fakes.fakes["vertex"]
    (first,), (first_job,) = run(home, veo())
    Path(first_job.output_path).unlink()
    (ext,), _ = run(home, veo(extend_video=first.job_id))
    assert ext.error_kind == "bad_request" and "no longer on this machine" in ext.error
    assert fake.creates == 1


def test_veo_3_1_lite_is_made_on_vertex_by_its_preview_id(fakes, home):
    """The Lite preview (google-genai's own Vertex test model, veo-3.1-lite-generate-001): text or first / last
    frame to video, portrait or landscape; no extension."""
    fake = fakes.fakes["vertex"]
    (take,), (job,) = run(home, veo(model="veo-3.1-lite", seconds=4, size="720x1280"))
    assert take.ok, take.error
    assert job.route_key == "vertex:veo-3.1-lite-generate-001"
    (call,) = fake.calls_to("POST", r".*/models/veo-3\.1-lite-generate-001:predictLongRunning")
    params = call.json()["parameters"]
    assert (params["aspectRatio"], params["resolution"], params["durationSeconds"]) == ("9:16", "720p", 4)
    with pytest.raises(UnsupportedRequest, match="does not accept a extend input"):
        run(home, veo(model="veo-3.1-lite", extend_video=take.job_id))
    assert fake.creates == 1
