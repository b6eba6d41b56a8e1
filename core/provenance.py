"""Where a generated clip came from, carried with it and recorded: the chain from a conformed clip
back to the provider's original and the original's content credentials.

For every take the engine finishes (a raw take from `promptreel generate`, or one a fill goes on to
conform), the take stays as the provider sent it; its credentials are recorded in the journal and in a
sidecar beside it (`<job>.provenance.json`), with the same marks (`record_take`).

For every clip a fill conforms:
- the original download stays untouched beside the clip (`<job>.original.mp4`: a hard link, else a copy);
- the original's C2PA credentials are read and recorded in the journal (`credentials`, by content
  hash) and in a sidecar next to the clip (`<clip>.provenance.json`);
- the clip is marked wherever promptreel writes metadata (container tags here; OTIO and Resolve
  metadata from the fill's provenance dict) as AI-generated, with model, route, prompt hash, job id
  and the original's hash — or, for the draft model's slates, as not AI-generated;
- with a signing certificate, the clip gets its own C2PA manifest naming the original as ingredient.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .c2pa import Credentials, Signing, read_credentials, summarise
from .errors import BadInput
from .files import write_atomic
from .journal import Job, Journal, now_iso
from .request import file_sha256

TAG = "promptreel_"  # container tag prefix
SIDECAR = ".provenance.json"


def is_ai_generated(model: str) -> bool:
    """The draft model renders a slate locally (text on a test pattern): not generated footage."""
    return model != "draft"


def prompt_sha256(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Marks:
    """What every generated clip says about itself, wherever promptreel writes metadata."""

    ai_generated: bool
    model: str
    route: str
    job_id: str  # the job that made the original (a cache hit names the job it reused)
    prompt_sha256: str
    original_sha256: str

    @classmethod
    def of(cls, job: Job, original: Path) -> Marks:
        return cls(
            is_ai_generated(job.model),
            job.model,
            job.route_key,
            job.id,
            prompt_sha256(job.request.get("prompt", "")),
            file_sha256(original),
        )

    @property
    def disclosure(self) -> str:
        if self.ai_generated:
            return f"AI-generated video: {self.model} via {self.route}, promptreel job {self.job_id}."
        return f"Draft slate rendered by promptreel, not AI-generated footage (job {self.job_id})."

    def fields(self) -> dict[str, str]:
        """Flat strings: the container tags (prefixed), the signed manifest's assertion, the sidecar."""
        return {**{k: str(v) for k, v in asdict(self).items()}, "ai_generated": "1" if self.ai_generated else "0"}

    def tags(self) -> dict[str, str]:
        """Container metadata for the conformed file: `comment` (which players and NLEs show) says it in words."""
        return {"comment": self.disclosure, **{TAG + k: v for k, v in self.fields().items()}}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Marks | None:
        try:
            return cls(
                ai_generated=fields["ai_generated"] == "1",
                **{k: fields[k] for k in ("model", "route", "job_id", "prompt_sha256", "original_sha256")},
            )
        except KeyError:
            return None

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Marks | None:
        # Matroska writes tag names in upper case.
        return cls.from_fields({k.lower()[len(TAG) :]: v for k, v in tags.items() if k.lower().startswith(TAG)})


def container_tags(path: Path) -> dict[str, str]:
    import av

    try:
        with av.open(str(path)) as container:
            return dict(container.metadata)
    except (av.FFmpegError, OSError):
        return {}


def original_path(take: Path, clip: Path) -> Path:
    return clip.parent / f"{take.stem}.original{take.suffix}"


def sidecar_path(clip: Path) -> Path:
    return clip.with_suffix(SIDECAR)


def keep_original(take: Path, clip: Path) -> Path:
    """The provider's original beside `clip`, byte for byte: a hard link to the engine's take, or a copy
    where the two folders are on different file systems (or links are not allowed)."""
    dest = original_path(take, clip)
    if dest.exists() and (os.path.samefile(dest, take) or file_sha256(dest) == file_sha256(take)):
        return dest
    temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}")
    try:
        try:
            os.link(take, temp)
        except OSError:
            shutil.copy2(take, temp)
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    return dest


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def record_take(journal: Journal, take: Path, job: Job, anchors: bytes | None = None, refetched: bool = False) -> Path:
    """A finished take, untouched: read its credentials (never over the network), record them in the journal
    as the original of `job`, and write the sidecar beside it. Returns the sidecar's path.

    `refetched`: the take is this seat's copy of `job`'s take, downloaded again (`resume --refetch`) at no
    charge. Its sidecar says so; the journal's row of the same content, from the seat that made it, is kept."""
    take = Path(take)
    marks = Marks.of(job, take)
    found = read_credentials(take, anchors)
    if not refetched or journal.c2pa_record(marks.original_sha256) is None:
        journal.record_c2pa(
            marks.original_sha256,
            job_id=job.id,
            role="original",
            path=take.resolve(),
            label=found.label if found else None,
            validation=found.validation if found else None,
            manifest=found.store if found else None,
        )
    sidecar = sidecar_path(take)
    _write_json(
        sidecar,
        {
            "disclosure": marks.disclosure,
            "marks": marks.fields(),
            "role": "original",
            "original": {
                "file": take.name,
                "sha256": marks.original_sha256,
                "credentials": found and found.summary(),
                "manifest_store": found.store if found else None,
            },
            **(
                {"refetched": {"copy_of": job.id, "model": job.model, "cost": 0.0, "fetched_at": now_iso()}}
                if refetched
                else {}
            ),
        },
    )
    return sidecar


@dataclass(frozen=True)
class Recorded:
    original: Path
    sidecar: Path
    credentials: Credentials | None  # the original's
    clip_credentials: Credentials | None  # the clip's own (after signing)


def record(
    journal: Journal, clip: Path, take: Path, marks: Marks, signing: Signing | None = None, anchors: bytes | None = None
) -> Recorded:
    """Keep the original beside `clip`, read and record its credentials (trusting `anchors`), sign `clip`
    when a certificate is given (and it is not signed yet), and write the sidecar. Raises BadInput if
    signing fails."""
    clip = Path(clip)
    original = keep_original(Path(take), clip)
    found = read_credentials(original, anchors)
    journal.record_c2pa(
        marks.original_sha256,
        job_id=marks.job_id,
        role="original",
        path=original.resolve(),
        label=found.label if found else None,
        validation=found.validation if found else None,
        manifest=found.store if found else None,
    )
    own = read_credentials(clip, anchors)
    if own is None and signing is not None:
        signing.sign(clip, original, marks.ai_generated, marks.fields())
        own = read_credentials(clip, anchors)
    clip_sha = file_sha256(clip)
    journal.record_c2pa(
        clip_sha,
        job_id=marks.job_id,
        role="conformed",
        path=clip.resolve(),
        parent_sha256=marks.original_sha256,
        label=own.label if own else None,
        validation=own.validation if own else None,
        manifest=own.store if own else None,
    )
    sidecar = sidecar_path(clip)
    _write_json(
        sidecar,
        {
            "disclosure": marks.disclosure,
            "marks": marks.fields(),
            "clip": {"file": clip.name, "sha256": clip_sha, "credentials": own and own.summary()},
            "original": {
                "file": original.name,
                "sha256": marks.original_sha256,
                "credentials": found and found.summary(),
                "manifest_store": found.store if found else None,
            },
        },
    )
    return Recorded(original, sidecar, found, own)


# --- the chain back ------------------------------------------------------------------------------


def _read_sidecar(clip: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(sidecar_path(clip).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _find_original(clip: Path, sha256: str, candidates: list[Path]) -> tuple[Path | None, str]:
    """(path, status): "found" (content matches the record), "changed" (a file is there, other bytes), "missing"."""
    changed = None
    for path in candidates:
        if path.is_file():
            if file_sha256(path) == sha256:
                return path, "found"
            changed = changed or path
    return changed, "changed" if changed else "missing"


def chain(path: Path, journal: Journal, anchors: bytes | None = None) -> dict[str, Any]:
    """From a conformed clip (or an original: a raw take, or the original kept beside a clip) back to the
    provider's original and its credentials.

    The clip is recognised by its container tags, its sidecar, or its content hash in the journal,
    whichever is there; the original is looked for beside the clip and where the journal saw it."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise BadInput(f"There is no file {path}.", "Give the path of a clip promptreel conformed.")
    sha = file_sha256(path)
    row = journal.c2pa_record(sha)
    sidecar = _read_sidecar(path)
    marks = Marks.from_tags(container_tags(path))
    if marks is None and sidecar is not None:
        marks = Marks.from_fields(sidecar.get("marks", {}))
    job_id = marks.job_id if marks else row and row["job_id"]
    # A raw take is an original: the journal says so, or (another journal) its own sidecar does.
    is_original = (
        row["role"] == "original"
        if row is not None
        else sidecar is not None and sidecar.get("role") == "original" and sidecar["original"]["sha256"] == sha
    )
    original_sha = sha if is_original else (marks.original_sha256 if marks else row and row["parent_sha256"])
    if not job_id or not original_sha:
        raise BadInput(
            f"{path.name} carries no promptreel provenance: no promptreel tags, no sidecar, and the "
            "journal has no record of its content.",
            "Give a clip promptreel conformed (or the .original file beside it).",
        )
    job = journal.get(job_id)
    if marks is None and job is not None:  # tags and sidecar gone: the journal still knows the job
        marks = Marks(
            is_ai_generated(job.model),
            job.model,
            job.route_key,
            job.id,
            prompt_sha256(job.request.get("prompt", "")),
            original_sha,
        )

    recorded = journal.c2pa_record(original_sha)
    candidates = [path] if is_original else []
    if sidecar is not None:
        candidates.append(path.parent / sidecar["original"]["file"])
    candidates += sorted(path.parent.glob(f"{job_id}.original.*"))
    candidates += [Path(p) for p in (recorded and recorded["path"], job and job.output_path) if p]
    original, status = _find_original(path, original_sha, candidates)
    if original is not None and status == "found":
        live = read_credentials(original, anchors)
        credentials, source = (live.summary() if live else None), "file"
    elif recorded is not None and recorded["manifest"] is not None:
        credentials, source = summarise(recorded["manifest"], recorded["validation"]).summary(), "journal"
    else:
        credentials, source = None, None

    own = None if is_original else read_credentials(path, anchors)
    checks = []
    if status != "found":
        checks.append(f"the original ({original_sha[:12]}…) is {status}")
    if own is not None and credentials and credentials.get("label"):
        named = {i.get("manifest") for i in own.ingredients}
        if credentials["label"] not in named:
            checks.append("the clip's own manifest does not name the original's manifest as an ingredient")
    return {
        "file": str(path),
        "sha256": sha,
        "role": "original" if is_original else "conformed",
        "ai_generated": marks.ai_generated if marks else None,
        "disclosure": marks.disclosure if marks else None,
        "marks": marks.fields() if marks else None,
        "clip_credentials": own.summary() if own else None,
        "sidecar": str(sidecar_path(path)) if sidecar is not None else None,
        "refetched": sidecar.get("refetched") if sidecar is not None else None,  # a seat's copy, downloaded again
        "job": None
        if job is None
        else {
            "job_id": job.id,
            "model": job.model,
            "route": job.route_key,
            "provider_job_id": job.provider_job_id,
            "state": job.state.value,
            "created_at": job.created_at,
        },
        "original": {
            "path": str(original) if original else None,
            "sha256": original_sha,
            "status": status,
            "credentials": credentials,
            "credentials_from": source,
        },
        "problems": checks,
    }


def made_by_us(path: Path, journal: Journal, anchors: bytes | None = None) -> tuple[Marks, Path | None] | None:
    """For a clip conformed again (`promptreel conform` of a take, or of a clip a fill made): its marks and its
    original (None when the original is missing or changed), to carry onto the new clip. None for a file
    promptreel did not make."""
    try:
        found = chain(path, journal, anchors)
    except BadInput:
        return None
    marks = Marks.from_fields(found["marks"]) if found["marks"] is not None else None
    if marks is None:
        return None
    original = found["original"]
    return marks, Path(original["path"]) if original["status"] == "found" else None


def sign_clip(clip: Path, journal: Journal, signing: Signing, anchors: bytes | None = None) -> dict[str, Any]:
    """Sign a conformed clip after the fact (a fill signs on its own when settings name a certificate),
    then answer its chain."""
    found = chain(clip, journal, anchors)
    name = Path(found["file"]).name
    if found["role"] == "original":
        raise BadInput(
            f"{name} is a provider's original; promptreel keeps originals untouched.",
            "Sign the conformed clip made from it.",
        )
    if found["clip_credentials"] is not None:
        raise BadInput(
            f"{name} already carries C2PA credentials ({found['clip_credentials']['label']}).",
            "Nothing to sign: `promptreel provenance` shows them.",
        )
    original = found["original"]
    marks = Marks.from_fields(found["marks"]) if found["marks"] is not None else None
    if original["status"] != "found" or marks is None:
        raise BadInput(
            f"The original of {name} is {original['status']}: a new manifest must name it as its ingredient.",
            f"Put the original (sha256 {original['sha256']}) back beside the clip as "
            f"{found['job']['job_id'] if found['job'] else 'its job id'}.original.mp4, then sign again.",
        )
    record(journal, Path(found["file"]), Path(original["path"]), marks, signing, anchors)
    return chain(clip, journal, anchors)
