"""How promptreel reaches Resolve: connected (external scripting or the Scripts-menu bridge) or file mode.

| edition | external scripting | Scripts-menu bridge | so |
|---|---|---|---|
| Studio | yes (External scripting: Local) | yes | connected |
| free <= 21.0.x | no | yes | connected through the bridge |
| free >= 21.1 | no | no (runs no Python scripts) | file mode: OTIO out and back |
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

FREE_SCRIPTS_REMOVED = (21, 1)  # "Advanced scripting now requires DaVinci Resolve Studio"


class Decision(BaseModel):
    mode: Literal["connected", "file"]
    route: Literal["external", "bridge"] | None = None
    reason: str


def _version(version) -> tuple[int, ...]:
    out = []
    for part in version or ():
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and part.isdigit():
            out.append(int(part))
        else:
            break
    return tuple(out)


def decide(product: str | None, version=None, external: bool = False, bridge: bool = False) -> Decision:
    """The mode, from what Resolve reported (product name, version list) and which route answered.

    `product`/`version` come from whichever route answered; with neither, they may come from what
    the user told us (or be None: nothing is known)."""
    studio = product is not None and "Studio" in product
    ver = _version(version)
    if bridge:
        return Decision(
            mode="connected",
            route="bridge",
            reason=f"The promptreel bridge is running inside {product or 'Resolve'} (Workspace > Scripts).",
        )
    if external:
        return Decision(
            mode="connected", route="external", reason=f"{product or 'Resolve Studio'} answers external scripting."
        )
    if product is None:
        return Decision(
            mode="file",
            reason=(
                "Resolve did not answer. Studio: set Preferences > System > General > External scripting to Local, "
                "or run Workspace > Scripts > promptreel. Free up to 21.0: run Workspace > Scripts > promptreel. "
                "Free 21.1 or later runs no Python scripts: use file mode (File > Export > Timeline as OTIO, "
                "fill it in `promptreel resolve panel`, File > Import > Timeline)."
            ),
        )
    if studio:
        return Decision(
            mode="file",
            reason=(
                f"{product} did not answer external scripting and no bridge is running: set External scripting "
                "to Local, or run Workspace > Scripts > promptreel."
            ),
        )
    if ver and ver >= FREE_SCRIPTS_REMOVED:
        return Decision(
            mode="file",
            reason=(
                f"The free edition {'.'.join(map(str, ver))} runs no Python scripts (since 21.1): file mode. "
                "Export the timeline as OTIO, fill it in `promptreel resolve panel`, import it back; "
                "or use Resolve Studio."
            ),
        )
    return Decision(
        mode="file",
        reason=(
            f"{product} {'.'.join(map(str, ver))} (free) reaches promptreel only through the Scripts menu: "
            "run Workspace > Scripts > promptreel in Resolve.".replace("  ", " ")
        ),
    )
