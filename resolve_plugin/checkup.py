"""Every check `promptreel doctor` runs: Python, ffmpeg (and the filters and encoders promptreel uses),
PyAV, the data folder, the journal, keys (names and where, never values), the model catalog, the models
in use that their vendors have ended or are ending, and the Resolve section (resolve_plugin/doctor.py:
the Scripts entry, the bridge, which mode and why).

Each check says ok, or the problem and its fix; `essential` ones make the command exit non-zero.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from promptreel.core import settings, store
from promptreel.core.errors import UserError

from .doctor import Check
from .editions import Decision

FULL_FFMPEG = (
    "Set PROMPTREEL_FFMPEG to a full ffmpeg build, such as the one imageio-ffmpeg installs "
    '(python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())").'
)
# What promptreel asks of ffmpeg: (kind, names (any one will do), why, essential).
FFMPEG_NEEDS = (
    ("filter", ("drawtext",), "the draft model's slates", True),
    ("encoder", ("libx264", "libopenh264"), "H.264: draft slates and the h264 codec", True),
    ("encoder", ("prores_ks",), "ProRes, the default conform codec", True),
)


def python_check() -> Check:
    v = sys.version_info
    return Check(
        "Python",
        v >= (3, 10),
        f"{v.major}.{v.minor}.{v.micro} at {sys.executable}",
        "" if v >= (3, 10) else "promptreel needs Python 3.10 or later: reinstall it into a newer Python.",
        essential=True,
        section="System",
    )


def _ffmpeg_source(exe: str) -> str:
    if os.environ.get("PROMPTREEL_FFMPEG"):
        return "from PROMPTREEL_FFMPEG"
    return "bundled by imageio-ffmpeg" if "imageio_ffmpeg" in exe else "on PATH"


def _listing(exe: str, what: str) -> str:
    return subprocess.run(
        [exe, "-hide_banner", f"-{what}"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    ).stdout


def ffmpeg_checks() -> list[Check]:
    from promptreel.core.ffmpeg import ffmpeg_exe

    try:
        exe = ffmpeg_exe()
        first = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout.splitlines()
    except UserError as e:
        return [Check("ffmpeg", False, e.problem, e.fix or FULL_FFMPEG, essential=True, section="System")]
    except (OSError, subprocess.SubprocessError) as e:
        return [
            Check(
                "ffmpeg",
                False,
                f"the ffmpeg found does not run ({e.__class__.__name__}: {e})",
                FULL_FFMPEG,
                essential=True,
                section="System",
            )
        ]
    version = (first[0] if first else "unknown version").replace("ffmpeg version ", "")
    out = [
        Check(
            "ffmpeg",
            True,
            f"{exe} ({_ffmpeg_source(exe)}), version {version.split(' ')[0]}",
            essential=True,
            section="System",
        )
    ]
    listings = {"filter": _listing(exe, "filters"), "encoder": _listing(exe, "encoders")}
    for kind, names, why, essential in FFMPEG_NEEDS:
        found = [n for n in names if re.search(rf"\s{re.escape(n)}\s", listings[kind])]
        label = " or ".join(names)
        out.append(
            Check(
                f"ffmpeg {label}",
                bool(found),
                f"{found[0]} ({why})" if found else f"this ffmpeg has no {label} {kind}, needed for {why}",
                "" if found else FULL_FFMPEG,
                essential=essential,
                section="System",
            )
        )
    return out


def pyav_check() -> Check:
    try:
        import av
    except ImportError as e:
        return Check(
            "PyAV",
            False,
            f"not importable ({e})",
            "Reinstall promptreel: pip install --force-reinstall av",
            essential=True,
            section="System",
        )
    return Check("PyAV", True, f"version {av.__version__} (probing media)", essential=True, section="System")


def data_folder_check() -> Check:
    home = settings.home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".doctor-", delete=True):
            pass
    except OSError as e:
        return Check(
            "data folder",
            False,
            f"{home} is not writable ({e.strerror or e})",
            "Set PROMPTREEL_HOME to a folder you can write, or fix the permissions of that folder.",
            essential=True,
            section="promptreel",
        )
    return Check("data folder", True, f"{home} (writable)", essential=True, section="promptreel")


def media_root_check() -> Check | None:
    """The studio's media share (media_root), where one is set: mounted here and writable, or takes the other
    seats made cannot be read on this one."""
    try:
        root = settings.media_root()
    except UserError as e:
        return Check("media root", False, e.problem, e.fix or "", section="promptreel")
    if root is None:
        return None
    fix = "Mount the studio's media share there, or set media_root (or PROMPTREEL_MEDIA_ROOT) to where it is mounted."
    if not root.is_dir():
        return Check(
            "media root", False, f"{root} is not mounted on this seat (no such folder)", fix, section="promptreel"
        )
    if not os.access(root, os.W_OK):
        return Check("media root", False, f"{root} is mounted read-only for this user", fix, section="promptreel")
    return Check("media root", True, f"{root} (mounted, writable)", section="promptreel")


def journal_check() -> Check:
    try:
        target = store.default_target()
    except UserError as e:
        return Check("journal", False, e.problem, e.fix or "", essential=True, section="promptreel")
    if not store.is_postgres(target) and not Path(target).exists():
        return Check(
            "journal",
            True,
            f"{target} not created yet (the first job creates it)",
            essential=True,
            section="promptreel",
        )
    where = store.shown(target)
    try:
        found = store.inspect(target)
    except UserError as e:  # a newer schema, an unreachable server
        return Check("journal", False, e.problem, e.fix or "", essential=True, section="promptreel")
    except store.database_errors() as e:
        return Check(
            "journal",
            False,
            f"{where} cannot be read ({e})",
            "Restore it from a backup if you have one; otherwise move it aside and promptreel starts a "
            "new journal (jobs recorded in the old one can then not be resumed).",
            essential=True,
            section="promptreel",
        )
    jobs = found.jobs
    return Check(
        "journal",
        True,
        f"{where} readable, schema {found.version}, {jobs} job(s) recorded",
        essential=True,
        section="promptreel",
    )


def keys_check() -> Check:
    from promptreel.core.keys import key_sources, known_keys

    where = key_sources()
    found = [f"{name} ({source})" for name, source in where.items() if source]
    if not found:
        return Check(
            "keys",
            False,
            "no API key set: only the free draft model (and local routes) can run",
            f"Set a key with `promptreel keys set NAME` or its environment variable; names: {', '.join(known_keys())}.",
            section="promptreel",
        )
    missing = [n for n, s in where.items() if not s]
    return Check(
        "keys", True, ", ".join(found) + (f"; not set: {', '.join(missing)}" if missing else ""), section="promptreel"
    )


def catalog_check() -> Check:
    from promptreel.core.catalog import load_catalog

    try:
        user_file = settings.load_settings().catalog_file
        catalog = load_catalog(user_file)
    except UserError as e:
        return Check("catalog", False, e.problem, e.fix or "", essential=True, section="promptreel")
    source = (
        f"with your overrides from {user_file}"
        if user_file
        else "as shipped (no override file: set catalog_file in settings.toml to add one)"
    )
    return Check("catalog", True, f"{len(catalog.models)} models, {source}", essential=True, section="promptreel")


def catalog_update_check() -> Check:
    """Which catalog serves (the shipped snapshot or a signed update), and whether that update has expired:
    it keeps serving, but the market it describes has moved on."""
    from datetime import date

    from promptreel.core.catalog import installed_update
    from promptreel.core.catalog_file import shipped_version

    update = installed_update()
    if update is None or update.catalog_version <= shipped_version():
        return Check(
            "catalog update",
            True,
            f"the shipped catalog ({shipped_version()}); `promptreel models update --check` looks for a newer one",
            section="promptreel",
        )
    if update.expires_on < date.today():
        return Check(
            "catalog update",
            False,
            f"signed update {update.catalog_version} expired on {update.expires_on} (still in use)",
            "Run `promptreel models update` for a current one.",
            section="promptreel",
        )
    return Check(
        "catalog update",
        True,
        f"signed update {update.catalog_version}, published {update.published_at}, expires {update.expires_on}",
        section="promptreel",
    )


def models_in_use() -> dict[str, set[str]]:
    """Model id -> where the user uses it: the panel's default model and the last 30 days of jobs."""
    from datetime import datetime, timedelta, timezone

    from promptreel.core.journal import Journal

    from . import panel_settings

    used: dict[str, set[str]] = {}
    with contextlib.suppress(UserError):  # a broken panel settings file is the panel's to report
        used.setdefault(panel_settings.load().model, set()).add("the panel's default model")
    try:
        target = store.default_target()
    except UserError:
        return used  # a bad database URL is the journal check's to report
    if store.is_postgres(target) or Path(target).is_file():
        since = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()
        try:
            journal = Journal.open_default()
        except store.database_errors() + (UserError,):
            return used  # an unreadable journal is the journal check's to report
        try:
            for job in journal.jobs():
                if job.created_at >= since:
                    used.setdefault(job.model, set()).add("jobs of the last 30 days")
        finally:
            journal.close()
    return used


def lifecycle_check() -> Check:
    """Models the user relies on that their vendor has ended, or ends within 30 days: a warning, not a failure."""
    from promptreel.core.catalog import load_catalog

    try:
        catalog = load_catalog(settings.load_settings().catalog_file)
        used = models_in_use()
    except UserError as e:  # the catalog check names it
        return Check("models in use", False, e.problem, e.fix or "", section="promptreel")
    ending = [(words, sorted(used[mid])) for mid, words in catalog.ending(used)]
    if not ending:
        return Check(
            "models in use",
            True,
            f"{len(used)} in use; none retired or shutting down within 30 days",
            section="promptreel",
        )
    detail = " ".join(f"{w} (used in {', '.join(where)})" for w, where in ending)
    return Check(
        "models in use",
        False,
        detail,
        "Choose the replacement named in the panel, in templates' "
        "shots and for new jobs; `promptreel models` shows what each model's lifecycle is.",
        section="promptreel",
    )


def resolve_section() -> tuple[list[Check], Decision | None]:
    from .doctor import resolve_checks

    try:
        checks, decision = resolve_checks()
    except UserError as e:  # Resolve went away between the checks
        return [Check("Resolve", False, e.problem, e.fix or "")], None
    # Which mode, and why: file mode is a way of working (the free edition from 21.1), not a fault.
    return [Check(c.name, True, c.detail) if c.name == "Mode" else c for c in checks], decision


def run_all() -> tuple[list[Check], Decision | None]:
    checks = [
        python_check(),
        *ffmpeg_checks(),
        pyav_check(),
        data_folder_check(),
        journal_check(),
        media_root_check(),
        keys_check(),
        catalog_check(),
        catalog_update_check(),
        lifecycle_check(),
    ]
    present = [c for c in checks if c is not None]
    resolve, decision = resolve_section()
    return present + resolve, decision


def essential_failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.essential and not c.ok]


def report_text(checks: list[Check]) -> str:
    lines, section = [], None
    for c in checks:
        if c.section != section:
            section = c.section
            lines.append(f"{section}:")
        lines.append(f"  {'ok     ' if c.ok else 'problem'}  {c.name}: {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"           fix: {c.fix}")
    failed = essential_failures(checks)
    others = [c for c in checks if not c.ok and c not in failed]
    # Never "everything is in place" under a list of problems: the summary names what is not.
    lines.append(
        f"{len(failed)} essential problem(s): {', '.join(c.name for c in failed)}."
        if failed
        else "Everything promptreel needs is in place."
        if not others
        else f"promptreel can run; {len(others)} problem(s) to look at: {', '.join(c.name for c in others)}."
    )
    return "\n".join(lines)


def report_json(checks: list[Check], decision: Decision | None) -> dict:
    from dataclasses import asdict

    return {
        "ok": not essential_failures(checks),
        "mode": decision.model_dump() if decision else None,
        "checks": [asdict(c) for c in checks],
    }
