"""Provenance of raw takes (what `promptreel generate` downloads, never conformed) and reading credentials
with the network off: a manifest kept at a URL is reported, not fetched."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import c2pa

from promptreel.core.cli import main
from promptreel.core.credentials import AI_GENERATED, Signing, read_credentials
from promptreel.core.journal import Journal
from promptreel.core.provenance import record_take, sidecar_path
from promptreel.core.request import file_sha256
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.credentials import sandbox_chain
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
    row = journal.credentials(sha)
    assert (row["role"], row["job_id"], row["path"], row["manifest_label"]) == (
        "original", jobs["veo-3.1"].id, str(veo), found.label)
    assert row["manifest"]["active_manifest"] == found.label
    journal.close()

    # ... and in a sidecar beside it: model, route, prompt hash, job id, the file's hash, the manifest.
    side = json.loads(sidecar_path(veo).read_text())
    assert sidecar_path(veo) == veo.with_name(f"{jobs['veo-3.1'].id}.provenance.json")
    assert side["marks"] == {"ai_generated": "1", "model": "veo-3.1", "route": jobs["veo-3.1"].route_key,
                             "job_id": jobs["veo-3.1"].id, "prompt_sha256": hashlib.sha256(PROMPT.encode()).hexdigest(),
                             "original_sha256": sha}
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
    manifest = {"claim_generator_info": [{"name": "Remote Studio"}], "title": path.name,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": AI_GENERATED}]}}]}
    chain = sandbox_chain()
    out = io.BytesIO()
    with c2pa.Signer.from_info(c2pa.C2paSignerInfo("es256", chain.chain, chain.key, None)) as signer, \
            c2pa.Builder(manifest) as builder:
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
        job_id = journal.add_job(batch_id="batch_1", request={"prompt": PROMPT}, cache_key="k", variant=0,
                                 model="veo-3", route_key="gemini:veo-3.0-generate-001", estimated_cost=0.0)
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
