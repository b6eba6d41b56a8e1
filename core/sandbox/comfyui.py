"""A fake ComfyUI server on loopback, speaking ComfyUI's HTTP API as its server.py and execution.py do.

- POST /prompt validates the workflow the way ComfyUI does (every class_type known, required
  inputs present, links pointing at existing nodes and outputs of the right type, values of the
  right type and range, choices from the node's list), answering 400 with `error` and
  `node_errors` when it is wrong, so a template bug fails a test.
- A prompt moves pending -> running -> history one step per read of GET /history/{id}
  (no clocks), and GET /queue shows where it is. Items are [number, prompt_id, workflow,
  extra_data, outputs_to_execute]; extra_data carries client_id.
- Finishing renders a real MP4 with ffmpeg at the width, height, length and fps the workflow
  asked for (SaveVideo <- CreateVideo <- ... <- EmptyLTXVLatentVideo or Wan22ImageToVideoLatent,
  each with its own length and size rule), with sound when CreateVideo is given audio (LTX-2),
  served by GET /view.
- POST /upload/image stores an image in the input folder, as ComfyUI's server.py does; LoadImage
  then validates its `image` against what is there ("Invalid image file"), as its VALIDATE_INPUTS does.

Faults, per prompt, with the header `X-Fake-Fault` on POST /prompt (or `fake.fault("outcome", name)`):
  node_errors      400: the model files the workflow names are not installed (value_not_in_list)
  execution_error  the prompt fails in the sampler with torch.OutOfMemoryError
  no_outputs       the prompt succeeds without saving anything
  truncate_view    the first download of its video is cut short
  drop             the prompt is queued, then the connection closes without an answer
  garbled          the prompt is queued, and the answer is not JSON
  server_error     500, nothing queued
`restart()` forgets queue and history, as a ComfyUI restart does.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .fake import Fake
from .loopback import Call, Handler, Reply
from .media import FULL, Limit, multipart

# The model files "installed" in the fake's models/ folders.
CHECKPOINTS = ["ltx-video-2b-v0.9.5.safetensors", "ltx-2-19b-dev-fp8.safetensors"]
TEXT_ENCODERS = [
    "t5xxl_fp16.safetensors",
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    "gemma_3_12B_it_fp4_mixed.safetensors",
]
DIFFUSION_MODELS = ["wan2.2_ti2v_5B_fp16.safetensors"]
VAES = ["wan2.2_vae.safetensors"]
MODEL_LISTS = (CHECKPOINTS, TEXT_ENCODERS, DIFFUSION_MODELS, VAES)
AUDIO_VAES = VAES + CHECKPOINTS  # LTXVAudioVAELoader lists models/vae and models/checkpoints together
INPUT_FILES: list[str] = []  # stands for the images uploaded to the input folder (LoadImage)
# Latent nodes the video's shape comes from: (input giving the frame count, frames step, size step).
LATENTS = {"EmptyLTXVLatentVideo": ("length", 8, 32), "Wan22ImageToVideoLatent": ("length", 4, 16)}
SAMPLERS = ("SamplerCustomAdvanced", "KSampler")
MAX_RES = 16384
U64 = 0xFFFFFFFFFFFFFFFF


Input = tuple[str | list[str]] | tuple[str | list[str], dict[str, float]]  # as ComfyUI's INPUT_TYPES


@dataclass
class NodeDef:
    required: dict[str, Input]  # name -> (type,) or (type, {min, max}) ; type: "INT", "LATENT", or a list of choices
    returns: tuple[str, ...] = ()
    output: bool = False
    optional: dict[str, Input] = field(default_factory=dict)


def _int(lo: int, hi: int) -> Input:
    return ("INT", {"min": lo, "max": hi})


def _float(lo: float, hi: float) -> Input:
    return ("FLOAT", {"min": lo, "max": hi})


# The built-in nodes the shipped workflows use (LTX-Video, LTX-2, Wan 2.2 TI2V-5B: comfy_extras/nodes_lt.py,
# nodes_lt_audio.py, nodes_wan.py, nodes_model_advanced.py, nodes_custom_sampler.py, nodes_video.py,
# nodes.py), with their inputs as INPUT_TYPES / define_schema declares them.
NODES: dict[str, NodeDef] = {
    "CheckpointLoaderSimple": NodeDef({"ckpt_name": (CHECKPOINTS,)}, ("MODEL", "CLIP", "VAE")),
    "CLIPLoader": NodeDef(
        {"clip_name": (TEXT_ENCODERS,), "type": (["stable_diffusion", "sd3", "mochi", "ltxv", "wan"],)},
        ("CLIP",),
        optional={"device": (["default", "cpu"],)},
    ),
    "UNETLoader": NodeDef(
        {"unet_name": (DIFFUSION_MODELS,), "weight_dtype": (["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"],)},
        ("MODEL",),
    ),
    "VAELoader": NodeDef({"vae_name": (VAES,)}, ("VAE",)),
    "ModelSamplingSD3": NodeDef({"model": ("MODEL",), "shift": _float(0.0, 100.0)}, ("MODEL",)),
    "Wan22ImageToVideoLatent": NodeDef(
        {
            "vae": ("VAE",),
            "width": _int(32, MAX_RES),
            "height": _int(32, MAX_RES),
            "length": _int(1, MAX_RES),
            "batch_size": _int(1, 4096),
        },
        ("LATENT",),
        optional={"start_image": ("IMAGE",)},
    ),
    "KSampler": NodeDef(
        {
            "model": ("MODEL",),
            "seed": _int(0, U64),
            "steps": _int(1, 10000),
            "cfg": _float(0.0, 100.0),
            "sampler_name": (["euler", "euler_ancestral", "dpmpp_2m", "uni_pc", "res_multistep"],),
            "scheduler": (["simple", "normal", "karras", "beta", "sgm_uniform"],),
            "positive": ("CONDITIONING",),
            "negative": ("CONDITIONING",),
            "latent_image": ("LATENT",),
            "denoise": _float(0.0, 1.0),
        },
        ("LATENT",),
    ),
    "LoadImage": NodeDef({"image": (INPUT_FILES,)}, ("IMAGE", "MASK")),
    "LTXAVTextEncoderLoader": NodeDef(
        {"text_encoder": (TEXT_ENCODERS,), "ckpt_name": (CHECKPOINTS,)},
        ("CLIP",),
        optional={"device": (["default", "cpu"],)},
    ),
    "LTXVAudioVAELoader": NodeDef({"ckpt_name": (AUDIO_VAES,)}, ("VAE",)),
    "LTXVEmptyLatentAudio": NodeDef(
        {
            "frames_number": _int(1, 1000),
            "frame_rate": _float(1.0, 1000.0),
            "batch_size": _int(1, 4096),
            "audio_vae": ("VAE",),
        },
        ("LATENT",),
    ),
    "LTXVConcatAVLatent": NodeDef({"video_latent": ("LATENT",), "audio_latent": ("LATENT",)}, ("LATENT",)),
    "LTXVSeparateAVLatent": NodeDef({"av_latent": ("LATENT",)}, ("LATENT", "LATENT")),
    "LTXVAudioVAEDecode": NodeDef({"samples": ("LATENT",), "audio_vae": ("VAE",)}, ("AUDIO",)),
    "LTXVPreprocess": NodeDef({"image": ("IMAGE",), "img_compression": _int(0, 100)}, ("IMAGE",)),
    "LTXVImgToVideoInplace": NodeDef(
        {"vae": ("VAE",), "image": ("IMAGE",), "latent": ("LATENT",), "strength": _float(0.0, 1.0)},
        ("LATENT",),
        optional={"bypass": ("BOOLEAN",)},
    ),
    "CLIPTextEncode": NodeDef({"text": ("STRING",), "clip": ("CLIP",)}, ("CONDITIONING",)),
    "LTXVConditioning": NodeDef(
        {"positive": ("CONDITIONING",), "negative": ("CONDITIONING",), "frame_rate": _float(0.0, 1000.0)},
        ("CONDITIONING", "CONDITIONING"),
    ),
    "EmptyLTXVLatentVideo": NodeDef(
        {
            "width": _int(64, MAX_RES),
            "height": _int(64, MAX_RES),
            "length": _int(1, MAX_RES),
            "batch_size": _int(1, 4096),
        },
        ("LATENT",),
    ),
    "LTXVScheduler": NodeDef(
        {
            "steps": _int(1, 10000),
            "max_shift": _float(0.0, 100.0),
            "base_shift": _float(0.0, 100.0),
            "stretch": ("BOOLEAN",),
            "terminal": _float(0.0, 0.99),
        },
        ("SIGMAS",),
        optional={"latent": ("LATENT",)},
    ),
    "KSamplerSelect": NodeDef(
        {"sampler_name": (["euler", "euler_ancestral", "dpmpp_2m", "res_multistep"],)}, ("SAMPLER",)
    ),
    "RandomNoise": NodeDef({"noise_seed": _int(0, U64)}, ("NOISE",)),
    "CFGGuider": NodeDef(
        {"model": ("MODEL",), "positive": ("CONDITIONING",), "negative": ("CONDITIONING",), "cfg": _float(0.0, 100.0)},
        ("GUIDER",),
    ),
    "SamplerCustomAdvanced": NodeDef(
        {
            "noise": ("NOISE",),
            "guider": ("GUIDER",),
            "sampler": ("SAMPLER",),
            "sigmas": ("SIGMAS",),
            "latent_image": ("LATENT",),
        },
        ("LATENT", "LATENT"),
    ),
    "VAEDecode": NodeDef({"samples": ("LATENT",), "vae": ("VAE",)}, ("IMAGE",)),
    "CreateVideo": NodeDef(
        {"images": ("IMAGE",), "fps": _float(1.0, 120.0)}, ("VIDEO",), optional={"audio": ("AUDIO",)}
    ),
    "SaveVideo": NodeDef(
        {
            "video": ("VIDEO",),
            "filename_prefix": ("STRING",),
            "format": (["auto", "mp4"],),
            "codec": (["auto", "h264"],),
        },
        (),
        output=True,
    ),
    "SaveImage": NodeDef({"images": ("IMAGE",), "filename_prefix": ("STRING",)}, (), output=True),
}
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN"}


def _err(kind: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _is_link(value: Any) -> bool:
    return isinstance(value, list)


def validate(  # noqa: C901 - mirrors ComfyUI's validate_prompt, check for check
    workflow: Any,
    installed: bool = True,
    uploaded: Any = (),
) -> tuple[dict[str, Any] | None, dict[str, Any], list[str]]:
    """(error, node_errors, outputs) as ComfyUI's validate_prompt gives them; error None when valid.

    `installed` False: no model files at all (the node_errors fault); `uploaded`: the input folder's images."""
    if not isinstance(workflow, dict):
        return _err("invalid_prompt", "Cannot execute because the prompt is not a map of nodes.", ""), {}, []
    outputs = []
    for node_id, node in workflow.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return (
                _err(
                    "invalid_prompt",
                    "Cannot execute because a node is missing the class_type property.",
                    f"Node ID '#{node_id}'",
                ),
                {},
                [],
            )
        nd = NODES.get(node["class_type"])
        if nd is None:
            return (
                _err(
                    "invalid_prompt",
                    f"Cannot execute because node {node['class_type']} does not exist.",
                    f"Node ID '#{node_id}'",
                ),
                {},
                [],
            )
        if nd.output:
            outputs.append(node_id)
    if not outputs:
        return _err("prompt_no_outputs", "Prompt has no outputs", ""), {}, []

    node_errors: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def check(node_id: str, output: str) -> bool:  # noqa: C901 - mirrors ComfyUI's validate_inputs, check for check
        if node_id in seen:
            return node_id not in node_errors
        seen.add(node_id)
        node = workflow[node_id]
        nd = NODES[node["class_type"]]
        inputs = node.get("inputs", {})
        errors = []
        upstream_ok = True
        for name, spec in [*nd.required.items(), *((k, v) for k, v in nd.optional.items() if k in inputs)]:
            if name not in inputs:
                errors.append(_err("required_input_missing", "Required input is missing", name, input_name=name))
                continue
            value, kind = inputs[name], spec[0]
            limits = spec[1] if len(spec) > 1 else {}
            if _is_link(value):
                if len(value) != 2 or not isinstance(value[1], int):
                    errors.append(
                        _err(
                            "bad_linked_input",
                            "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                            name,
                            input_name=name,
                            received_value=value,
                        )
                    )
                    continue
                source = workflow.get(str(value[0]))
                if source is None:
                    errors.append(
                        _err(
                            "bad_linked_input",
                            "Linked node does not exist",
                            f"{name}: node {value[0]}",
                            input_name=name,
                            received_value=value,
                        )
                    )
                    continue
                returns = NODES[source["class_type"]].returns
                received = returns[value[1]] if 0 <= value[1] < len(returns) else None
                if not isinstance(kind, list) and received != kind:
                    errors.append(
                        _err(
                            "return_type_mismatch",
                            "Return type mismatch between linked nodes",
                            f"{name}, received_type({received}) mismatch input_type({kind})",
                            input_name=name,
                            received_type=received,
                            linked_node=value,
                        )
                    )
                    continue
                upstream_ok = check(str(value[0]), output) and upstream_ok
                continue
            if kind is INPUT_FILES:  # LoadImage checks the file itself (VALIDATE_INPUTS), not a list
                if value not in uploaded:
                    errors.append(
                        _err(
                            "custom_validation_failed",
                            "Custom validation failed for node",
                            f"{name} - Invalid image file: {value}",
                            input_name=name,
                            received_value=value,
                        )
                    )
                continue
            if isinstance(kind, list):
                is_models = any(kind is m for m in MODEL_LISTS) or kind is AUDIO_VAES
                choices = [] if is_models and not installed else kind
                if value not in choices:
                    errors.append(
                        _err(
                            "value_not_in_list",
                            "Value not in list",
                            f"{name}: '{value}' not in {choices}",
                            input_name=name,
                            received_value=value,
                        )
                    )
                continue
            ok = {
                "INT": isinstance(value, int) and not isinstance(value, bool),
                "FLOAT": isinstance(value, (int, float)) and not isinstance(value, bool),
                "STRING": isinstance(value, str),
                "BOOLEAN": isinstance(value, bool),
            }.get(kind, False)
            if not ok:
                errors.append(
                    _err(
                        "invalid_input_type",
                        f"Failed to convert an input value to a {kind} value",
                        f"{name}, {value!r}",
                        input_name=name,
                        received_value=value,
                    )
                )
                continue
            if "min" in limits and value < limits["min"]:
                errors.append(
                    _err(
                        "value_smaller_than_min",
                        f"Value {value} smaller than min of {limits['min']}",
                        name,
                        input_name=name,
                        received_value=value,
                    )
                )
            elif "max" in limits and value > limits["max"]:
                errors.append(
                    _err(
                        "value_bigger_than_max",
                        f"Value {value} bigger than max of {limits['max']}",
                        name,
                        input_name=name,
                        received_value=value,
                    )
                )
        if errors:
            node_errors[node_id] = {"errors": errors, "dependent_outputs": [output], "class_type": node["class_type"]}
        return not errors and upstream_ok

    good = [o for o in outputs if check(o, o)]
    if not good:
        details = "\n".join(f"{e['message']}: {e['details']}" for ne in node_errors.values() for e in ne["errors"])
        return _err("prompt_outputs_failed_validation", "Prompt outputs failed validation", details), node_errors, []
    return None, node_errors, good


@dataclass
class QueuedPrompt:
    """A prompt in the fake ComfyUI server's queue, and its history entry once run."""

    number: int
    prompt_id: str
    workflow: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: list[str]
    fault: str = ""
    reads: int = 0
    interrupted: bool = False
    entry: dict[str, Any] | None = None  # the history entry, once finished
    created: float = field(default_factory=time.monotonic)

    @property
    def item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.workflow, self.extra_data, self.outputs_to_execute]


class FakeComfyUI(Fake):
    route_name = "comfyui"

    # The workflow names the render size, length and rate: by default the fake renders exactly that.
    def __init__(
        self,
        queued_reads: int = 1,
        running_reads: int = 1,
        basic_auth: tuple[str, str] | None = None,
        *,
        latency: float = 0.0,
        limit: Limit = FULL,
        port: int = 0,
    ):
        super().__init__(latency=latency, limit=limit, port=port)
        self.queued_reads = queued_reads  # reads of /history/{id} while pending
        self.running_reads = running_reads  # then while running
        self.jobs: dict[str, QueuedPrompt] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, filename) -> bytes
        self.uploads: list[str] = []  # names given to POST /upload/image, in order
        self.truncate_once: set[tuple[str, str, str]] = set()
        self._numbers = itertools.count()
        self._counters: dict[tuple[str, str], int] = {}
        self._lock = threading.RLock()
        # ComfyUI has no auth of its own; a LAN box may sit behind a proxy that asks for Basic auth.
        self.authorization = None
        if basic_auth:
            self.authorization = "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()

        def r(method: str, pattern: str, op: str | None = None) -> Callable[[Handler], Handler]:
            def register(handler: Handler) -> Handler:
                def guarded(call: Call) -> Reply:
                    if self.authorization and call.headers.get("authorization") != self.authorization:
                        return Reply(401, "401: Unauthorized", {"WWW-Authenticate": 'Basic realm="comfyui"'})
                    return handler(call)

                return self.route(method, pattern, op)(guarded)

            return register

        r("POST", r"/prompt", "create")(self._post_prompt)
        r("GET", r"/history/(?P<id>[^/]+)", "poll")(self._get_history_one)
        r("GET", r"/history")(self._get_history)
        r("GET", r"/queue")(self._get_queue)
        r("POST", r"/queue")(self._post_queue)
        r("POST", r"/interrupt")(self._post_interrupt)
        r("POST", r"/upload/image")(self._upload_image)
        r("GET", r"/view")(self._view)

    @classmethod
    def sandboxed(cls, **kw: Any) -> FakeComfyUI:
        return cls(**kw)  # ComfyUI takes no key

    def env(self) -> dict[str, str]:
        return {"PROMPTREEL_COMFYUI_BASE_URL": self.base_url}  # ComfyUI takes no key

    def restart(self) -> None:
        with self._lock:
            self.jobs.clear()

    # --- state ---------------------------------------------------------------------------
    def _state(self, job: QueuedPrompt) -> str:
        if job.entry is not None:
            return "done"
        if job.reads <= self.queued_reads or not self.ready(job.created):
            return "pending"
        if job.reads <= self.queued_reads + self.running_reads and not job.interrupted:
            return "running"
        job.entry = self._finish(job)
        return "done"

    def _finish(self, job: QueuedPrompt) -> dict[str, Any]:
        start = ["execution_start", {"prompt_id": job.prompt_id}]
        cached = ["execution_cached", {"nodes": [], "prompt_id": job.prompt_id}]
        if job.interrupted:
            return self._entry(
                job,
                {},
                "error",
                False,
                [
                    start,
                    cached,
                    [
                        "execution_interrupted",
                        {
                            "prompt_id": job.prompt_id,
                            "node_id": "11",
                            "node_type": "SamplerCustomAdvanced",
                            "executed": [],
                        },
                    ],
                ],
            )
        if job.fault == "execution_error":
            node_id = next(
                (k for k, n in job.workflow.items() if n["class_type"] in SAMPLERS), next(iter(job.workflow))
            )
            return self._entry(
                job,
                {},
                "error",
                False,
                [
                    start,
                    cached,
                    [
                        "execution_error",
                        {
                            "prompt_id": job.prompt_id,
                            "node_id": node_id,
                            "node_type": job.workflow[node_id]["class_type"],
                            "executed": [],
                            "exception_message": (
                                "Allocation on device \nThis error means you ran out of memory on your GPU."
                            ),
                            "exception_type": "torch.OutOfMemoryError",
                            "traceback": ["..."],
                            "current_inputs": {},
                            "current_outputs": {},
                        },
                    ],
                ],
            )
        outputs = {} if job.fault == "no_outputs" else {o: self._run_output(job, o) for o in job.outputs_to_execute}
        return self._entry(
            job, outputs, "success", True, [start, cached, ["execution_success", {"prompt_id": job.prompt_id}]]
        )

    def _entry(
        self, job: QueuedPrompt, outputs: dict[str, Any], status_str: str, completed: bool, messages: list[Any]
    ) -> dict[str, Any]:
        return {
            "prompt": job.item,
            "outputs": outputs,
            "status": {"status_str": status_str, "completed": completed, "messages": messages},
        }

    def _upstream(self, workflow: dict[str, Any], node_id: str, class_type: str) -> dict[str, Any] | None:
        todo, seen = [node_id], set()
        while todo:
            nid = todo.pop()
            if nid in seen:
                continue
            seen.add(nid)
            node = workflow[nid]
            if node["class_type"] == class_type:
                inputs: dict[str, Any] = node["inputs"]
                return inputs
            todo += [str(v[0]) for v in node["inputs"].values() if _is_link(v)]
        return None

    def _save(self, prefix: str, ext: str, data: bytes) -> dict[str, Any]:
        subfolder, _, base = prefix.rpartition("/")
        with self._lock:
            n = self._counters[(subfolder, base)] = self._counters.get((subfolder, base), 0) + 1
        name = f"{base}_{n:05}_.{ext}"
        self.files[("output", subfolder, name)] = data
        return {"filename": name, "subfolder": subfolder, "type": "output"}

    def _run_output(self, job: QueuedPrompt, node_id: str) -> dict[str, Any]:
        node = job.workflow[node_id]
        inputs = node["inputs"]
        if node["class_type"] == "SaveImage":
            return {"images": [self._save(inputs["filename_prefix"], "png", b"\x89PNG fake")]}
        kind, latent = next((k, i) for k in LATENTS if (i := self._upstream(job.workflow, node_id, k)) is not None)
        video = self._upstream(job.workflow, node_id, "CreateVideo")
        assert video is not None, "a video output is SaveVideo <- CreateVideo <- ... (the module docstring)"
        length, step, size_step = LATENTS[kind]
        # LTX makes 8k+1 frames, Wan 4k+1: a length between is cut down, as the VAE does.
        frames = (latent[length] - 1) // step * step + 1
        fps = Fraction(video["fps"]).limit_denominator(1001)
        data = self.media(
            latent["width"] // size_step * size_step,
            latent["height"] // size_step * size_step,
            fps,
            seconds=Fraction(frames) / fps,
            audio=_is_link(video.get("audio")),
            frames=frames,
        )
        saved = self._save(inputs["filename_prefix"], "mp4", data)
        if job.fault == "truncate_view":
            self.truncate_once.add(("output", saved["subfolder"], saved["filename"]))
        return {"images": [saved], "animated": [True]}

    # --- routes ------------------------------------------------------------------------------
    def _post_prompt(self, call: Call) -> Reply:
        body = call.json()
        if not isinstance(body, dict) or "prompt" not in body:
            return Reply(
                400, {"error": _err("no_prompt", "No prompt provided", "No prompt provided"), "node_errors": {}}
            )
        fault = self.take("outcome", call) or ""
        if fault == "server_error":
            return Reply(500, "500 Internal Server Error")
        uploaded = {f"{sub}/{name}" if sub else name for (kind, sub, name) in self.files if kind == "input"}
        error, node_errors, outputs = validate(body["prompt"], installed=fault != "node_errors", uploaded=uploaded)
        if error is not None:
            return Reply(400, {"error": error, "node_errors": node_errors})
        extra = dict(body.get("extra_data", {}))
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        with self._lock:
            job = QueuedPrompt(
                next(self._numbers), str(body.get("prompt_id") or uuid.uuid4()), body["prompt"], extra, outputs, fault
            )
            self.jobs[job.prompt_id] = job
            self.count_create()
        if fault == "drop":
            return Reply(drop=True)
        if fault == "garbled":
            return Reply(200, '{"prompt_id": "' + job.prompt_id[:8], {"Content-Type": "application/json"})
        return Reply(200, {"prompt_id": job.prompt_id, "number": job.number, "node_errors": node_errors})

    def _get_history_one(self, call: Call) -> Reply:
        with self._lock:
            job = self.jobs.get(call.match["id"])
            if job is None:
                return Reply(200, {})
            job.reads += 1
            if self._state(job) != "done":
                return Reply(200, {})
            return Reply(200, {job.prompt_id: job.entry})

    def _get_history(self, call: Call) -> Reply:
        with self._lock:
            done = [j for j in self.jobs.values() if j.entry is not None]
            if "max_items" in call.query:  # the newest N, oldest first, as ComfyUI gives them
                done = done[max(0, len(done) - int(call.query["max_items"][0])) :]
            return Reply(200, {j.prompt_id: j.entry for j in done})

    def _get_queue(self, call: Call) -> Reply:
        with self._lock:
            states = {pid: self._state(j) for pid, j in self.jobs.items()}
            return Reply(
                200,
                {
                    "queue_running": [j.item for pid, j in self.jobs.items() if states[pid] == "running"],
                    "queue_pending": [j.item for pid, j in self.jobs.items() if states[pid] == "pending"],
                },
            )

    def _post_queue(self, call: Call) -> Reply:
        body = call.json() or {}
        with self._lock:
            for pid in body.get("delete", []):
                job = self.jobs.get(pid)
                if job is not None and self._state(job) == "pending":
                    del self.jobs[pid]
            if body.get("clear"):
                for pid in [p for p, j in self.jobs.items() if self._state(j) == "pending"]:
                    del self.jobs[pid]
        return Reply(200)

    def _post_interrupt(self, call: Call) -> Reply:
        body = call.json() or {}
        with self._lock:
            for job in self.jobs.values():
                if self._state(job) == "running" and body.get("prompt_id") in (None, job.prompt_id):
                    job.interrupted = True
        return Reply(200)

    def _upload_image(self, call: Call) -> Reply:
        parts = multipart(call)
        if parts is None or "image" not in parts[1]:
            return Reply(400)
        fields, files = parts
        filename, data, _ = files["image"]
        kind, subfolder = fields.get("type") or "input", fields.get("subfolder", "")
        if kind not in ("input", "temp", "output") or not filename or "/" in filename or ".." in subfolder:
            return Reply(400)
        with self._lock:
            if fields.get("overwrite", "").lower() not in ("true", "1"):
                # without overwrite ComfyUI keeps the name only for identical content, else numbers it
                stem, dot, ext = filename.rpartition(".")
                i = 1
                while self.files.get((kind, subfolder, filename), data) != data:
                    filename = f"{stem} ({i}){dot}{ext}"
                    i += 1
            self.files[(kind, subfolder, filename)] = data
            self.uploads.append(filename)
        return Reply(200, {"name": filename, "subfolder": subfolder, "type": kind})

    def _view(self, call: Call) -> Reply:
        q = {k: v[0] for k, v in call.query.items()}
        name = q.get("filename", "")
        if not name or name.startswith("/") or ".." in name:
            return Reply(400)
        key = (q.get("type", "output"), q.get("subfolder", ""), name)
        data = self.files.get(key)
        if data is None:
            return Reply(404)
        headers = {
            "Content-Type": "video/mp4" if name.endswith(".mp4") else "application/octet-stream",
            "Content-Disposition": f'filename="{name}"',
        }
        # aiohttp's FileResponse, which /view answers with, honours Range: a cut download can resume.
        if key in self.truncate_once:
            self.truncate_once.discard(key)
            return Reply(200, data, headers, truncate_at=len(data) // 2, ranges=True)
        return Reply(200, data, headers, ranges=True)
