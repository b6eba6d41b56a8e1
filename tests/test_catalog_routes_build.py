"""Every size and length the catalog offers on the openai, gemini and vertex routes builds a request
the route's protocol accepts: the catalog and the protocols agree."""

from __future__ import annotations

import httpx
import pytest

from promptreel.core.catalog import load_catalog
from promptreel.core.providers import protocol_class
from promptreel.core.request import GenerationRequest

ROUTES = ("openai", "gemini", "vertex")
CASES = [
    (model, route) for model in load_catalog().models.values() for route in model.routes if route.protocol in ROUTES
]


@pytest.mark.parametrize("model, route", CASES, ids=[f"{m.id}-{r.protocol}" for m, r in CASES])
def test_every_offered_size_and_length_builds(model, route):
    cls = protocol_class(route.protocol, route.model_id)
    # Omni on Vertex sends 1080p and 4k only to Cloud Storage: the bucket is a setting, given here.
    extra = {"project": "p", "output_gcs_uri": "gs://b/takes"} if route.protocol == "vertex" else {}
    protocol = cls(httpx.AsyncClient(), route, {"access_token": "t"}, **extra)
    built = 0
    for size in model.all_sizes():
        for seconds in model.allowed_durations(size):
            request = GenerationRequest(
                prompt="a test", model=model.id, seconds=seconds, size=str(size), fps=model.fps[0]
            )
            call = protocol.build(request, "job")
            body = call.json
            assert body is not None and call.method == "POST"
            built += 1
    assert built > 0
