"""Provider wire protocols: one module per protocol, all with the shape of `base.Protocol`,
registered here under the route names used everywhere (catalog, CLI, journal).

Modules are imported only when a route uses them. Tests may `register` their own.
"""

from __future__ import annotations

from importlib import import_module

from .base import Protocol

_REGISTRY: dict[str, str | type[Protocol]] = {
    "draft": "promptreel.core.providers.draft:DraftProtocol",
    "openai": "promptreel.core.providers.openai_videos:OpenAIVideos",
    "gemini": "promptreel.core.providers.gemini_veo:GeminiVeo",
    "vertex": "promptreel.core.providers.vertex_veo:VertexVeo",
    "runway": "promptreel.core.providers.runway:Runway",
    "kling": "promptreel.core.providers.kling:Kling",
    "ltx": "promptreel.core.providers.ltx:LTX",
    "replicate": "promptreel.core.providers.replicate:Replicate",
    "fal": "promptreel.core.providers.fal:Fal",
    "comfyui": "promptreel.core.providers.comfyui:ComfyUI",
}


def register(name: str, cls: type[Protocol]) -> None:
    _REGISTRY[name] = cls


def protocol_class(name: str) -> type[Protocol]:
    entry = _REGISTRY.get(name)
    if entry is None:
        raise KeyError(f"no protocol named {name!r}")
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(import_module(module), attr)
        _REGISTRY[name] = entry
    return entry
