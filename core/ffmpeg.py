"""Find an ffmpeg binary without a system install.

Order: `PROMPTREEL_FFMPEG`, then `ffmpeg` on PATH, then the binary bundled by imageio-ffmpeg.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from collections.abc import Callable
from functools import lru_cache

from .errors import BadInput


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    env = os.environ.get("PROMPTREEL_FFMPEG")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise BadInput(
                f"PROMPTREEL_FFMPEG points to {env}, which is not an executable file.",
                "Point it at an ffmpeg binary or unset it.",
            )
        return env
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception:  # imageio-ffmpeg raises RuntimeError when it has no binary for this platform
        raise BadInput("No ffmpeg found.", "Install ffmpeg, or set PROMPTREEL_FFMPEG to an ffmpeg binary.") from None


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a `preexec_fn` that has the kernel kill ffmpeg when the thread that started it dies, so
    promptreel killed with -9 leaves no ffmpeg running (elsewhere: None, and the next run cleans up after it).
    Resolved once here, so the child makes one plain call between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGKILL)


die_with_parent = _die_with_parent()
