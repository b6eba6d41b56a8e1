"""Provenance end to end: the sandbox's Veo serves a C2PA-signed MP4 (a real manifest, signed with a
throwaway chain), a fill conforms it, and the original, its credentials, the sidecar, the marks, the
chain back and the signing of the conformed clip are all checked for real (c2pa-python, ffmpeg)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from promptreel.core.c2pa import Signing, read_credentials
from promptreel.core.catalog import default_catalog
from promptreel.core.cli import main
from promptreel.core.conform.execute import conform
from promptreel.core.conform.probe import probe
from promptreel.core.conform.target import Target
from promptreel.core.engine import Engine
from promptreel.core.errors import BadInput, UnsupportedRequest
from promptreel.core.journal import Journal
from promptreel.core.made import MadeClip, Provenance
from promptreel.core.provenance import Marks, chain, container_tags, keep_original, sidecar_path
from promptreel.core.request import Slot, file_sha256
from promptreel.core.sandbox import SMALL, sandbox
from promptreel.core.sandbox.c2pa import make_chain
from promptreel.core.settings import load_settings
from promptreel.core.slots import FillSettings, fill_slots
from promptreel.resolve_plugin.clipmaker import provenance as resolve_metadata
from tests.engine_env import make_clip

KITE = Slot(
    frames=12, rate=Fraction(24), size="320x180", prompt="a red kite over the dunes", model="veo-3.1", name="SH010"
)
SLATE = Slot(frames=12, rate=Fraction(24), size="320x180", prompt="a paper boat", model="draft", name="SH020")


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A signing certificate a user would supply: PEM chain and key files, and the root of its (throwaway)
    CA, which is not the sandbox's."""
    chain_ = make_chain("Test Studio signer", "Test Studio")
    folder = tmp_path_factory.mktemp("studio")
    for name, data in (("chain.pem", chain_.chain), ("key.pem", chain_.key), ("root.pem", chain_.root)):
        (folder / name).write_bytes(data)
    return folder / "chain.pem", folder / "key.pem", folder / "root.pem"


def fill(home: Path, slots=(KITE, SLATE), **settings) -> list:
    """A fill through the real engine against the sandbox's Vertex Veo fake, with `settings` in settings.toml."""
    (home / "settings.toml").write_text("".join(f'{k} = "{v}"\n' for k, v in settings.items()))

    async def fast(seconds: float) -> None:
        await asyncio.sleep(0.01)

    with sandbox(routes=["vertex"], limit=SMALL, export=True):
        journal = Journal.open_default()
        engine = Engine(default_catalog(), journal, load_settings())
        engine.sleep = fast
        try:
            return asyncio.run(fill_slots(list(slots), FillSettings(output_dir=home / "conformed"), engine=engine))
        finally:
            journal.close()


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["provenance", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fill_keeps_the_original_records_its_credentials_and_marks_the_clip(isolated_home, capsys):
    kite, slate = fill(isolated_home)
    assert kite.ok and slate.ok, (kite.error, slate.error)
    journal = Journal.open_default()
    take = Path(journal.get(kite.provenance.job_id).output_path)

    # The original sits beside the clip, byte for byte the engine's take (a hard link here: one file system).
    original = Path(kite.provenance.original)
    assert original == kite.path.parent / f"{take.stem}.original.mp4"
    assert os.path.samefile(original, take) and file_sha256(original) == kite.provenance.original_sha256

    # Its credentials are the provider's: read, recorded in the journal, and in the sidecar.
    found = read_credentials(original)
    assert found.ai_generated and "Google Veo" in found.generator and found.validation == "Valid"
    assert "signingCredential.untrusted" in found.failures  # the sandbox's root is on no trust list
    assert kite.provenance.c2pa == found.label
    row = journal.c2pa_record(kite.provenance.original_sha256)
    assert (row["role"], row["manifest_label"], row["job_id"]) == ("original", found.label, kite.provenance.job_id)
    assert row["manifest"]["active_manifest"] == found.label
    clip_row = journal.c2pa_record(file_sha256(kite.path))
    assert (clip_row["role"], clip_row["parent_sha256"], clip_row["manifest"]) == (
        "conformed",
        kite.provenance.original_sha256,
        None,
    )
    sidecar = json.loads(sidecar_path(kite.path).read_text())
    assert sidecar["original"]["credentials"]["label"] == found.label
    assert sidecar["original"]["manifest_store"]["active_manifest"] == found.label
    assert sidecar["clip"]["sha256"] == file_sha256(kite.path) and sidecar["marks"]["ai_generated"] == "1"

    # The conformed file says what it is in its own container tags.
    tags = container_tags(kite.path)
    prompt_hash = hashlib.sha256(KITE.prompt.encode()).hexdigest()
    assert tags["promptreel_ai_generated"] == "1" and tags["promptreel_model"] == "veo-3.1"
    assert tags["promptreel_route"] == kite.provenance.route == "vertex:veo-3.1-generate-001"
    assert tags["promptreel_job_id"] == kite.provenance.job_id
    assert tags["promptreel_prompt_sha256"] == prompt_hash == kite.provenance.prompt_sha256
    assert tags["promptreel_original_sha256"] == kite.provenance.original_sha256
    assert tags["comment"].startswith("AI-generated video: veo-3.1")
    assert probe(kite.path).frames == KITE.frames  # still exactly the slot

    # The draft model's slate is marked as what it is: not AI-generated footage, and unsigned by anyone.
    slate_tags = container_tags(slate.path)
    assert slate.provenance.ai_generated is False and slate_tags["promptreel_ai_generated"] == "0"
    assert "not AI-generated" in slate_tags["comment"] and slate.provenance.c2pa is None
    journal.close()

    # The chain back, as the editor reads it.
    code, out, _ = cli(capsys, kite.path)
    assert code == 0
    assert "AI-generated video: veo-3.1" in out and f"original: {original} [found]" in out
    assert f"content credentials: {found.label}" in out and "Google Veo" in out and "untrusted" in out
    code, out, _ = cli(capsys, kite.path, "--json")
    data = json.loads(out)
    assert "/models/veo-3.1-generate-001/operations/" in data["job"]["provider_job_id"]
    assert data["original"]["credentials"]["label"] == found.label and data["problems"] == []
    code, out, _ = cli(capsys, original, "--json")  # an original names itself
    assert json.loads(out)["role"] == "original" and json.loads(out)["original"]["status"] == "found"


def test_the_chain_holds_when_the_sidecar_and_the_original_go_missing(isolated_home):
    (kite,) = fill(isolated_home, [KITE])
    journal = Journal.open_default()
    try:
        label = kite.provenance.c2pa
        sidecar_path(kite.path).unlink()
        Path(kite.provenance.original).unlink()
        found = chain(kite.path, journal)  # the tags name the job; the engine's take is the same bytes
        assert found["original"]["status"] == "found" and found["original"]["credentials"]["label"] == label

        take = Path(journal.get(kite.provenance.job_id).output_path)
        take.unlink()
        found = chain(kite.path, journal)
        assert found["original"]["status"] == "missing" and found["original"]["path"] is None
        assert found["original"]["credentials_from"] == "journal"  # what was read when it was there
        assert found["original"]["credentials"]["label"] == label and found["original"]["credentials"]["ai_generated"]
        assert found["problems"] and "missing" in found["problems"][0]

        stranger = isolated_home / "stranger.mp4"
        stranger.write_bytes(b"\0" * 64)
        with pytest.raises(BadInput, match="no promptreel provenance"):
            chain(stranger, journal)
    finally:
        journal.close()


def test_a_supplied_certificate_signs_the_clip_naming_the_original(isolated_home, studio, capsys):
    cert, key, root = studio
    kite, slate = fill(isolated_home, signing_cert=cert, signing_key=key, c2pa_trust_anchors=root)
    own, original = read_credentials(kite.path, root.read_bytes()), read_credentials(Path(kite.provenance.original))
    assert own is not None and kite.provenance.signed == own.label
    assert own.signer.startswith("Test Studio signer") and own.ai_generated
    assert own.validation == "Trusted" and read_credentials(kite.path).validation == "Valid"  # trusted per the anchors
    assert own.ingredients == [
        {"title": Path(kite.provenance.original).name, "relationship": "parentOf", "manifest": original.label}
    ]
    promptreel = next(
        a for a in own.store["manifests"][own.label]["assertions"] if a["label"] == "org.promptreel.provenance"
    )
    assert promptreel["data"]["original_sha256"] == kite.provenance.original_sha256
    # Signing kept the clip exact and its tags.
    info = probe(kite.path)
    assert (info.frames, info.rate, info.width) == (KITE.frames, KITE.rate, 320)
    assert container_tags(kite.path)["promptreel_job_id"] == kite.provenance.job_id
    # A slate is signed too, and its manifest does not call it AI-generated.
    assert read_credentials(slate.path).ai_generated is False

    journal = Journal.open_default()
    try:
        found = chain(kite.path, journal)
        assert found["clip_credentials"]["label"] == own.label and found["problems"] == []
        assert found["clip_credentials"]["validation"] == "Valid"  # chain() without anchors
        row = journal.c2pa_record(file_sha256(kite.path))
        assert (row["manifest_label"], row["validation"]) == (own.label, "Trusted")  # the fill read it with them
    finally:
        journal.close()
    code, out, _ = cli(capsys, kite.path)  # the command reads the anchors from settings
    assert code == 0 and "validation: Trusted" in out and "validation: Valid (signingCredential.untrusted)" in out
    code, _, err = cli(capsys, kite.path, "--sign")
    assert code == 2 and "already carries C2PA credentials" in err


def test_sign_after_the_fact_from_the_command_line(isolated_home, studio, capsys):
    cert, key, _ = studio
    (kite,) = fill(isolated_home, [KITE])
    assert read_credentials(kite.path) is None
    code, out, err = cli(capsys, kite.path, "--sign", "--cert", cert, "--key", key, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["clip_credentials"]["signer"].startswith("Test Studio signer")
    assert [i["manifest"] for i in data["clip_credentials"]["ingredients"]] == [kite.provenance.c2pa]
    assert (
        json.loads(sidecar_path(kite.path).read_text())["clip"]["credentials"]["label"]
        == data["clip_credentials"]["label"]
    )
    code, _, err = cli(capsys, kite.path, "--cert", cert)
    assert code == 2 and "--cert and --key go together" in err


def test_an_original_is_copied_where_it_cannot_be_linked(tmp_path, monkeypatch):
    take = tmp_path / "engine" / "job_1.mp4"
    take.parent.mkdir()
    take.write_bytes(b"the provider's bytes")
    clip = tmp_path / "conformed" / "job_1-abcd.mov"
    clip.parent.mkdir()

    def cross_device(src, dst):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    kept = keep_original(take, clip)
    assert kept == clip.parent / "job_1.original.mp4" and kept.read_bytes() == take.read_bytes()
    assert not os.path.samefile(kept, take) and keep_original(take, clip) == kept
    assert sorted(p.name for p in clip.parent.iterdir()) == ["job_1.original.mp4"]  # no temporary left


def test_signing_refusals(isolated_home, studio, tmp_path):
    cert, key, _ = studio
    other = make_chain("Someone else")
    (tmp_path / "other.pem").write_bytes(other.key)
    with pytest.raises(BadInput, match="does not belong"):
        Signing.from_files(cert, tmp_path / "other.pem")
    with pytest.raises(BadInput, match="not readable PEM"):
        Signing.from_files(tmp_path / "other.pem", key)
    # Half a configuration is refused before anything is spent.
    with pytest.raises(BadInput, match="only one of signing_cert and signing_key"):
        fill(isolated_home, signing_cert=cert)
    with pytest.raises(BadInput, match="Cannot read c2pa_trust_anchors"):
        fill(isolated_home, c2pa_trust_anchors=tmp_path / "no-such-roots.pem")
    assert Journal.open_default().jobs() == []
    mkv = tmp_path / "clip.mkv"
    mkv.write_bytes(b"not touched")
    with pytest.raises(UnsupportedRequest, match="Conform to .mov or .mp4"):
        Signing.from_files(cert, key).sign(mkv, mkv, True, {})
    assert mkv.read_bytes() == b"not touched"


@pytest.mark.parametrize("codec, ext", [("h264", "mp4"), ("prores", "mov")])
def test_conform_writes_the_target_metadata_as_container_tags(tmp_path, codec, ext):
    source = tmp_path / "source.mp4"
    make_clip(source)
    marks = Marks(True, "veo-3", "gemini:veo-3.0-generate-001", "job_1", "a" * 64, "b" * 64)
    target = Target(
        frames=6,
        rate=Fraction(24),
        size="320x180",
        codec=codec,
        bit_depth=8 if codec == "h264" else 10,
        metadata=marks.tags(),
    )
    out = tmp_path / f"clip.{ext}"
    conform(source, out, target)
    assert Marks.from_tags(container_tags(out)) == marks


def test_resolve_metadata_says_whether_a_clip_is_ai_generated(tmp_path):
    made = MadeClip(
        KITE,
        tmp_path / "a.mov",
        Provenance(model="veo-3", prompt="p", job_id="job_1", prompt_sha256="c" * 64, original_sha256="d" * 64),
    )
    metadata, third = resolve_metadata(made)
    assert metadata["Keywords"] == "AI generated" and third["promptreel.ai_generated"] == "1"
    assert third["promptreel.original_sha256"] == "d" * 64 and third["promptreel.prompt_sha256"] == "c" * 64
    metadata, third = resolve_metadata(
        replace(made, provenance=replace(made.provenance, model="draft", ai_generated=False))
    )
    assert metadata["Keywords"] == "Draft slate, not AI generated" and third["promptreel.ai_generated"] == "0"


def test_the_sandbox_signs_what_veo_and_sora_make_and_no_one_else(tmp_path):
    with sandbox(routes=["openai", "vertex", "runway"], limit=SMALL) as env:
        for route, generator in [("openai", "OpenAI Sora"), ("vertex", "Google Veo"), ("runway", None)]:
            media = tmp_path / f"{route}.mp4"
            media.write_bytes(env.fakes[route].media_of(None))
            found = read_credentials(media)
            if generator is None:
                assert found is None
            else:
                assert found.generator.startswith(generator) and found.ai_generated and found.validation == "Valid"
            assert probe(media).frames == 24  # still the same 1 s of real media
