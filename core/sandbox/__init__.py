"""The sandbox: loopback fakes of every route's wire protocol, with real media and faults on demand.

Tests drive one fake directly (`from promptreel.core.sandbox import FakeRunway`); the demo, the
benchmarks and `promptreel sandbox serve` start several at once with `sandbox(...)`, which gives the
environment that points promptreel's routes at them.
"""

from __future__ import annotations

from ..discover import size_for
from .ark import FakeArk
from .comfyui import FakeComfyUI
from .dashscope import FakeDashScope
from .fake import Fake, FakeJob, is_int
from .fal import FakeFal
from .gemini import FakeGeminiVeo
from .gemini_omni import FakeGemini
from .kling import FakeKling
from .loopback import Call, LoopbackServer, Reply
from .ltx import FakeLTX
from .luma import FakeLuma
from .media import FULL, SMALL, Limit, Spec, png, png_file, render, tiny_mp4
from .minimax import FakeMiniMax
from .openai import FakeOpenAIVideos
from .replicate import FakeReplicate
from .run import Sandbox, fake_classes, make_fake, sandbox
from .runway import FakeRunway
from .vertex import FakeVertex, FakeVertexVeo
from .xai import FakeXAI

__all__ = [
    "FULL",
    "SMALL",
    "Call",
    "Fake",
    "FakeArk",
    "FakeDashScope",
    "FakeComfyUI",
    "FakeFal",
    "FakeGemini",
    "FakeGeminiVeo",
    "FakeKling",
    "FakeLTX",
    "FakeLuma",
    "FakeMiniMax",
    "FakeOpenAIVideos",
    "FakeReplicate",
    "FakeRunway",
    "FakeVertex",
    "FakeVertexVeo",
    "FakeXAI",
    "FakeJob",
    "Limit",
    "LoopbackServer",
    "Reply",
    "Sandbox",
    "Spec",
    "fake_classes",
    "make_fake",
    "sandbox",
    "is_int",
    "png",
    "png_file",
    "render",
    "size_for",
    "tiny_mp4",
]
