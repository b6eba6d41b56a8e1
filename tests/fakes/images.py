"""Input images for provider tests: real PNGs of a given size, and Veo's inline form of one."""

import base64

from promptreel.core.sandbox import png


def still(tmp_path, w, h, name="frame"):
    path = tmp_path / f"{name}_{w}x{h}.png"
    path.write_bytes(png(w, h))
    return path


def inline(path) -> dict:
    return {"bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode(), "mimeType": "image/png"}
