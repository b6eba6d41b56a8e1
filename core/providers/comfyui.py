"""ComfyUI: a server the user runs (a local GPU or a box on the LAN). Nothing leaves the building.

Wire protocol (ComfyUI's `server.py` and `execution.py`):

    POST /prompt {"prompt": <API-format workflow>, "client_id": ...}
         200 {"prompt_id", "number", "node_errors"}
         400 {"error": {type, message, details, extra_info}, "node_errors": {node_id: {errors, class_type, ...}}}
    GET  /history/{prompt_id}   {} until the prompt finished, then
         {prompt_id: {"prompt": [number, prompt_id, workflow, extra_data, outputs],
                      "outputs": {node_id: {"images"|"gifs"|"videos": [{filename, subfolder, type}], ...}},
                      "status": {"status_str": "success"|"error", "completed", "messages": [[event, data], ...]}}}
    GET  /queue                 {"queue_running": [item, ...], "queue_pending": [item, ...]}, items shaped as above
    GET  /view?filename=&subfolder=&type=output    the file
    POST /queue {"delete": [prompt_id]}   drop a pending prompt;  POST /interrupt {"prompt_id"}   stop a running one
    POST /upload/image  multipart: image (the file), type=input, overwrite   {"name", "subfolder", "type"}

The workflow comes from a template file in ComfyUI's API format ("Export (API)"), in which
string values such as "{{prompt}}" or "{{width}}" mark what promptreel fills (see `PLACEHOLDERS`).
Any workflow works without code, as long as it carries the placeholders the request needs.

Shipped workflows are chosen by the route's model_id, which names the text-to-video one
(`wan2_2_ti2v_5b_t2v`); a request with a first frame takes its `_i2v` sibling, whose LoadImage
reads "{{first_frame}}": the image is uploaded to ComfyUI's input folder before the prompt.
"""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import re
from datetime import datetime, timezone
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict

from ..catalog import Route, Size
from ..errors import BadInput, UnsupportedRequest
from ..frames import rate_str, seconds_to_frames_ceil
from ..request import GenerationRequest
from ..routes import RouteDescriptor
from .auth import Basic
from .base import ErrorKind, JobState, MediaRef, Protocol, ProviderError, Status, Submitted, WireCall
from .httpkit import send, send_before_create

if TYPE_CHECKING:
    from importlib.abc import Traversable

# name -> what it fills. Written in a template as "{{name}}" or "{{name|default}}".
PLACEHOLDERS = {
    "prompt": "the prompt (text)",
    "negative_prompt": "the negative prompt (text; the default after | when the request has none)",
    "width": "frame width in pixels (integer)",
    "height": "frame height in pixels (integer)",
    "frames": "frame count (integer, 8k+1)",
    "fps": "frame rate (number)",
    "seed": "noise seed (integer)",
    "job": "promptreel's job id (text; e.g. in filename_prefix)",
    "first_frame": "the first frame's name in ComfyUI's input folder (LoadImage's image; promptreel uploads it)",
}
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*(?:\|([^}]*))?\}\}")

# Latent nodes whose VAE compresses time 4:1 (so 4k+1 frames); every other workflow gets 8k+1.
FOUR_K_PLUS_1 = {"Wan22ImageToVideoLatent", "WanImageToVideo", "WanFirstLastFrameToVideo", "EmptyHunyuanLatentVideo"}
DEFAULT_SIZE = Size(width=768, height=512)  # LTX-Video's native size, when a request names none
DEFAULT_FPS = Fraction(25)  # LTX-Video's native rate (LTXVConditioning's default), when a request names none
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".m4v", ".gif")
SHIPPED_DIR = "data/comfyui"
HISTORY_WINDOW = 500  # newest history entries searched when reconciling a lost create


def ltx_frames(needed: int, step: int = 8) -> int:
    """The smallest step*k+1 frame count >= `needed` (8k+1 unless `step` says otherwise).

    LTX-Video's VAE compresses time 8:1 plus one leading frame, so it makes 8k+1 frames; any
    other length is cut down to one. Asking for the next 8k+1 up means the clip always covers
    the slot and conform trims the surplus. Wan and Hunyuan compress 4:1 and want 4k+1.
    """
    if needed < 1:
        raise ValueError("frame count must be positive")
    return step * math.ceil((needed - 1) / step) + 1


def frame_step(workflow: dict[str, Any]) -> int:
    """4 when the node that takes "{{frames}}" belongs to a 4:1 model (Wan), else 8 (LTX)."""
    for node in workflow.values():
        if node.get("class_type") in FOUR_K_PLUS_1 and any(
            isinstance(v, str) and (m := _PLACEHOLDER.fullmatch(v.strip())) and m.group(1) == "frames"
            for v in node["inputs"].values()
        ):
            return 4
    return 8


def upload_name(path: Path, data: bytes) -> str:
    """The first frame's name in ComfyUI's input folder: its content hash, so a resend uploads the same name."""
    return f"promptreel-{hashlib.sha256(data).hexdigest()[:20]}{path.suffix.lower() or '.png'}"


def derived_seed(client_ref: str) -> int:
    """A seed for a request that gave none: fixed per job, so rebuilding the call sends the same body."""
    return int.from_bytes(hashlib.sha256(client_ref.encode()).digest()[:4], "big")


# --- what crosses the wire -------------------------------------------------------------


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PromptAccepted(_Loose):
    prompt_id: str
    number: float | int | None = None
    node_errors: dict[str, Any] | list[Any] = {}


class OutputFile(_Loose):
    filename: str
    subfolder: str = ""
    type: str = "output"


class ExecStatus(_Loose):
    status_str: str = ""
    completed: bool = False
    messages: list[list[Any]] = []


class HistoryEntry(_Loose):
    prompt: list[Any] = []
    outputs: dict[str, dict[str, Any]] = {}
    status: ExecStatus | None = None


# --- templates -------------------------------------------------------------------------


def template_path(route: Route, override: Path | None = None, first_frame: bool = False) -> Path | Traversable:
    """The workflow file: the user's (settings `comfyui_workflow`), else the route's model_id,
    which names a shipped template (`ltx_video_t2v`) or is itself a path to a .json file.
    With a first frame, a shipped `..._t2v` template gives way to its `..._i2v` sibling."""
    if override is not None:
        return Path(override).expanduser()
    if route.model_id.endswith(".json"):
        return Path(route.model_id).expanduser()
    name = route.model_id
    if first_frame and name.endswith("_t2v"):
        name = name.removesuffix("_t2v") + "_i2v"
    return resources.files("promptreel.core").joinpath(f"{SHIPPED_DIR}/{name}.json")


def load_template(path: Path | Traversable) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise BadInput(
            f"ComfyUI workflow {path} does not exist.",
            "Fix comfyui_workflow in settings, or the route's model_id in the catalog.",
        ) from None
    try:
        workflow = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"ComfyUI workflow {path} is not valid JSON: {e}.", "Fix the file.") from None
    if (
        not isinstance(workflow, dict)
        or not workflow
        or not all(
            isinstance(node, dict) and "class_type" in node and isinstance(node.get("inputs"), dict)
            for node in workflow.values()
        )
    ):
        raise BadInput(
            f"ComfyUI workflow {path} is not in ComfyUI's API format (a map of node id to class_type and inputs).",
            "In ComfyUI, export it with Workflow > Export (API).",
        )
    return workflow


def fill(template: Any, values: dict[str, Any], where: str) -> tuple[Any, set[str]]:
    """Replace placeholders in every string of `template`; return the result and the names used.

    A string that is exactly one placeholder becomes the typed value (24, not "24"); a
    placeholder inside longer text is replaced by its text. Unknown names are refused.
    """
    used: set[str] = set()

    def value_of(m: re.Match[str]) -> Any:
        name, default = m.group(1), m.group(2)
        if name not in PLACEHOLDERS:
            raise BadInput(
                f"ComfyUI workflow {where} has a placeholder {{{{{name}}}}} that promptreel does not fill.",
                f"Use one of: {', '.join('{{' + n + '}}' for n in PLACEHOLDERS)}.",
            )
        used.add(name)
        value = values.get(name)
        return (default or "") if value is None else value

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            whole = _PLACEHOLDER.fullmatch(node.strip())
            if whole:
                return value_of(whole)
            return _PLACEHOLDER.sub(lambda m: _text(value_of(m)), node)
        return node

    return walk(template), used


def fill_name(workflow: dict[str, Any], name: str, stored: str) -> dict[str, Any]:
    """`workflow` with every input that is exactly `name` set to `stored`."""
    return {
        nid: {**node, "inputs": {k: stored if v == name else v for k, v in node["inputs"].items()}}
        for nid, node in workflow.items()
    }


def _text(value: Any) -> str:
    return rate_str(value) if isinstance(value, Fraction) else str(value)


def _wire_number(rate: Fraction) -> int | float:
    # ComfyUI's frame-rate inputs are FLOAT widgets: whole rates go as integers, others as the
    # nearest float (the ltx-video-local catalog entry offers whole rates only).
    return rate.numerator if rate.denominator == 1 else float(rate)


# --- the protocol ----------------------------------------------------------------------

# poll_seconds: a local server: polling is cheap.
ROUTE = RouteDescriptor(
    name="comfyui",
    protocol="promptreel.core.providers.comfyui:ComfyUI",
    base_url="http://127.0.0.1:8188",
    poll_seconds=2.0,
    fake="promptreel.core.sandbox.comfyui:FakeComfyUI",
)


class ComfyUI(Protocol):
    descriptor = ROUTE

    def __init__(
        self,
        client: httpx.AsyncClient,
        route: Route,
        credentials: dict[str, str],
        base_url: str | None = None,
        workflow: Path | None = None,
    ):
        super().__init__(client, route, credentials, base_url)
        # A LAN box behind a proxy may take http://user:password@host: the route's auth sends that as a
        # header (to this host only), and it stays out of every URL we store or show.
        parts = urlsplit(self.base_url)
        self._login = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        self.base_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        if workflow is None:
            from ..settings import load_settings

            workflow = load_settings().comfyui_workflow
        self.workflow = workflow

    # build ------------------------------------------------------------------------------
    def values(self, request: GenerationRequest, client_ref: str, step: int = 8) -> dict[str, Any]:
        """What the placeholders get for `request` (frames in step*k+1, see `frame_step`)."""
        fps = request.fps or DEFAULT_FPS
        if request.frames is not None:
            needed = request.frames
        elif request.seconds is not None:
            needed = seconds_to_frames_ceil(request.seconds, fps)
        else:
            raise UnsupportedRequest("The request has no length.", "Give --seconds, or --frames with --fps.")
        size = request.size or DEFAULT_SIZE
        return {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "width": size.width,
            "height": size.height,
            "frames": ltx_frames(needed, step),
            "fps": _wire_number(fps),
            "seed": request.seed if request.seed is not None else derived_seed(client_ref),
            "job": client_ref,
        }

    def build(self, request: GenerationRequest, client_ref: str) -> WireCall:
        files = None
        if request.first_frame is not None:
            frame = Path(request.first_frame)
            try:
                data = frame.read_bytes()
            except OSError as e:
                raise BadInput(
                    f"Cannot read the first frame {frame} ({e.strerror}).", "Give an image file that exists."
                ) from None
            files = {"image": (upload_name(frame, data), data, mimetypes.guess_type(frame.name)[0] or "image/png")}
        path = template_path(self.route, self.workflow, first_frame=files is not None)
        template = load_template(path)
        values = self.values(request, client_ref, frame_step(template))
        values["first_frame"] = files["image"][0] if files else None
        workflow, used = fill(template, values, str(path))
        needed = ["prompt", "width", "height", "frames", "fps"]
        if request.seed is not None:
            needed.append("seed")
        if request.negative_prompt:
            needed.append("negative_prompt")
        if files:
            needed.append("first_frame")
        elif "first_frame" in used:
            raise BadInput(
                f"ComfyUI workflow {path} loads a first frame ({{{{first_frame}}}}) and the request has none.",
                "Give a first frame, or choose a text-to-video workflow.",
            )
        for name in needed:
            if name not in used:
                mark = "{{" + name + "}}"
                raise BadInput(
                    f"ComfyUI workflow {path} has no {mark} placeholder, so promptreel cannot set the "
                    f"{PLACEHOLDERS[name]}.",
                    f'Put "{mark}" as the value of the node input that sets it, or choose another workflow.',
                )
        # client_id carries our job id into ComfyUI's queue and history, where find_created looks for it.
        # The first frame rides in `files`: submit uploads it to ComfyUI's input folder before the prompt.
        return WireCall("POST", "/prompt", json={"prompt": workflow, "client_id": client_ref}, files=files)

    def route_auth(self) -> Basic | None:
        return Basic(*self._login, self.hosts()) if self._login else None

    # submit -----------------------------------------------------------------------------
    def _unreachable(self, e: httpx.TransportError) -> ProviderError:
        return ProviderError(
            ErrorKind.RETRYABLE,
            f"Cannot reach ComfyUI at {self.base_url} ({type(e).__name__}). Start ComfyUI there, or set "
            "PROMPTREEL_COMFYUI_BASE_URL (or base_urls.comfyui in settings) to where it runs.",
        )

    async def _send(self, method: str, path: str, *, creating: bool = False, **kw: Any) -> httpx.Response:
        try:
            return await send(self.client, method, path, vendor="ComfyUI", creating=creating, **kw)
        except ProviderError as e:
            if isinstance(e.__context__, httpx.ConnectError):  # nothing was delivered: safe to retry, even a create
                raise self._unreachable(e.__context__) from None
            raise

    async def upload(self, name: str, data: bytes, mime: str) -> str:
        """One image into ComfyUI's input folder; the name LoadImage reads it by."""
        r = await send_before_create(
            self.client,
            "POST",
            "/upload/image",
            vendor="ComfyUI",
            data={"type": "input", "overwrite": "true"},
            files={"image": (name, data, mime)},
        )
        if isinstance(r, str):  # nothing is queued by an upload: resending it is safe
            raise ProviderError(ErrorKind.RETRYABLE, f"Uploading the first frame to ComfyUI failed ({r}).")
        if r.status_code != 200:
            raise self._classify(r)
        answer = _json(r, dict)
        return "/".join(p for p in (answer.get("subfolder") or "", str(answer.get("name") or name)) if p)

    async def submit(self, call: WireCall, staging: Path) -> Submitted:
        body = call.json
        for name, data, mime in (call.files or {}).values():
            stored = await self.upload(name, data, mime)
            if stored != name:  # ComfyUI renamed it: point the workflow's LoadImage at the stored name
                body = {**body, "prompt": fill_name(body["prompt"], name, stored)}
        # Other transport errors (a timeout, a dropped answer) propagate: the prompt may have been
        # queued, so the engine reconciles with find_created before sending again.
        r = await self._send(call.method, call.path, creating=True, json=body, headers=call.headers)
        if r.status_code != 200:
            raise self._classify(r)
        try:
            return Submitted(job_id=PromptAccepted.model_validate(r.json()).prompt_id, state=JobState.QUEUED)
        except ValueError:  # a garbled answer to a create: look for the prompt before anyone resends
            found = await self.find_created(call, call.json["client_id"], datetime.now(timezone.utc))
            if found is None:
                raise ProviderError(
                    ErrorKind.RETRYABLE, f"ComfyUI answered /prompt with {r.text[:200]!r}.", status=200
                ) from None
            return Submitted(job_id=found, state=JobState.QUEUED)

    def _classify(self, r: httpx.Response) -> ProviderError:
        if r.status_code >= 500:
            return ProviderError(ErrorKind.RETRYABLE, f"ComfyUI answered HTTP {r.status_code}.", status=r.status_code)
        if r.status_code == 401 or r.status_code == 403:
            return ProviderError(
                ErrorKind.AUTH,
                f"ComfyUI at {self.base_url} refused access (HTTP {r.status_code}).",
                status=r.status_code,
            )
        if r.status_code == 400 and "node_errors" in r.text:
            return ProviderError(ErrorKind.BAD_REQUEST, rejection_message(_json(r, dict)), status=400)
        return ProviderError(
            ErrorKind.BAD_REQUEST, f"ComfyUI answered HTTP {r.status_code}: {r.text[:200]}", status=r.status_code
        )

    # poll -------------------------------------------------------------------------------
    async def _history(self, prompt_id: str) -> HistoryEntry | None:
        r = await self._send("GET", f"/history/{prompt_id}")
        if r.status_code != 200:
            raise self._classify(r)
        entry = _json(r, dict).get(prompt_id)
        return None if entry is None else HistoryEntry.model_validate(entry)

    async def _queue(self) -> tuple[list[list[Any]], list[list[Any]]]:
        r = await self._send("GET", "/queue")
        if r.status_code != 200:
            raise self._classify(r)
        body = _json(r, dict)
        return body.get("queue_running", []), body.get("queue_pending", [])

    async def poll(self, job_id: str) -> Status:
        entry = await self._history(job_id)
        if entry is None:
            running, pending = await self._queue()
            if any(_item_id(i) == job_id for i in running):
                return Status(JobState.RUNNING, raw_state="running")
            if any(_item_id(i) == job_id for i in pending):
                return Status(JobState.QUEUED, raw_state="pending")
            entry = await self._history(job_id)  # it may have finished between the two reads
            if entry is None:
                # ComfyUI keeps its queue and history in memory: a restart forgets the prompt.
                return Status(
                    JobState.FAILED,
                    raw_state="unknown",
                    error=ProviderError(
                        ErrorKind.RETRYABLE,
                        f"ComfyUI at {self.base_url} no longer knows prompt {job_id} (was it restarted?).",
                    ),
                )
        return self.status_of(entry)

    def status_of(self, entry: HistoryEntry) -> Status:
        status = entry.status
        raw = status.status_str if status else "success"  # ComfyUI before status reporting: outputs only
        if status is not None and raw == "error":
            events = {m[0]: m[1] for m in status.messages if len(m) == 2 and isinstance(m[1], dict)}
            if "execution_interrupted" in events:
                return Status(JobState.CANCELED, raw_state=raw)
            return Status(
                JobState.FAILED,
                raw_state=raw,
                error=ProviderError(ErrorKind.PROVIDER, execution_error_message(events.get("execution_error"))),
            )
        if status is not None and not status.completed:
            return Status(JobState.RUNNING, raw_state=raw or "running")
        media = [MediaRef(url=self.view_url(f)) for f in video_outputs(entry)]
        if not media:
            return Status(
                JobState.FAILED,
                raw_state=raw,
                error=ProviderError(
                    ErrorKind.PROVIDER,
                    "ComfyUI finished the workflow but it saved no video. Give the workflow a video output "
                    "node (SaveVideo, SaveWEBM or VideoHelperSuite's Video Combine).",
                ),
            )
        return Status(JobState.SUCCEEDED, raw_state=raw, media=media)

    # download ---------------------------------------------------------------------------
    def view_url(self, f: OutputFile) -> str:
        return f"{self.base_url}/view?" + urlencode({"filename": f.filename, "subfolder": f.subfolder, "type": f.type})

    # reconcile, cancel --------------------------------------------------------------------
    async def find_created(self, call: WireCall, client_ref: str, sent_at: datetime) -> str | None:
        """The prompt our lost create queued: ComfyUI keeps client_id in each prompt's extra data."""
        running, pending = await self._queue()
        for item in running + pending:
            if _item_client(item) == client_ref:
                return _item_id(item)
        # A lost create is recent: the newest entries suffice, and each carries its whole workflow.
        r = await self._send("GET", "/history", params={"max_items": HISTORY_WINDOW})
        if r.status_code != 200:
            raise self._classify(r)
        found = [pid for pid, e in _json(r, dict).items() if _item_client(e.get("prompt", [])) == client_ref]
        return found[-1] if found else None  # history is oldest first

    async def cancel(self, job_id: str) -> None:
        running, pending = await self._queue()
        if any(_item_id(i) == job_id for i in pending):
            await self._send("POST", "/queue", json={"delete": [job_id]})
        elif any(_item_id(i) == job_id for i in running):
            # ComfyUI runs one prompt at a time; servers before targeted interrupts ignore the body.
            await self._send("POST", "/interrupt", json={"prompt_id": job_id})


def _json(r: httpx.Response, shape: type) -> Any:
    """The body as JSON of `shape`; anything else (a proxy's error page, a cut answer) may pass if retried."""
    try:
        body = r.json()
    except ValueError:
        body = None
    if not isinstance(body, shape):
        raise ProviderError(
            ErrorKind.RETRYABLE, f"ComfyUI answered {r.request.url.path} with {r.text[:200]!r}.", status=r.status_code
        )
    return body


def _item_id(item: list[Any]) -> str | None:
    return item[1] if len(item) > 1 else None


def _item_client(item: list[Any]) -> str | None:
    extra = item[3] if len(item) > 3 else None
    return extra.get("client_id") if isinstance(extra, dict) else None


def video_outputs(entry: HistoryEntry) -> list[OutputFile]:
    """Every saved video, saved outputs before temporary previews.

    SaveVideo and SaveWEBM list theirs under "images" (with "animated"); VideoHelperSuite
    uses "gifs"; others "videos". The file's extension tells a video from a still.
    """
    files = []
    for node_output in entry.outputs.values():
        for key in ("videos", "gifs", "images"):
            for item in node_output.get(key) or []:
                if isinstance(item, dict) and str(item.get("filename", "")).lower().endswith(VIDEO_SUFFIXES):
                    files.append(OutputFile.model_validate(item))
    return sorted(files, key=lambda f: f.type != "output")


def rejection_message(body: dict[str, Any]) -> str:
    """ComfyUI's 400 for an invalid workflow, in one line naming each node at fault."""
    error = body.get("error")
    if isinstance(error, dict):
        head = error.get("message", "invalid workflow")
        details = error.get("details") or ""
    else:
        head, details = str(error or "invalid workflow"), ""
    parts = []
    node_errors = body.get("node_errors") or {}
    for node_id, info in node_errors.items() if isinstance(node_errors, dict) else []:
        reasons = "; ".join(
            f"{e.get('message', '')}: {e.get('details', '')}".rstrip(": ") for e in info.get("errors", [])
        )
        parts.append(f"node {node_id} ({info.get('class_type', '?')}): {reasons}")
    text = f"ComfyUI refused the workflow: {head}"
    if parts:
        text += " — " + " | ".join(parts)
    elif details:
        text += f" ({details})"
    return text + ". Fix the workflow or install the nodes and model files it names in ComfyUI."


def execution_error_message(data: dict[str, Any] | None) -> str:
    if not data:
        return "ComfyUI reported an error running the workflow."
    return (
        f"ComfyUI failed in node {data.get('node_id', '?')} ({data.get('node_type', '?')}): "
        f"{data.get('exception_type', 'error')}: {data.get('exception_message', '').strip()}"
    )
