"""`promptreel provenance FILE`: the chain from a conformed clip back to the provider's original and
its content credentials (core/provenance.py); `--sign` gives the clip a C2PA manifest of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def _credentials(c: dict[str, Any] | None, indent: str) -> list[str]:
    if c is None:
        return [f"{indent}content credentials: none"]
    if c.get("remote_url"):
        return [f"{indent}content credentials: remote manifest at {c['remote_url']}, not fetched"]
    lines = [f"{indent}content credentials: {c['label'] or '(unreadable)'}"]
    if c["generator"]:
        lines.append(f"{indent}  made by {c['generator']}")
    if c["signer"]:
        lines.append(f"{indent}  signed by {c['signer']}" + (f" at {c['signed_at']}" if c["signed_at"] else ""))
    failures = f" ({', '.join(c['failures'])})" if c["failures"] else ""
    lines.append(f"{indent}  validation: {c['validation']}{failures}")
    lines.append(f"{indent}  AI-generated per the manifest: {'yes' if c['ai_generated'] else 'not stated'}")
    for i in c["ingredients"]:
        lines.append(f"{indent}  ingredient: {i['title']} ({i['relationship']}), manifest {i['manifest'] or 'none'}")
    return lines


def describe(found: dict[str, Any]) -> list[str]:
    """The chain in words, clip first."""
    lines = [found["file"], f"  sha256 {found['sha256']}"]
    if found["disclosure"]:
        lines.append(f"  {found['disclosure']}")
    marks, job = found["marks"], found["job"]
    if marks:
        lines.append(f"  model {marks['model']}, route {marks['route']}, prompt sha256 {marks['prompt_sha256']}")
    if job:
        lines.append(
            f"  job {job['job_id']} ({job['state']}, {job['created_at']})"
            + (f", provider job {job['provider_job_id']}" if job["provider_job_id"] else "")
        )
    elif marks:
        lines.append(f"  job {marks['job_id']} (not in this journal)")
    if found["role"] == "conformed":
        lines += _credentials(found["clip_credentials"], "  ")
        lines.append(f"  sidecar: {found['sidecar'] or 'none'}")
        o = found["original"]
        lines.append(f"original: {o['path'] or '(not found)'} [{o['status']}]")
        lines.append(f"  sha256 {o['sha256']}")
        source = " (as recorded in the journal)" if o["credentials_from"] == "journal" else ""
        lines += [line + source if n == 0 else line for n, line in enumerate(_credentials(o["credentials"], "  "))]
    else:
        lines.append("  this is the provider's original, untouched")
        lines += _credentials(found["original"]["credentials"], "  ")
    lines += [f"problem: {p}" for p in found["problems"]]
    return lines


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--sign",
    is_flag=True,
    help="Sign FILE with a new C2PA manifest naming its original as ingredient (certificate from --cert and "
    "--key, else signing_cert and signing_key in settings.toml).",
)
@click.option("--cert", type=click.Path(path_type=Path), help="Certificate chain (PEM, end-entity first) for --sign.")
@click.option("--key", type=click.Path(path_type=Path), help="Private key (PEM) of --cert.")
def provenance(file: Path, as_json: bool, sign: bool, cert: Path | None, key: Path | None) -> None:
    """Trace a conformed clip or a raw take back to the provider's original and its content credentials."""
    from ..c2pa import Signing, trust_anchors
    from ..errors import BadInput
    from ..journal import Journal
    from ..provenance import chain, sign_clip
    from ..settings import load_settings

    settings = load_settings()
    anchors = trust_anchors(settings)
    signing = None
    if sign or cert or key:
        if bool(cert) != bool(key):
            raise BadInput("--cert and --key go together.", "Pass both, or neither to use settings.toml.")
        signing = Signing.from_files(cert, key) if cert and key else Signing.from_settings(settings)
        if signing is None:
            raise BadInput(
                "No signing certificate was given.",
                "Pass --cert and --key, or set signing_cert and signing_key in settings.toml.",
            )
    journal = Journal.open_default()
    try:
        found = sign_clip(file, journal, signing, anchors) if signing else chain(file, journal, anchors)
    finally:
        journal.close()
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        click.echo("\n".join(describe(found)))
