"""What each model Runway hosts takes on each of its video endpoints, as data.

Read from Runway's official Python SDK, runwayml 5.24.0 (checked 2026-12-06):
types/text_to_video_create_params.py, image_to_video_create_params.py and
video_to_video_create_params.py (one TypedDict per model: its ratios or resolutions, whether it
has `duration`, `seed`, `audio`, `negativePrompt`, `references`, `promptImage` positions, and the
field its source clip goes in). Lengths the SDK types leave open (any int) are from third-party
transcriptions of Runway's model pages and are marked [3P]. promptreel uses what its request can
say; reference videos and audio, Aleph's keyframes, Seedance's draft mode and output formats are
not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def pairs(*ratios: str) -> dict[str, dict[str, str]]:
    """Sizes sent as Runway's pixel ratio: "1280x720" goes as {"ratio": "1280:720"}."""
    return {r.replace(":", "x"): {"ratio": r} for r in ratios}


def tiers(by_tier: dict[str, tuple[str, ...]]) -> dict[str, dict[str, str]]:
    """Sizes sent as a `resolution` tier only (the output's aspect follows the first frame)."""
    return {r.replace(":", "x"): {"resolution": tier} for tier, ratios in by_tier.items() for r in ratios}


GEN4 = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO = ("1280:720", "720:1280", "1080:1920", "1920:1080")
SEEDANCE_480 = ("992:432", "864:496", "752:560", "640:640", "560:752", "496:864")
SEEDANCE_2_5_480 = ("992:432", "854:480", "752:560", "640:640", "560:752", "480:854")
SEEDANCE_720 = ("1470:630", "1280:720", "1112:834", "960:960", "834:1112", "720:1280")
SEEDANCE_1080 = ("2206:946", "1920:1080", "1664:1248", "1440:1440", "1248:1664", "1080:1920")
SEEDANCE_4K = ("3840:1646", "3840:2160", "3840:2880", "3840:3840", "2880:3840", "2160:3840")
HAPPYHORSE_720 = ("1280:720", "720:1280", "960:960", "1108:832", "832:1108")
HAPPYHORSE_1080 = ("1920:1080", "1080:1920", "1440:1440", "1662:1248", "1248:1662")
# Hailuo 3 takes an aspect label and a resolution tier; the pixel sizes of its 768p and 2k tiers are
# MiniMax's (1366x768 at 16:9) [3P].
HAILUO3 = {
    "1366x768": {"ratio": "16:9", "resolution": "768p"},
    "768x1366": {"ratio": "9:16", "resolution": "768p"},
    "2560x1440": {"ratio": "16:9", "resolution": "2k"},
    "1440x2560": {"ratio": "9:16", "resolution": "2k"},
}


@dataclass(frozen=True)
class Hosted:
    """One model on Runway's API. `text` / `image`: frame size -> its wire fields on /v1/text_to_video and
    /v1/image_to_video (None: the endpoint does not serve the model)."""

    text: dict[str, dict[str, str]] | None
    image: dict[str, dict[str, str]] | None
    durations: range | tuple[int, ...]
    last_frame: bool = False  # promptImage may carry a "last" position
    references: dict[str, int | None] = field(default_factory=dict)  # endpoint -> most image references (None: any)
    video: str | None = None  # the source clip's field on /v1/video_to_video
    modes: dict[str, str | None] = field(default_factory=dict)  # "remix" / "extend" -> its `mode` (None: no field)
    seed: bool = False
    audio: bool = False
    negative_prompt: bool = False


MODELS: dict[str, Hosted] = {
    "gen4.5": Hosted(pairs(*GEN4[:2]), pairs(*GEN4), range(2, 11), seed=True),
    "gen4_turbo": Hosted(None, pairs(*GEN4), range(2, 11), seed=True),
    "veo3.1": Hosted(pairs(*VEO), pairs(*VEO), (4, 6, 8), last_frame=True, seed=True, audio=True, negative_prompt=True),
    "veo3.1_fast": Hosted(
        pairs(*VEO), pairs(*VEO), (4, 6, 8), last_frame=True, seed=True, audio=True, negative_prompt=True
    ),
    # 4-15 s [3P]; the SDK's seedance2 video_to_video takes the clip as a reference only (no mode): not offered.
    "seedance2": Hosted(
        pairs(*SEEDANCE_480, *SEEDANCE_720, *SEEDANCE_1080, *SEEDANCE_4K),
        pairs(*SEEDANCE_480, *SEEDANCE_720, *SEEDANCE_1080, *SEEDANCE_4K),
        range(4, 16),
        last_frame=True,
        references={"text_to_video": 9},
        seed=True,
        audio=True,
    ),
    # 4-30 s [3P]; a clip is edited (mode edit, duration "auto") or continued (mode extend), never resized.
    "seedance2_5": Hosted(
        pairs(*SEEDANCE_2_5_480, *SEEDANCE_720, *SEEDANCE_1080),
        pairs(*SEEDANCE_2_5_480, *SEEDANCE_720, *SEEDANCE_1080),
        range(4, 31),
        last_frame=True,
        references={"text_to_video": 30, "video_to_video": 30},
        video="promptVideo",
        modes={"remix": "edit", "extend": "extend"},
        seed=True,
        audio=True,
    ),
    # 5-15 s [3P]; no seed, no audio switch.
    "hailuo3": Hosted(HAILUO3, HAILUO3, range(5, 16), last_frame=True, references={"text_to_video": 9}),
    # 3-15 s [3P]; from an image, only the resolution tier is sent.
    "happyhorse_1_0": Hosted(
        pairs(*HAPPYHORSE_720, *HAPPYHORSE_1080),
        tiers({"720p": HAPPYHORSE_720, "1080p": HAPPYHORSE_1080}),
        range(3, 16),
    ),
    # 3-10 s, 1280:720 or 720:1280, a first frame only; video_to_video edits a clip, with image references.
    "gemini_omni_flash": Hosted(
        pairs("1280:720", "720:1280"),
        pairs("1280:720", "720:1280"),
        range(3, 11),
        references={"video_to_video": None},
        video="videoUri",
        modes={"remix": None},
    ),
    # Video to video only: edits the clip it is given; no duration (the output follows the clip).
    "aleph2": Hosted(None, None, (), video="videoUri", modes={"remix": None}, seed=True),
}
