"""Provider wire protocols: one module per protocol, all with the shape of `base.Protocol`,
registered here under the route names used everywhere (catalog, CLI, journal).

Modules are imported only when a route uses them. Tests may `register` their own.
"""

from __future__ import annotations

from importlib import import_module

from .base import Protocol

_REGISTRY: dict[str, str | type[Protocol]] = {
    "draft": "promptreel.core.providers.draft:DraftProtocol",
    "openai": "promptreel.core.providers.openai:OpenAIVideos",
    "gemini": "promptreel.core.providers.gemini_veo:GeminiVeo",
    "vertex": "promptreel.core.providers.vertex:VertexVeo",
    "runway": "promptreel.core.providers.runway:Runway",
    "kling": "promptreel.core.providers.kling:Kling",
    "ltx": "promptreel.core.providers.ltx:LTX",
    "replicate": "promptreel.core.providers.replicate:Replicate",
    "fal": "promptreel.core.providers.fal:Fal",
    "comfyui": "promptreel.core.providers.comfyui:ComfyUI",
    "xai": "promptreel.core.providers.xai:XAI",
    "minimax": "promptreel.core.providers.minimax:MiniMax",
    "luma": "promptreel.core.providers.luma:Luma",
    "ark": "promptreel.core.providers.ark:Ark",
    "dashscope": "promptreel.core.providers.dashscope:DashScope",
}


# One route, more than one wire API: the Gemini API and Vertex AI serve Omni through Interactions and Veo
# through predictLongRunning, each with one credential on one host. Model ids starting with a prefix take that protocol.
_BY_MODEL: dict[str, list[tuple[str, str | type[Protocol]]]] = {
    "gemini": [("gemini-omni-", "promptreel.core.providers.gemini_omni:GeminiOmni")],
    "vertex": [("gemini-omni-", "promptreel.core.providers.vertex:VertexOmni")],
}


def register(name: str, cls: type[Protocol]) -> None:
    _REGISTRY[name] = cls


def protocol_class(name: str, model_id: str | None = None) -> type[Protocol]:
    """The protocol for route `name` (and, where a route speaks several APIs, for its `model_id`)."""
    for prefix, entry in _BY_MODEL.get(name, ()) if model_id else ():
        if model_id.startswith(prefix):
            return _load(entry)
    entry = _REGISTRY.get(name)
    if entry is None:
        raise KeyError(f"no protocol named {name!r}")
    cls = _load(entry)
    _REGISTRY[name] = cls
    return cls


def _load(entry: str | type[Protocol]) -> type[Protocol]:
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        return getattr(import_module(module), attr)
    return entry
