"""Find an ffmpeg binary without a system install.

Order: `PROMPTREEL_FFMPEG`, then `ffmpeg` on PATH, then the binary bundled by imageio-ffmpeg.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache

from .errors import BadInput


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    env = os.environ.get("PROMPTREEL_FFMPEG")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise BadInput(f"PROMPTREEL_FFMPEG points to {env}, which is not an executable file.",
                           "Point it at an ffmpeg binary or unset it.")
        return env
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # imageio-ffmpeg raises RuntimeError when it has no binary for this platform
        raise BadInput("No ffmpeg found.", "Install ffmpeg, or set PROMPTREEL_FFMPEG to an ffmpeg binary.") from None
