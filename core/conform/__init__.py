"""Conform: probe a generated clip, plan the one transcode to the slot, execute it.

    info = probe(raw)                                   # what the clip really is
    target = Target.from_slot(slot)                     # what the timeline needs
    plan = plan_conform(info, target, Choices())        # pure: words (plan.describe()) and ffmpeg (plan.command())
    result = execute(plan, out, on_event=print)         # one ffmpeg pass, verified, renamed into place

`conform(raw, out, target)` does all three; `conform_slot(raw, slot, out)` builds the target from a slot.
"""

from .execute import ConformEvent, ConformFailed, DiskFull, conform, conform_many, conform_slot, execute, verify
from .plan import Choices, ConformPlan, choose_strategy, plan_conform
from .probe import AudioInfo, MediaInfo, probe
from .target import CodecFamily, Target, codec_families

__all__ = [
    "AudioInfo",
    "Choices",
    "CodecFamily",
    "ConformEvent",
    "ConformFailed",
    "ConformPlan",
    "DiskFull",
    "MediaInfo",
    "Target",
    "choose_strategy",
    "codec_families",
    "conform",
    "conform_many",
    "conform_slot",
    "execute",
    "plan_conform",
    "probe",
    "verify",
]
