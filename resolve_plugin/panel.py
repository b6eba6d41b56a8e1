"""The panel: a small local web page served by the worker on 127.0.0.1 (random port).

Protection: the browser is opened on a one-time sign-in link (`sign_in_url`: a code that works once,
for CODE_SECONDS), which the page trades for an HttpOnly, SameSite=Strict session cookie; the session
token itself never reaches a command line, where other local users could read it. API calls carry
the cookie or, from programs, the session token in a header (a cross-site page cannot add a header
without a CORS preflight, which is never answered, and a cookie-borne POST must be JSON, which a
cross-site form cannot send); the Host header must name this loopback address and port (against DNS
rebinding); an Origin header, when sent, must be this page's own. Every endpoint goes through the
same checks. A request must arrive whole within `request_seconds` of its connection, so a stalled
client cannot hold a thread.

One static page (panel.html) and JSON endpoints:
- both modes: state, jobs (the live list), settings, models, estimate, costs (today, per project),
  stats (per model and route, from the journal), takes, templates (saved, with the shot fields),
  prompt/preview (what would be sent to a model: core/prompts/compose.py, as `promptreel prompt show`),
  provenance (the chain from a take's or a clip's file back to the original and its credentials);
- connected: fill, revert, generate, ab, draft, promote (through the gateway; generation from the
  injected ClipMaker);
- file mode: exports (the watched folder), file/fill (OTIO out and back, in the background);
- events: the job list as server-sent events, sent again each time it changes (no polling);
- media: a clip's thumbnail, filmstrip or playable file (core/pictures.py), for clips in promptreel's
  media folders only; choices: the codecs and fits the settings offer, from the data files.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import secrets
import socket
import threading
import time
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any, Callable, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel

from promptreel.core import pictures, takes
from promptreel.core.catalog import default_catalog
from promptreel.core.errors import BadInput, UserError
from promptreel.core.prompts.builders import BuiltPrompt
from promptreel.core.prompts.compose import PromptSpec, compose, spec_from
from promptreel.core.prompts.fields import ShotFields
from promptreel.core.prompts.templates import TemplateStore
from promptreel.core.journal import Journal
from promptreel.core.keys import redact
from promptreel.core.stats import COLUMNS, model_stats

from . import bins, edits, filemode, panel_refine, panel_settings
from .changes import Changes
from .clipmaker import ClipMaker
from .costs import CostEstimate, estimate
from .fill import chosen_placeholders, conform_target, fill, one_per_draft, promote, revert, slot_for
from .gateway import Gateway
from .media_folders import media_folders
from .placeholders import find_placeholders

MAX_BODY = 64 * 1024
CODE_SECONDS = 120.0  # a sign-in link works once, within this (a browser's cold start included)
REQUEST_SECONDS = 15.0  # a request's line, headers and body must arrive within this of its connection
KEEPALIVE_SECONDS = 15.0  # an idle event stream sends a comment this often (a closed page ends its thread)
# Endpoints that never talk to Resolve answer without waiting for the gateway lock, so the job
# list stays live while a fill holds it.
LOCK_FREE = {"/api/jobs", "/api/settings", "/api/models", "/api/exports", "/api/costs", "/api/stats", "/api/takes",
             "/api/templates", "/api/prompt/preview", "/api/media", "/api/choices", "/api/takes/choose",
             "/api/sign-in-link"}
TAKES_SHOWN = 30
log = logging.getLogger(__name__)


class JobRow(BaseModel):
    """One line of the panel's job list."""

    id: str
    kind: Literal["fill", "draft", "file-fill", "engine"]
    title: str
    state: str  # running, done, failed, reverted, in place; engine jobs: queued, running, ...
    progress: float | None = None  # 0..1 while running
    detail: str = ""
    cost_usd: float | None = None
    created: str = ""
    shot: str = ""  # engine jobs: the shot, and the model making it
    model: str = ""
    started: str = ""  # when this panel first saw the job, and when it ended (elapsed, in the page)
    ended: str = ""
    media: str | None = None  # the clip, once made (its pictures: /api/media)


# Where the job engine's live jobs plug in: a callable returning one JobRow per job (queued, running
# with progress, downloading, done, failed): livejobs.LiveJobs, fed by the clip maker's engine events.
# When it also has `on_event`, file-mode fills feed it too.
EngineJobs = Callable[[], list[JobRow]]


class Panel:
    def __init__(self, gateway: Gateway | None, make_clip: ClipMaker | None, mode: str | None = None,
                 port: int = 0, filler: Callable | None = None, reason: str = "",
                 engine_jobs: EngineJobs | None = None):
        """`gateway` None is file mode. `filler` is a timeline Filler for file mode (core/timeline/filler.py;
        None: the engine's); `reason` says why this mode, in the editor's words."""
        self.gw = gateway
        self.make_clip = make_clip
        self.mode = mode or ("connected" if gateway is not None else "file")
        self.reason = reason
        self.filler = filler
        self.engine_jobs = engine_jobs
        self.changes: Changes = getattr(engine_jobs, "changes", None) or Changes()
        self.token = secrets.token_urlsafe(32)  # the header form, for programs that start the panel
        self.request_seconds = REQUEST_SECONDS
        self._codes: dict[str, float] = {}  # one-time sign-in codes -> when they expire (monotonic)
        self._sessions: set[str] = set()  # the browsers' session cookies
        self._auth_lock = threading.Lock()
        self._lock = threading.Lock()  # one gateway conversation at a time
        self._runs: dict[str, threading.Thread] = {}
        self._watcher: filemode.ExportWatcher | None = None
        self._journal: Journal | None = None
        self._project = ""  # the Resolve project's name, as last read (the cost ledger's project column)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None
        if self.mode == "file":
            self.watcher()  # the baseline: what was in the folder before the panel opened is not "new"

    @property
    def url(self) -> str:
        """The panel's address, with no secret in it: a browser signs in with `sign_in_url()`."""
        return f"http://127.0.0.1:{self.port}/"

    def sign_in_url(self) -> str:
        """A fresh one-time link for a browser (for `webbrowser.open`: its command line is public, so the
        code is used up by the first visit and expires after CODE_SECONDS)."""
        code = secrets.token_urlsafe(24)
        with self._auth_lock:
            now = time.monotonic()
            self._codes = {c: t for c, t in self._codes.items() if t > now}
            self._codes[code] = now + CODE_SECONDS
        return f"{self.url}?code={code}"

    def redeem(self, code: str) -> str | None:
        """A new session for a valid code (which is then spent); None for a used, expired or unknown one."""
        with self._auth_lock:
            expires = self._codes.pop(code, None)
            if expires is None or expires < time.monotonic():
                return None
            session = secrets.token_urlsafe(32)
            self._sessions.add(session)
            return session

    def session_ok(self, session: str | None) -> bool:
        with self._auth_lock:
            return bool(session) and any(hmac.compare_digest(session.encode(), s.encode()) for s in self._sessions)

    @property
    def cookie_name(self) -> str:
        return f"promptreel-{self.port}"  # cookies ignore ports: two panels must not share one

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="panel", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.changes.close()  # event streams end
        self.server.shutdown()
        self.server.server_close()

    def wait_for_runs(self, timeout: float | None = None) -> None:
        for thread in list(self._runs.values()):
            thread.join(timeout)

    def watcher(self) -> filemode.ExportWatcher:
        folder = panel_settings.load().watch_dir
        if self._watcher is None or self._watcher.folder != folder:
            folder.mkdir(parents=True, exist_ok=True)
            self._watcher = filemode.ExportWatcher(folder)
        return self._watcher

    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal.open_default()
        return self._journal

    def _gw(self) -> Gateway:
        if self.gw is None:
            raise UserError("Resolve is not connected: the panel is in file mode.",
                            "Use the export folder steps, or start promptreel from Workspace > Scripts in Resolve.")
        return self.gw

    # -- API (each runs under the lock; user errors become 400 with the message)
    def state(self, _: dict) -> dict:
        if self.mode == "file":
            self._project = panel_settings.load().project
            folder = self.watcher().folder
            return {"mode": "file", "reason": self.reason, "export_dir": str(folder),
                    "steps": filemode.import_steps(folder)}
        gw = self._gw()
        project, target = conform_target(gw)
        self._project = project.name
        timeline = gw.timeline()
        return {
            "mode": self.mode, "reason": self.reason, "project": project.name, "timeline": timeline.name,
            "target": {"rate": str(target.rate), "size": str(target.size), "bit_depth": target.bit_depth},
            "placeholders": [{"id": p.item.id, "label": p.label, "kind": p.kind, "prompt": p.prompt,
                              "frames": p.draft_frames if p.kind == "draft" else p.item.duration,
                              "name": p.item.name, "media": self._clip_path(p.clip_id) if p.kind == "draft" else None}
                             for p in find_placeholders(timeline)],
            # Clips that play media, for "Extend selected clip".
            "clips": [{"id": it.id, "name": it.name, "track": it.track, "start": it.start, "frames": it.duration}
                      for t in timeline.tracks for it in t.items if it.kind == "clip" and it.clip_id],
            # An A/B or variants fill keeps its takes: placed, in the take selector, in the bin, and why.
            "edits": [{"id": r.id, "name": r.placeholder_name, "reverted": bool(r.reverted), "created": r.created,
                       "takes": r.takes.as_dict() if r.takes else None, "media": self._edit_media(r)}
                      for r in edits.all_records() if r.timeline_id == timeline.id],
        }

    def _clip_path(self, clip_id: str) -> str | None:
        """A pool clip's file, for its pictures (None when it has none, or Resolve cannot say)."""
        try:
            return self._gw().clip(clip_id).path or None if clip_id else None
        except UserError:
            return None

    def _edit_media(self, record: edits.EditRecord) -> str | None:
        if record.reverted:
            return None
        if record.replaced is not None:
            return record.replaced.new_path
        return self._clip_path(record.placed.clip_id) if record.placed else None

    def _fill_media(self, record: edits.EditRecord) -> str | None:
        """A fill's clip for its picture, without asking Resolve (the job list stays live during a fill):
        the draft's new media, else the job's own file from the journal."""
        if record.replaced is not None:
            return record.replaced.new_path
        job = self.journal().get(record.job_id) if record.job_id else None
        return job.output_path if job is not None else None

    def jobs(self, _: dict) -> dict:
        rows = [JobRow(id=r.id, kind="draft" if r.kind == "draft" else "fill",
                       title=f"{r.timeline_name} V{r.placeholder_track} '{r.placeholder_name}'",
                       state="reverted" if r.reverted else "in place", progress=1.0, detail=f"job {r.job_id}",
                       created=r.created, media=None if r.reverted else self._fill_media(r))
                for r in edits.all_records()]
        rows += [JobRow(id=r.id, kind="file-fill", title=r.export, state=r.state,
                        progress=r.progress if r.state == "running" else None, cost_usd=r.cost_usd,
                        detail=r.error or r.next_step or f"{r.finished}/{r.slots} placeholders",
                        created=r.created) for r in filemode.all_runs()]
        if self.engine_jobs is not None:
            rows += self.engine_jobs()
        rows.sort(key=lambda j: j.created, reverse=True)
        return {"jobs": [j.model_dump() for j in rows]}

    def settings(self, _: dict) -> dict:
        return panel_settings.load().model_dump(mode="json")

    def save_settings(self, body: dict) -> dict:
        return panel_settings.update(body).model_dump(mode="json")

    def models(self, _: dict) -> dict:
        catalog = default_catalog()
        return {"models": [{"id": m.id, "name": m.name, "durations": m.durations_label(),
                            "sizes": [s for sizes in m.sizes.values() for s in sizes], "audio": m.audio,
                            "price": m.price, "status": m.state(), "shutdown_on": str(m.shutdown_on() or "")}
                           for m in catalog.models.values() if m.usable_routes()]}

    def _maker(self) -> ClipMaker:
        if self.make_clip is None:
            raise UserError("Generation is not set up in this worker.", "Run `promptreel doctor` for what is missing.")
        return self.make_clip

    def _estimate(self, body: dict) -> CostEstimate:
        s = panel_settings.load()
        if self.mode == "file":
            return filemode.estimate_export(self.watcher().path(str(body.get("name") or "")), s)
        gw = self._gw()
        _, target = conform_target(gw, s.bit_depth)
        if _asks_generation(body):  # generate to bin: each model of an A/B, `variants` times
            slot = target.slot(_frames(body), self._built(body, _models(body, s.model)[0]).text)
            return _total([estimate([(f"generate on {m}", slot)], m, s.budget_usd, times=_variants(body))
                           for m in _models(body, s.model)], s.budget_usd)
        # A draft cut several times is filled once (one job, one ReplaceClip): listed once.
        found = one_per_draft(chosen_placeholders(gw.timeline(), body.get("item_ids")))
        # Each placeholder on each model of an A/B (`models`; else the chosen one), `variants` times.
        return _total([estimate([(p.label, slot_for(p, target, model=m)) for p in found], m, s.budget_usd,
                                times=_variants(body)) for m in _models(body, s.model)], s.budget_usd)

    def estimate(self, body: dict) -> dict:
        return self._estimate(body).summary()

    def fill(self, body: dict) -> dict:
        s = panel_settings.load()
        self._estimate(body).refuse_if_over("This fill")
        # With `models` (an A/B) or `variants` > 1, every placeholder gets takes (its Take Selector, or the bin).
        report = fill(self._gw(), self._maker(), item_ids=body.get("item_ids"), bit_depth=s.bit_depth,
                      bin_template=s.bin, model=s.model, models=_models(body, s.model) if "models" in body else None,
                      variants=_variants(body))
        return {"filled": [r.id for r in report.edits], "failed": [{"item": i, "error": e} for i, e in report.failed],
                "takes": [t.as_dict() for t in report.takes]}

    def extend(self, body: dict) -> dict:
        """Extend one clip (`item_id`) by `frames` at its tail on `model` (default: the settings' model)."""
        from .extend import extend as extend_clip

        s = panel_settings.load()
        try:
            frames = int(body.get("frames", 0))
        except (TypeError, ValueError):
            raise BadInput(f"{body.get('frames')!r} is not a number of frames.", "Give whole frames, e.g. 24.") from None
        record = extend_clip(self._gw(), self._maker(), str(body.get("item_id", "")), frames,
                             model=str(body.get("model") or s.model), prompt=body.get("prompt") or None,
                             bin_template=s.bin, bit_depth=s.bit_depth)
        return {"edit": record.id, "track": record.placed.track, "start": record.placed.start}

    def edit(self, body: dict) -> dict:
        """Edit one clip (`item_id`) with `instruction` on `model`: the result becomes a take of it."""
        from .edit import edit as edit_clip

        s = panel_settings.load()
        try:
            handles = int(body.get("handles") or 0)
        except (TypeError, ValueError):
            raise BadInput(f"{body.get('handles')!r} is not a number of frames.", "Give whole frames, e.g. 8.") from None
        record = edit_clip(self._gw(), self._maker(), str(body.get("item_id", "")), str(body.get("instruction") or ""),
                           model=str(body.get("model") or s.model), handles=handles, bin_template=s.bin,
                           bit_depth=s.bit_depth)
        return {"edit": record.id}

    def revert(self, body: dict) -> dict:
        return {"reverted": revert(self._gw(), str(body.get("edit_id", ""))).id}

    def generate(self, body: dict) -> dict:
        """Takes of one prompt into the bin: on the chosen model (`variants` times), or with `models` given,
        an A/B: the same prompt on each model, side by side as `shot — model`."""
        if self.mode == "file":
            return self._generate_offline(body)
        s = panel_settings.load()
        frames, variants = _frames(body), _variants(body)
        models = _models(body, s.model)
        # Each model gets the prompt built for its family (a template or shot fields), refused before anything is spent.
        built = {m: self._built(body, m) for m in models}
        self._estimate(body).refuse_if_over("Generating")
        _, target = conform_target(self._gw(), s.bit_depth)
        first = built[models[0]]
        slot = target.slot(frames, first.text, negative_prompt=first.negative_prompt, spec=_spec(body))
        made = bins.generate_takes(self._gw(), self._maker(), slot, models, variants, template=s.bin,
                                   shot=str(body.get("shot") or ""), journal=self.journal(),
                                   per_model={m: {"prompt": b.text, "negative_prompt": b.negative_prompt}
                                              for m, b in built.items()})
        return {"clips": [c.name for c in made.clips], "group": made.group,
                "failed": [{"item": name, "error": why} for name, why in made.failed]}

    def _generate_offline(self, body: dict) -> dict:
        """File mode: no bin without Resolve, so the takes go to promptreel's media folder at the settings'
        frame size and the given rate, recorded as takes (the Takes list: compare, choose, provenance)."""
        from promptreel.core.conform.plan import Choices
        from promptreel.core.slots import FillSettings, fill_slots_sync
        from promptreel.core.frames import parse_rate
        from promptreel.core.settings import output_dir

        from .target import ConformTarget

        s = panel_settings.load()
        models, variants = _models(body, s.model), _variants(body)
        built = {m: self._built(body, m) for m in models}  # refused before anything is spent
        rate = parse_rate(str(body.get("rate") or "24"))
        target = ConformTarget(rate=rate, width=s.size.width, height=s.size.height, fit=filemode._fit(s),
                               bit_depth=s.bit_depth or 10)
        first = built[models[0]]
        shot = str(body.get("shot") or "").strip() or takes.shot_name(first.text)
        slot = target.slot(_frames(body), first.text, name=shot, negative_prompt=first.negative_prompt, spec=_spec(body))
        _total([estimate([(f"generate on {m}", slot)], m, s.budget_usd, times=variants) for m in models],
               s.budget_usd).refuse_if_over("Generating")
        slots = [x.model_copy(update={"prompt": built[x.model].text, "negative_prompt": built[x.model].negative_prompt})
                 for x in takes.take_slots(slot, models, variants)]
        settings = FillSettings(output_dir=output_dir() / "takes", choices=Choices(fit=target.fit), codec=s.codec,
                                budget=s.budget_usd, project=s.project)
        clips = fill_slots_sync(slots, settings, on_event=getattr(self.engine_jobs, "on_event", None))
        group = takes.record_takes(self.journal(), shot, clips, "ab" if len(models) > 1 else "variants")
        return {"clips": [str(c.path) for c in clips if c.ok], "group": group,
                "failed": [{"item": f"{shot} — {c.slot.model}", "error": c.error} for c in clips if not c.ok]}

    def promote(self, body: dict) -> dict:
        """Render a chosen take (`take_id`) or draft (`item_id`, on the timeline) again on the final model
        and replace it in place; revertible like any fill."""
        s = panel_settings.load()
        final = str(body.get("model") or s.model)
        if body.get("item_id"):  # a draft: its fill, on the final model
            (draft,) = chosen_placeholders(self._gw().timeline(), [str(body["item_id"])])
            if draft.kind != "draft":
                raise BadInput(f"{draft.label} is not a promptreel draft.", "Use Fill for other placeholders.")
            _, target = conform_target(self._gw(), s.bit_depth)
            estimate([(draft.label, slot_for(draft, target, model=final))], final,
                     s.budget_usd).refuse_if_over("Promoting")
            report = fill(self._gw(), self._maker(), item_ids=[draft.item.id], bit_depth=s.bit_depth,
                          bin_template=s.bin, model=final)
            if report.failed:
                raise UserError(report.failed[0][1], "The draft is unchanged.")
            return {"promoted": report.edits[0].id}
        take = takes.get_take(self.journal(), str(body.get("take_id") or ""))
        clip_id = take.provenance.get("resolve_clip")
        if not clip_id:
            raise BadInput(f"Take {take.id} was not made into a Resolve bin.", "Promote a take from this panel's list.")
        slot = takes.promote_slot(take.slot, take, final)
        estimate([(f"{take.shot} — {take.model}", slot)], final, s.budget_usd).refuse_if_over("Promoting")
        record, made = promote(self._gw(), self._maker(), clip_id, slot)
        takes.record_takes(self.journal(), take.shot, [made.placed_at(resolve_clip=clip_id)], "promote",
                           source=take.id)
        return {"promoted": record.id}

    def costs(self, _: dict) -> dict:
        """What was spent today (the editor's calendar day) and per project, from the journal's ledger."""
        j = self.journal()
        by_project = [{"project": p or "(none)", "usd": round(usd, 4), "jobs": n} for p, usd, n in j.spend("project")]
        here = next((x["usd"] for x in by_project if x["project"] == self._project), 0.0)
        from promptreel.core.settings import load_settings

        # What is left under each cap, of spend and of what running jobs have reserved, on every seat.
        settings, left = load_settings(), {}
        if settings.daily_cap_usd is not None:
            left["today"] = settings.daily_cap_usd - j.committed("day")
        if settings.user_daily_cap_usd is not None:
            left["you_today"] = settings.user_daily_cap_usd - j.committed("user")
        if self._project in settings.project_caps_usd:
            left["project"] = settings.project_caps_usd[self._project] - j.committed("project", self._project)
        # Jobs the sandbox's fakes made are pretend spend: shown apart, never added to the money.
        sandbox = round(sum(usd for _, usd, _ in j.spend("project", sandbox=True)), 4)
        return {"today_usd": round(j.spent_on(), 4), "project": self._project, "project_usd": here,
                "by_project": by_project, "left_usd": {k: round(max(v, 0.0), 4) for k, v in left.items()},
                "sandbox_usd": sandbox, "budget_usd": panel_settings.load().budget_usd}

    def stats(self, _: dict) -> dict:
        return {"columns": list(COLUMNS), "rows": [m.row() for m in model_stats(self.journal())]}

    def list_takes(self, _: dict) -> dict:
        recent = takes.list_takes(self.journal())[-TAKES_SHOWN:]
        return {"takes": [{**t.as_dict(), "in_bin": bool(t.provenance.get("resolve_clip")),
                           "seconds": takes.making_seconds(self.journal(), t)} for t in reversed(recent)]}

    def choose_take(self, body: dict) -> dict:
        """Make a take its shot's chosen one (as `promptreel takes --choose`)."""
        take = takes.choose(self.journal(), str(body.get("take_id") or ""))
        return {"chosen": take.id, "shot": take.shot}

    def media(self, body: dict) -> tuple[bytes, str]:
        """A clip's picture (`kind`: thumb, strip, play) from its file (`path`), which must lie in one of
        promptreel's media folders: the page cannot read anything else on the machine."""
        clip = Path(str(body.get("path") or "")).expanduser()
        roots = [Path(f) for f in media_folders()]
        if not clip.is_absolute() or not any(clip.resolve().is_relative_to(r) for r in roots):
            raise BadInput("That file is not one promptreel made.", "Pick a placeholder, take or job in the panel.")
        path, ctype = pictures.picture(clip.resolve(), str(body.get("kind") or "thumb"))  # type: ignore[arg-type]
        return path.read_bytes(), ctype

    def sign_in_link(self, _: dict) -> dict:
        """A fresh one-time link, for a program holding the token (the plugin docked in Resolve Studio):
        the token itself never goes into a URL."""
        return {"url": self.sign_in_url()}

    def choices(self, _: dict) -> dict:
        """What the settings offer, from the data files the conform reads (so the page and CLI cannot drift)."""
        from typing import get_args

        from promptreel.core.conform.target import codec_families

        return {"codecs": [{"id": name, "label": f.label} for name, f in codec_families().items()],
                "fits": list(get_args(panel_settings.PanelSettings.model_fields["fit"].annotation))}

    def draft(self, body: dict) -> dict:
        """A draft slate of the typed length at the project's rate and size, into the drafts bin: the
        `draft` model (local, free) whatever the chosen model. It carries the prompt built for the chosen
        model, which is what Fill will send when it replaces the draft."""
        s = panel_settings.load()
        _, target = conform_target(self._gw(), s.bit_depth)
        built = self._built(body, s.model)
        slot = target.slot(_frames(body), built.text, model="draft", negative_prompt=built.negative_prompt,
                           spec=_spec(body))
        clip = bins.create_draft(self._gw(), self._maker(), slot)
        return {"clip": clip.name, "clip_id": clip.id}

    # -- structured prompts: templates, the preview, and the prompt Generate and Draft send
    def _built(self, body: dict, model: str) -> BuiltPrompt:
        return compose(default_catalog().get(model), _spec(body))

    def templates(self, _: dict) -> dict:
        """Saved templates with their placeholders, and the shot fields the form offers."""
        return {"templates": [{**t.model_dump(mode="json"), "placeholders": t.placeholders}
                              for t in TemplateStore().list()],
                "fields": [{"name": name, "description": f.description or ""}
                           for name, f in ShotFields.model_fields.items()]}

    def preview(self, body: dict) -> dict:
        """Exactly what would be sent to each model (`model`, or `models` for an A/B; default the chosen
        one): the same function as `promptreel prompt show`."""
        models = body.get("models") or [str(body.get("model") or panel_settings.load().model)]
        if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
            raise BadInput("`models` must be a list of model ids.", "Pick the models from the list.")
        return {"previews": [self._built(body, m).model_dump() for m in models]}

    def provenance(self, body: dict) -> dict:
        """The chain (core/provenance.py) for a take (`take`) or a media pool clip the panel made (`clip`):
        the conformed file, its marks, the provider's original and its C2PA credentials."""
        from promptreel.core.cli.provenance import describe
        from promptreel.core.credentials import trust_anchors
        from promptreel.core.provenance import chain
        from promptreel.core.settings import load_settings

        if body.get("take"):
            take = takes.get_take(self.journal(), str(body["take"]))
            if take.path is None:
                raise BadInput(f"Take {take.id} has no clip ({take.error or 'not made'}).", "Pick a take that was made.")
            path, what = take.path, f"take {take.id} ({take.shot} — {take.model})"
        elif body.get("clip"):
            clip = self._gw().clip(str(body["clip"]))
            if not clip.path:
                raise BadInput(f"Clip {clip.name or clip.id} has no file.", "Pick a clip promptreel made.")
            path, what = clip.path, f"clip {clip.name or clip.id}"
        else:
            raise BadInput("No take or clip given.", "Ask for ?take=ID or ?clip=ID.")
        found = chain(path, self.journal(), trust_anchors(load_settings()))
        return {"of": what, "chain": found, "lines": describe(found)}

    def exports(self, _: dict) -> dict:
        watcher = self.watcher()
        listed = watcher.poll()
        offer = watcher.offer(listed)
        return {"folder": str(watcher.folder), "exports": [e.model_dump() for e in listed],
                "offer": offer.name if offer else None}

    def file_fill(self, body: dict) -> dict:
        """Start filling an export in the background; the job list follows it. Refusals (no such file,
        no placeholders, over budget, a model that cannot make a slot) come back at once."""
        s = panel_settings.load()
        path = self.watcher().path(str(body.get("name") or ""))
        prepared = filemode.prepare(path, s)
        run = filemode.FileRun(export=path.name, slots=prepared.slots)
        filemode.save_run(run)

        def work() -> None:
            try:
                filemode.fill_export(path, s, self.filler, run, prepared=prepared,
                                     on_event=getattr(self.engine_jobs, "on_event", None))
            except Exception:  # recorded on the run, which the job list shows
                pass
            finally:
                self.changes.bump()  # the run's end, for the event stream

        thread = threading.Thread(target=work, name=f"file-fill {run.id}", daemon=True)
        self._runs[run.id] = thread
        thread.start()
        return {"run": run.id, "output": filemode.output_for(path).name}

    def routes(self) -> dict[tuple[str, str], Callable[[dict], dict]]:
        both = {("GET", "/api/state"): self.state, ("GET", "/api/jobs"): self.jobs,
                ("GET", "/api/settings"): self.settings, ("POST", "/api/settings"): self.save_settings,
                ("GET", "/api/models"): self.models, ("POST", "/api/estimate"): self.estimate,
                ("GET", "/api/costs"): self.costs, ("GET", "/api/stats"): self.stats,
                ("GET", "/api/takes"): self.list_takes, ("GET", "/api/templates"): self.templates,
                ("POST", "/api/prompt/preview"): self.preview, ("GET", "/api/provenance"): self.provenance,
                ("GET", "/api/choices"): self.choices, ("POST", "/api/takes/choose"): self.choose_take,
                ("GET", "/api/media"): self.media, ("GET", "/api/events"): self.jobs,
                ("POST", "/api/sign-in-link"): self.sign_in_link, **panel_refine.routes(self)}
        if self.mode == "file":
            return {**both, ("GET", "/api/exports"): self.exports, ("POST", "/api/file/fill"): self.file_fill,
                    ("POST", "/api/generate"): self.generate}
        return {**both, ("POST", "/api/fill"): self.fill, ("POST", "/api/revert"): self.revert,
                ("POST", "/api/generate"): self.generate, ("POST", "/api/draft"): self.draft,
                ("POST", "/api/promote"): self.promote, ("POST", "/api/extend"): self.extend,
                ("POST", "/api/edit"): self.edit}


def _asks_generation(body: dict) -> bool:
    return any(k in body for k in ("prompt", "template", "fields"))


def _spec(body: dict) -> PromptSpec:
    """The prompt as typed: free text, a template, shot fields (the negative prompt box joins them)."""
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadInput("The shot fields are not a set of name: value.", "Fill the fields in the form.")
    negative = str(body.get("negative_prompt") or "").strip()
    if negative and not str(fields.get("negative_prompt") or "").strip():
        fields = {**fields, "negative_prompt": negative}
    spec = spec_from(str(body.get("prompt") or "").strip(), str(body.get("template") or "").strip(), fields,
                     "The shot fields")
    if not spec.prompt and not spec.template and not spec.fields.keys() - {"negative_prompt"}:
        raise UserError("The prompt is empty.", "Describe the shot to generate, or fill the shot fields or pick a template.")
    return spec


def _frames(body: dict) -> int:
    frames = body.get("frames")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise UserError("The duration is missing.", "Give the length in frames (or pick a placeholder).")
    return frames


def _models(body: dict, default: str) -> list[str]:
    """The models of an A/B (`models`, two or more), else the one chosen in settings."""
    models = body.get("models")
    if models is None:
        return [default]
    if not isinstance(models, list) or len(models) < 2 or not all(isinstance(m, str) and m for m in models):
        raise BadInput("An A/B needs two models.", "Pick model A and model B.")
    return models


def _total(estimates: list[CostEstimate], budget: float | None) -> CostEstimate:
    lines = [line for e in estimates for line in e.lines]
    return CostEstimate(lines=lines, total_usd=round(sum(x.cost_usd for x in lines), 4), budget_usd=budget)


def _variants(body: dict) -> int:
    variants = body.get("variants") or 1
    if not isinstance(variants, int) or not 1 <= variants <= 8:
        raise UserError("Variants must be a whole number from 1 to 8.", "Change the number of variants.")
    return variants


class _DeadlineReader(io.RawIOBase):
    """A connection's bytes, each read waiting only until the request's deadline: a client that sends
    nothing, or one byte at a time, cannot hold the thread past it (a per-read timeout would not do)."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


def _handler(panel: Panel):
    class Handler(BaseHTTPRequestHandler):
        server_version = "promptreel"

        def setup(self) -> None:
            super().setup()
            self.rfile.close()  # replaced by a reader that keeps the request's deadline
            self.rfile = io.BufferedReader(_DeadlineReader(self.connection, time.monotonic() + panel.request_seconds))

        def log_message(self, format: str, *args: Any) -> None:  # no request logs (URLs carry sign-in codes)
            pass

        def _send(self, status: int, body: bytes, ctype: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
            self.connection.settimeout(panel.request_seconds)  # the answer's writes, not what is left to read
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            headers = dict(headers or {})
            self.send_header("Cache-Control", headers.pop("Cache-Control", "no-store"))
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the page stopped listening (a video skipped ahead)
                pass

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode())

        def _guard(self) -> bool:
            if self.headers.get("Host") not in panel.allowed_hosts():
                self._json(403, {"error": "Wrong Host."})
                return False
            origin = self.headers.get("Origin")
            if origin is not None and origin not in {f"http://{h}" for h in panel.allowed_hosts()}:
                self._json(403, {"error": "Cross-origin requests are refused."})
                return False
            return True

        def _token_ok(self, given: str | None) -> bool:
            return bool(given) and hmac.compare_digest(given.encode(), panel.token.encode())

        def _cookie_ok(self) -> bool:
            try:
                morsel = SimpleCookie(self.headers.get("Cookie") or "").get(panel.cookie_name)
            except CookieError:
                return False
            return morsel is not None and panel.session_ok(morsel.value)

        def _signed_in(self, method: str) -> bool:
            if self._token_ok(self.headers.get("X-Promptreel-Token")):
                return True
            if not self._cookie_ok():
                return False
            # A cookie rides along on any request; a cross-site form can post, but never as JSON.
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            return method == "GET" or ctype == "application/json"

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _page(self, url) -> None:
            code = (parse_qs(url.query).get("code") or [None])[0]
            if code is not None:
                session = panel.redeem(code)
                if session is None:
                    self._json(403, {"error": "This sign-in link was already used or has expired. Open the panel "
                                              "again from Resolve's Scripts menu (or restart `promptreel resolve "
                                              "panel`)."})
                    return
                # Trade the code for the cookie and drop it from the address bar and history.
                cookie = f"{panel.cookie_name}={session}; HttpOnly; SameSite=Strict; Path=/"
                self._send(303, b"", "text/plain", {"Location": "/", "Set-Cookie": cookie})
                return
            if not self._cookie_ok():
                self._json(403, {"error": "Open the panel from Resolve's Scripts menu."})
                return
            page = files("promptreel.resolve_plugin").joinpath("panel.html").read_bytes()
            self._send(200, page, "text/html; charset=utf-8")

        def _body(self, method: str, url) -> dict | None:
            """The request's JSON object (a GET's: its query), or None once a refusal has been sent."""
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self._json(400, {"error": "Content-Length is not a number of bytes."})
                return None
            if length > MAX_BODY:
                self._json(413, {"error": "Request too large."})
                return None
            raw = self.rfile.read(length) if length else b""
            if method == "GET":  # a GET's arguments are its query: /api/provenance?take=ID
                return {k: v[-1] for k, v in parse_qs(url.query).items()}
            try:
                body = json.loads(raw) if raw else {}
            except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
                body = None
            if not isinstance(body, dict):
                self._json(400, {"error": "The request is not a JSON object."})
                return None
            return body

        def _dispatch(self, method: str) -> None:
            if not self._guard():
                return
            url = urlsplit(self.path)
            if method == "GET" and url.path == "/":
                self._page(url)
                return
            route = panel.routes().get((method, url.path))
            if route is None:
                self._json(404, {"error": "Not found."})
                return
            if not self._signed_in(method):
                self._json(403, {"error": "Not signed in (or a wrong token): "
                                          "open the panel from Resolve's Scripts menu."})
                return
            body = self._body(method, url)
            if body is None:
                return
            if url.path == "/api/events":
                self._events()
                return
            try:
                if url.path in LOCK_FREE:
                    result = route(body)
                else:
                    with panel._lock:
                        result = route(body)
            except UserError as e:
                self._json(400, {"error": redact(str(e))})
                return
            except Exception:
                log.exception("panel %s %s failed", method, url.path)
                self._json(500, {"error": "Something went wrong inside promptreel; the log has the details."})
                return
            finally:
                if method == "POST":
                    panel.changes.bump()  # a fill placed, a take chosen: the event stream sends the list again
            if isinstance(result, tuple):  # (bytes, content type): a picture or a clip
                self._bytes(*result)
                return
            self._json(200, result)

        def _bytes(self, data: bytes, ctype: str) -> None:
            """A picture or a clip; a clip's byte range when asked (a <video> seeks with them)."""
            headers = {"Cache-Control": "private, max-age=60", "Accept-Ranges": "bytes"}
            asked = re.fullmatch(r"bytes=(\d*)-(\d*)", (self.headers.get("Range") or "").strip())
            if asked and (asked[1] or asked[2]) and data:
                first, last = (int(asked[1]), int(asked[2] or len(data) - 1)) if asked[1] else (
                    max(len(data) - int(asked[2]), 0), len(data) - 1)
                last = min(last, len(data) - 1)
                if first > last:
                    self._send(416, b"", ctype, {"Content-Range": f"bytes */{len(data)}"})
                    return
                self._send(206, data[first:last + 1], ctype, {**headers, "Content-Range": f"bytes {first}-{last}/{len(data)}"})
                return
            self._send(200, data, ctype, headers)

        def _events(self) -> None:
            """The job list as server-sent events: now, then each time it changes, until the page or the
            panel goes away."""
            self.connection.settimeout(panel.request_seconds)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            seen = -1
            try:
                while not panel.changes.closed:
                    now = panel.changes.wait(seen, KEEPALIVE_SECONDS)
                    if now == seen:
                        self.wfile.write(b": idle\n\n")
                    else:
                        seen = now
                        try:
                            data = json.dumps(panel.jobs({}))
                        except Exception:
                            log.exception("panel event stream failed")
                            return
                        self.wfile.write(f"event: jobs\ndata: {data}\n\n".encode())
                    self.wfile.flush()
            except OSError:  # the page closed
                return

    return Handler
