"""Assemble shot fields into the prompt a model family responds to best.

Each family has a recipe: the order its vendor's prompting guide describes a shot in,
how important each field is (what to drop first when the text is over the model's
`prompt_max_chars`), and what to do with a negative prompt when the model's catalog
entry has no `negative_prompt` parameter. Which family a model belongs to is data
(`family` in core/data/catalog.toml), not code.

Pure functions: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from ..catalog import Model
from ..errors import BadInput, UnsupportedRequest
from .fields import ShotFields

NEGATIVE = "negative_prompt"


@dataclass(frozen=True)
class Part:
    """One sentence of the prompt: some fields, joined, with an optional lead-in label."""

    fields: tuple[str, ...]
    label: str = ""
    joiner: str = ", "
    # (field, next field, joiner) when the two are next to each other: Wan's "subject, scene, motion"
    # reads "A fox runs." when the scene is absent.
    pairs: tuple[tuple[str, str, str], ...] = ()


# Subject and action read as one clause: "A fisherman" + "hauls a net" -> "A fisherman hauls a net."
SUBJECT_ACTION = Part(("subject", "action"), joiner=" ")
CAMERA = ("camera_angle", "camera_movement", "lens")


@dataclass(frozen=True)
class Recipe:
    parts: tuple[Part, ...]
    # Most important first; the last present field is dropped first when the text is too long.
    priority: tuple[str, ...]
    # A negative prompt for a model without the parameter: folded into the text, or dropped.
    negative: Literal["fold", "drop"]
    negative_label: str = "Avoid: "
    negative_reason: str = ""


RECIPES: dict[str, Recipe] = {
    # Google, "Veo on Vertex AI video generation prompt guide" (cloud.google.com/vertex-ai/generative-ai/
    # docs/video/video-gen-prompt-guide): subject, context, action, style, camera motion, composition,
    # ambiance. Subject + action lead (performance notes ride with the action: Google's "action" covers
    # expressions), then place, light, camera + lens, then stock / grade, mood, audio.
    # Google's Gemini API Veo guide says to list unwanted things after the phrase "Negative prompt", as
    # plain nouns rather than "no ..." (the catalog's Veo routes all take the parameter anyway).
    "veo": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(("lighting",)),
            Part(CAMERA),
            Part(("film_stock",)),
            Part(("mood",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "lighting",
            "camera_angle",
            "camera_movement",
            "performance",
            "lens",
            "film_stock",
            "mood",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
        negative_label="Negative prompt: ",
    ),
    # OpenAI, "Sora 2 Prompting Guide" (OpenAI Cookbook, examples/sora/sora2_prompting_guide): establish
    # style and tone early so the model carries it through, then the subject's action in beats, the
    # setting, one camera move, and lighting + palette. Its own worked example states avoidances in
    # prose ("Avoid signage or corporate branding."), and Sora's API has no negative prompt: fold.
    "sora": Recipe(
        parts=(
            Part(("mood",)),
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(CAMERA, label="Camera: "),
            Part(("lighting", "film_stock"), label="Lighting and palette: "),
            Part(("audio",), label="Sound: "),
        ),
        priority=(
            "subject",
            "action",
            "mood",
            "performance",
            "location",
            "camera_movement",
            "camera_angle",
            "lighting",
            "film_stock",
            "lens",
            NEGATIVE,
            "audio",
        ),
        negative="fold",
    ),
    # Runway, "Gen-4 Prompting Guide" (help.runwayml.com): subject motion, camera motion, scene motion,
    # style descriptors; keep it simple and about motion. The same guide says to use positive phrasing
    # and avoid negative prompts, so a negative prompt is dropped (with a warning), never folded.
    "runway": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("camera_movement", "camera_angle", "lens")),
            Part(("location",)),
            Part(("lighting",)),
            Part(("mood", "film_stock")),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "action",
            "subject",
            "camera_movement",
            "location",
            "camera_angle",
            "lighting",
            "performance",
            "mood",
            "film_stock",
            "lens",
            "audio",
        ),
        negative="drop",
        negative_reason="Runway's Gen-4 prompting guide advises positive phrasing and no negative prompts",
    ),
    # Kling, "Text to Video Prompt Guide" (kling.ai/quickstart/text-to-video-prompt-guide): Subject
    # (description) + subject movement + scene (description) + (camera language + lighting + atmosphere).
    # Kling's API takes negative_prompt; for a route that does not, an "Avoid:" clause is the fallback.
    "kling": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(CAMERA),
            Part(("lighting",)),
            Part(("mood",)),
            Part(("film_stock",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "performance",
            "camera_movement",
            "camera_angle",
            "lighting",
            "mood",
            "film_stock",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
    # Lightricks, LTX-Video / LTX-2 README "Prompt Engineering": one flowing paragraph; start with the main
    # action, then movements and gestures, appearances, background and environment, camera angles and
    # movements, lighting and colours. It asks for literal descriptions of what is on screen: an
    # "avoid X" clause names X in the positive prompt, which risks bringing it in, so it is dropped.
    "ltx": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(CAMERA),
            Part(("lighting", "film_stock")),
            Part(("mood",)),
            Part(("audio",)),
        ),
        priority=(
            "subject",
            "action",
            "performance",
            "location",
            "camera_movement",
            "camera_angle",
            "lighting",
            "film_stock",
            "mood",
            "lens",
            "audio",
        ),
        negative="drop",
        negative_reason="LTX's guide asks for literal descriptions, and naming what to avoid risks bringing it in",
    ),
    # xAI's video guide (docs.x.ai/developers/model-capabilities/video/generation, as summarised by [3P]
    # github.com/seaimagineai/awesome-grok-imagine-prompts docs/guides/en-US.md): text-to-video makes a
    # first frame, then animates it, so the opening composition (framing, setting, light, look) comes
    # first, then the subject and what moves. xAI's API has no negative prompt: folded, as generic does.
    "grok": Recipe(
        parts=(
            Part(("camera_angle", "lens")),
            Part(("location",)),
            Part(("lighting", "film_stock")),
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("camera_movement",), label="Camera: "),
            Part(("mood",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "camera_angle",
            "lighting",
            "camera_movement",
            "performance",
            "mood",
            "film_stock",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
    # MiniMax's video API (platform.minimax.io, video generation: camera moves written in the prompt,
    # up to three; mirrored in replicate.com/minimax/video-01-director's schema) and the Hailuo formula
    # [3P] opten.space/en/models/minimax-hailuo-2.3: camera and its motion first, then subject and action
    # in the present tense, then setting, style and atmosphere, the emotional tone last. No negative
    # prompt parameter: folded.
    "minimax": Recipe(
        parts=(
            Part(("camera_movement", "camera_angle", "lens")),
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(("lighting", "film_stock")),
            Part(("mood",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "camera_movement",
            "location",
            "performance",
            "lighting",
            "mood",
            "camera_angle",
            "film_stock",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
    # Luma's Ray guide (Dream Machine help, lumaai-help.freshdesk.com, and [3P] opten.space/en/models/
    # luma-ray-3): subject + action, setting, secondary motion, camera movement, then lighting and mood.
    # Ray is "positive only": describing what to avoid works against it, so a negative prompt is dropped.
    "luma": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("location",)),
            Part(("performance",)),
            Part(CAMERA),
            Part(("lighting", "mood")),
            Part(("film_stock",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "camera_movement",
            "lighting",
            "performance",
            "mood",
            "camera_angle",
            "film_stock",
            "lens",
            "audio",
        ),
        negative="drop",
        negative_reason="Luma's Ray guide asks for positive descriptions only",
    ),
    # Alibaba Cloud, "Model Studio: Wan video generation prompts recipe" (alibabacloud.com/blog/602777):
    # Subject (description) + Scene (description) + Motion (description) + aesthetic control (light,
    # shot size, angle, lens, camera move) + stylization. The subject, its scene and its motion make one
    # sentence in that order. Wan takes a negative prompt; without the parameter it is folded.
    "wan": Recipe(
        parts=(
            Part(("subject", "location", "action"), pairs=(("subject", "action", " "),)),
            Part(("performance",)),
            Part(("lighting",)),
            Part(CAMERA),
            Part(("film_stock",)),
            Part(("mood",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "lighting",
            "camera_movement",
            "camera_angle",
            "performance",
            "film_stock",
            "mood",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
    # The local draft slate burns the prompt into a frame an editor reads, so it is a labelled shot list
    # in the order a script supervisor would note it. No vendor guide applies.
    "draft": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("location",)),
            Part(CAMERA, label="Camera: "),
            Part(("lighting",), label="Light: "),
            Part(("film_stock",), label="Look: "),
            Part(("mood",), label="Mood: "),
            Part(("performance",), label="Performance: "),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "camera_movement",
            "camera_angle",
            "lighting",
            "performance",
            "mood",
            "film_stock",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
    # A model whose catalog entry names no family: the order most vendors' guides share (subject and
    # action, setting, camera, light, style), plain sentences, avoidances folded in.
    "generic": Recipe(
        parts=(
            SUBJECT_ACTION,
            Part(("performance",)),
            Part(("location",)),
            Part(CAMERA),
            Part(("lighting",)),
            Part(("film_stock",)),
            Part(("mood",)),
            Part(("audio",), label="Audio: "),
        ),
        priority=(
            "subject",
            "action",
            "location",
            "camera_movement",
            "camera_angle",
            "lighting",
            "performance",
            "mood",
            "film_stock",
            "lens",
            "audio",
            NEGATIVE,
        ),
        negative="fold",
    ),
}


class BuiltPrompt(BaseModel):
    """What would be sent for one model: the text, the negative prompt, and what was left out and why."""

    model: str
    family: str
    source: Literal["fields", "free text", "template"]
    text: str
    negative_prompt: str | None = None
    dropped: list[str] = []
    warnings: list[str] = []
    max_chars: int


def _sentence(part: Part, values: list[str], names: list[str] | None = None) -> str:
    # Trailing punctuation inside a joined sentence would read "A fisherman. hauls"; keep only the last.
    kept = [(n, v) for n, v in zip(names or [""] * len(values), values[:-1]) if v.rstrip(" .,;")]
    kept = [(n, v.rstrip(" .,;")) for n, v in kept] + [((names or [""])[-1], values[-1])]
    glue = {(a, b): j for a, b, j in part.pairs}
    text = part.label + kept[0][1]
    for (before, _), (name, value) in zip(kept, kept[1:]):
        text += glue.get((before, name), part.joiner) + value
    text = text[0].upper() + text[1:]
    # End on a full stop unless the sentence already ends one, inside a closing quote or not.
    return text if text.rstrip("\"'”’)").endswith((".", "!", "?", "…")) else text + "."


def render(recipe: Recipe, values: dict[str, str], negative: str | None = None) -> str:
    """The text for these field values in the recipe's order (pure; no length check)."""
    sentences = []
    for part in recipe.parts:
        names = [f for f in part.fields if values.get(f)]
        if names:
            sentences.append(_sentence(part, [values[f] for f in names], names))
    if negative:
        sentences.append(_sentence(Part((NEGATIVE,), label=recipe.negative_label), [negative]))
    return " ".join(sentences)


def recipe_for(model: Model) -> Recipe:
    return RECIPES[model.family]


def build_prompt(model: Model, fields: ShotFields | None = None, prompt: str | None = None) -> BuiltPrompt:
    """The prompt to send to `model`. Free text, when given, always wins over the fields' text."""
    fields = fields or ShotFields()
    recipe = recipe_for(model)
    limit = model.prompt_max_chars
    given = fields.present()
    negative = given.pop(NEGATIVE, None)
    warnings: list[str] = []
    dropped: list[str] = []

    if prompt is not None and prompt.strip():
        text = prompt.strip()
        if len(text) > limit:
            raise UnsupportedRequest(
                f"The prompt is {len(text)} characters; {model.id} takes at most {limit}.",
                f"Shorten it by {len(text) - limit} characters, or give shot fields (--fields) so the "
                "least important can be dropped.",
            )
        if given:
            warnings.append(f"The free-text prompt wins; shot fields not used: {', '.join(given)}.")
        if negative and not model.negative_prompt:
            # Folding would change the editor's own words, so a free-text prompt is sent as written.
            dropped.append(NEGATIVE)
            warnings.append(
                f"{model.id} takes no negative prompt and the free-text prompt is sent as written; "
                "negative prompt not sent."
            )
        return BuiltPrompt(
            model=model.id,
            family=model.family,
            source="free text",
            text=text,
            negative_prompt=negative if model.negative_prompt else None,
            dropped=dropped,
            warnings=warnings,
            max_chars=limit,
        )

    if given.get("audio") and model.audio == "none":
        given.pop("audio")
        dropped.append("audio")
        warnings.append(f"{model.id} makes no sound; audio cues dropped.")

    if not given:
        raise BadInput(
            f"Nothing to send to {model.id}: no prompt, and no shot fields it can use"
            + (" (it makes no sound, so audio cues do not count)." if "audio" in dropped else "."),
            "Give --prompt TEXT, or at least `subject` and `action` in the shot file.",
        )

    folded = None
    if negative and not model.negative_prompt:
        if recipe.negative == "fold":
            folded = negative
            warnings.append(
                f'{model.id} takes no negative prompt; folded into the text as "{recipe.negative_label.strip()} …".'
            )
        else:
            dropped.append(NEGATIVE)
            warnings.append(
                f"{model.id} takes no negative prompt and {recipe.negative_reason}; negative prompt dropped."
            )

    # Drop whole fields, least important first, until the text fits; never cut inside a field.
    kept = [f for f in recipe.priority if f in given or (f == NEGATIVE and folded)]
    cut: list[str] = []
    while True:
        values = {f: given[f] for f in kept if f != NEGATIVE}
        text = render(recipe, values, folded if NEGATIVE in kept else None)
        if len(text) <= limit:
            break
        if len(kept) == 1:
            raise UnsupportedRequest(
                f"The {kept[0].replace('_', ' ')} alone makes a {len(text)}-character prompt; "
                f"{model.id} takes at most {limit}.",
                f"Shorten the {kept[0]} field to under {limit} characters.",
            )
        cut.append(kept.pop())
    if cut:
        dropped.extend(cut)
        warnings.append(f"Dropped to fit {model.id}'s {limit}-character limit: {', '.join(cut)}.")

    return BuiltPrompt(
        model=model.id,
        family=model.family,
        source="fields",
        text=text,
        negative_prompt=negative if model.negative_prompt else None,
        dropped=dropped,
        warnings=warnings,
        max_chars=limit,
    )
