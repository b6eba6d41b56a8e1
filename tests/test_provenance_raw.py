"""Provenance of raw takes (what `promptreel generate` downloads, never conformed) and reading credentials
with the network off: a manifest kept at a URL is reported, not fetched."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import c2pa

from promptreel.core.c2pa import AI_GENERATED, Signing, read_credentials
from promptreel.core.cli import main
from promptreel.core.journal import Journal
from promptreel.core.provenance import record_take, sidecar_path
from promptreel.core.request import file_sha256
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.c2pa import sandbox_chain
from promptreel.core.sandbox.loopback import LoopbackServer, Reply
from tests.engine_env import make_clip

PROMPT = "a red kite over the dunes"


def test_generate_records_the_credentials_of_raw_takes_and_leaves_them_untouched(isolated_home, no_poll_waits, capsys):
    (isolated_home / "settings.toml").write_text(f'output_dir = "{isolated_home / "media"}"\n')
    with sandbox(routes=["vertex"], limit=SMALL, export=True):
        assert main(["generate", PROMPT, "--models", "veo-3.1,draft", "--seconds", "8", "--json"]) == 0
    capsys.readouterr()
    journal = Journal.open_default()
    jobs = {j.model: j for j in journal.jobs()}
    veo, draft = Path(jobs["veo-3.1"].output_path), Path(jobs["draft"].output_path)

    # The take is the provider's file, untouched: its manifest's hash of the content still holds (the only
    # failure is the sandbox's root, on no trust list).
    sha = file_sha256(veo)
    found = read_credentials(veo)
    assert found.ai_generated and found.generator.startswith("Google Veo") and found.validation == "Valid"
    assert found.failures == ["signingCredential.untrusted"]

    # Recorded in the journal as the original of its job ...
    row = journal.c2pa_record(sha)
    assert (row["role"], row["job_id"], row["path"], row["manifest_label"]) == (
        "original",
        jobs["veo-3.1"].id,
        str(veo),
        found.label,
    )
    assert row["manifest"]["active_manifest"] == found.label
    journal.close()

    # ... and in a sidecar beside it: model, route, prompt hash, job id, the file's hash, the manifest.
    side = json.loads(sidecar_path(veo).read_text())
    assert sidecar_path(veo) == veo.with_name(f"{jobs['veo-3.1'].id}.provenance.json")
    assert side["marks"] == {
        "ai_generated": "1",
        "model": "veo-3.1",
        "route": jobs["veo-3.1"].route_key,
        "job_id": jobs["veo-3.1"].id,
        "prompt_sha256": hashlib.sha256(PROMPT.encode()).hexdigest(),
        "original_sha256": sha,
    }
    assert side["role"] == "original" and side["original"]["sha256"] == sha and side["original"]["file"] == veo.name
    assert side["original"]["credentials"]["label"] == found.label
    assert side["original"]["manifest_store"]["active_manifest"] == found.label
    assert side["disclosure"].startswith("AI-generated video: veo-3.1")

    # The draft model's slate: recorded too, as what it is.
    slate = json.loads(sidecar_path(draft).read_text())
    assert slate["marks"]["ai_generated"] == "0" and slate["original"]["credentials"] is None
    assert "not AI-generated" in slate["disclosure"]

    # The chain of a raw take, from the command line.
    assert main(["provenance", str(veo)]) == 0
    out = capsys.readouterr().out
    assert "this is the provider's original, untouched" in out and f"content credentials: {found.label}" in out
    assert "AI-generated video: veo-3.1" in out and "Google Veo" in out and f"job {jobs['veo-3.1'].id}" in out
    assert main(["provenance", str(veo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["role"] == "original" and data["original"]["status"] == "found" and data["problems"] == []

    # With the journal gone (another machine), the sidecar still names the take's job and marks.
    (isolated_home / "journal.sqlite").rename(isolated_home / "old.sqlite")
    assert main(["provenance", str(veo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["role"] == "original" and data["marks"]["job_id"] == jobs["veo-3.1"].id
    assert data["original"]["credentials"]["label"] == found.label


def remote_manifest_file(path: Path, url: str) -> bytes:
    """An MP4 whose C2PA manifest is not in the file but at `url` (as a CDN keeps it); returns the manifest."""
    manifest = {
        "claim_generator_info": [{"name": "Remote Studio"}],
        "title": path.name,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}]},
            }
        ],
    }
    chain = sandbox_chain()
    out = io.BytesIO()
    with (
        c2pa.Signer.from_info(c2pa.C2paSignerInfo("es256", chain.chain, chain.key, None)) as signer,
        c2pa.Builder(manifest) as builder,
    ):
        builder.set_no_embed()
        builder.set_remote_url(url)
        store = builder.sign(signer, "video/mp4", io.BytesIO(make_clip(path.with_suffix(".src.mp4"))), out)
    path.write_bytes(out.getvalue())
    return store


def test_a_remote_manifest_is_reported_and_never_fetched(isolated_home, tmp_path, capsys):
    with LoopbackServer() as server:
        url = f"{server.url}/manifests/take.c2pa"
        media = tmp_path / "take.mp4"
        store = remote_manifest_file(media, url)
        server.route("GET", "/manifests/take.c2pa")(lambda call: Reply(200, store))

        # c2pa's defaults would fetch it (what this test guards against): the server hears that.
        with c2pa.Reader.try_create(str(media)) as reader:
            assert reader.get_remote_url() == url
        assert [c.path for c in server.calls] == ["/manifests/take.c2pa"]
        server.calls.clear()

        found = read_credentials(media)
        assert (found.validation, found.remote_url, found.label) == ("remote", url, None)

        # Recorded as a raw take, traced from the command line, and used as a signed clip's ingredient.
        journal = Journal.open_default()
        job_id = journal.add_job(
            batch_id="batch_1",
            request={"prompt": PROMPT},
            cache_key="k",
            variant=0,
            model="veo-3",
            route_key="gemini:veo-3.0-generate-001",
            estimated_cost=0.0,
        )
        record_take(journal, media, journal.get(job_id))
        journal.close()
        assert json.loads(sidecar_path(media).read_text())["original"]["credentials"]["remote_url"] == url
        assert main(["provenance", str(media)]) == 0
        assert f"content credentials: remote manifest at {url}, not fetched" in capsys.readouterr().out

        studio = sandbox_chain()
        clip = tmp_path / "clip.mp4"
        make_clip(clip)
        Signing(studio.chain, studio.key, "es256").sign(clip, media, True, {"job_id": job_id})
        assert read_credentials(clip).ingredients[0]["title"] == "take.mp4"

        assert server.calls == []  # nothing was sent, by any of it


def cli(*args) -> int:
    return main([str(a) for a in args])


def test_standalone_conform_carries_the_provenance_of_a_take_and_of_a_clip_made_from_one(
    isolated_home, no_poll_waits, capsys, tmp_path
):
    from promptreel.core.provenance import container_tags

    (isolated_home / "settings.toml").write_text(f'output_dir = "{isolated_home / "media"}"\n')
    with sandbox(routes=["vertex"], limit=SMALL, export=True):
        assert main(["generate", PROMPT, "--model", "veo-3.1", "--seconds", "8", "--json"]) == 0
    capsys.readouterr()
    (job,) = Journal.open_default().jobs()
    take = Path(job.output_path)
    signed = read_credentials(take)

    first = tmp_path / "cut" / "kite.mov"
    first.parent.mkdir()
    assert cli("conform", take, "-o", first, "--frames", "12", "--fps", "24", "--size", "320x180") == 0
    out = capsys.readouterr().out
    assert "AI-generated video: veo-3" in out and f"its C2PA manifest: {signed.label}" in out
    # From that clip again (a different size): the chain still leads to the same original.
    second = tmp_path / "cut" / "kite small.mov"
    assert cli("conform", first, "-o", second, "--size", "160x90", "--json") == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["provenance"]["ai_generated"] is True and result["provenance"]["job_id"] == job.id

    for clip in (first, second):
        tags = container_tags(clip)
        assert tags["promptreel_ai_generated"] == "1" and tags["promptreel_job_id"] == job.id
        assert tags["comment"].startswith("AI-generated video: veo-3")
        original = clip.parent / f"{take.stem}.original{take.suffix}"
        assert file_sha256(original) == file_sha256(take) == tags["promptreel_original_sha256"]
        assert cli("provenance", clip, "--json") == 0
        found = json.loads(capsys.readouterr().out)
        assert found["role"] == "conformed" and found["ai_generated"] is True
        assert found["original"]["status"] == "found" and found["original"]["credentials"]["label"] == signed.label
        assert found["job"]["job_id"] == job.id and found["problems"] == []
        assert json.loads(sidecar_path(clip).read_text())["original"]["sha256"] == file_sha256(take)


def test_standalone_conform_of_a_file_promptreel_did_not_make_adds_no_marks(isolated_home, capsys, tmp_path):
    from promptreel.core.provenance import container_tags

    source = tmp_path / "plate.mp4"
    make_clip(source)
    out = tmp_path / "plate.mov"
    assert cli("conform", source, "-o", out, "--frames", "12") == 0
    assert "AI-generated" not in capsys.readouterr().out
    assert not any(k.startswith("promptreel_") for k in container_tags(out)) and not sidecar_path(out).exists()


def test_a_clip_whose_original_is_gone_is_still_marked_when_conformed_again(
    isolated_home, no_poll_waits, capsys, tmp_path
):
    from promptreel.core.provenance import container_tags

    (isolated_home / "settings.toml").write_text(f'output_dir = "{isolated_home / "media"}"\n')
    with sandbox(routes=["vertex"], limit=SMALL, export=True):
        assert main(["generate", PROMPT, "--model", "veo-3.1", "--seconds", "8", "--json"]) == 0
    (job,) = Journal.open_default().jobs()
    take = Path(job.output_path)
    first = tmp_path / "kite.mov"
    assert cli("conform", take, "-o", first, "--frames", "12", "--size", "320x180") == 0
    for original in (take, first.parent / f"{take.stem}.original{take.suffix}"):
        original.unlink()
    capsys.readouterr()
    again = tmp_path / "again.mov"
    assert cli("conform", first, "-o", again, "--size", "160x90") == 0
    err = capsys.readouterr().err
    assert "note: The original of this clip" in err and "was not found" in err
    assert container_tags(again)["promptreel_job_id"] == job.id
