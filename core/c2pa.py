"""C2PA content credentials (c2pa-python): read a file's manifest store, and sign a conformed clip
with a new manifest that names the provider's original as its ingredient.

Veo and Sora outputs carry credentials; conform's transcode drops them, so promptreel keeps the
original beside the clip and, when the user supplies a certificate, signs the clip with its own.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BadInput, UnsupportedRequest

if TYPE_CHECKING:
    import c2pa  # imported where used: reading credentials loads its native library
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    from .settings import Settings

# IPTC digital source types (what the C2PA `digitalSourceType` of an action says the media is).
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_GENERATED = IPTC + "trainedAlgorithmicMedia"
AI_COMPOSITE = IPTC + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC = IPTC + "algorithmicMedia"  # made by software without a trained model: the draft slate

# c2pa's defaults fetch a manifest a file keeps at a URL, and may ask an OCSP responder about the signer:
# reading a studio's file must send nothing, so promptreel reads (and signs) with the network off. A remote
# manifest is reported by its URL instead. (Signing asks no time-stamp authority: no TSA URL is given.)
OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "core": {"allowed_network_hosts": []}}
_REMOTE = re.compile(r"remote manifests? from url (\S+)", re.IGNORECASE)

# Containers c2pa embeds a manifest in that conform writes (it cannot embed one in Matroska).
SIGNABLE = {".mp4": "video/mp4", ".mov": "video/quicktime"}


@dataclass(frozen=True)
class Credentials:
    """The active manifest of a file's C2PA manifest store, summarised, with the whole store kept."""

    label: str | None  # the active manifest's URN
    validation: str  # c2pa's validation state (Valid, Trusted, Invalid), or "unreadable"
    generator: str = ""  # the claim generator: who made the manifest
    signer: str = ""  # the signing certificate's common name and issuer
    signed_at: str | None = None
    ai_generated: bool = False  # an action says the media was made by a trained model
    ingredients: list[dict[str, Any]] = field(default_factory=list)  # title, relationship, its active manifest
    failures: list[str] = field(default_factory=list)  # validation codes other than success
    store: dict[str, Any] = field(default_factory=dict)  # the manifest store as c2pa reports it
    remote_url: str | None = None  # the manifest is kept at this URL, which promptreel does not fetch

    def summary(self) -> dict[str, Any]:
        """Everything but the whole store: what a sidecar or a report shows first."""
        data = asdict(self)
        data.pop("store")
        return data


def summarise(store: dict[str, Any], validation: str | None) -> Credentials:
    label = store.get("active_manifest")
    active = store.get("manifests", {}).get(label or "", {})
    generator = ", ".join(
        f"{g.get('name', '')} {g.get('version', '')}".strip() for g in active.get("claim_generator_info", [])
    ) or active.get("claim_generator", "")
    sig = active.get("signature_info", {})
    signer = " / ".join(x for x in (sig.get("common_name"), sig.get("issuer")) if x)
    actions = [
        a
        for assertion in active.get("assertions", [])
        if assertion.get("label", "").startswith("c2pa.actions")
        for a in assertion.get("data", {}).get("actions", [])
    ]
    ai = any(a.get("digitalSourceType") in (AI_GENERATED, AI_COMPOSITE) for a in actions)
    ingredients = [
        {"title": i.get("title"), "relationship": i.get("relationship"), "manifest": i.get("active_manifest")}
        for i in active.get("ingredients", [])
    ]
    failures = sorted({s["code"] for s in store.get("validation_status", []) if "code" in s})
    return Credentials(
        label, validation or "unknown", generator, signer, sig.get("time"), ai, ingredients, failures, store
    )


def trust_anchors(settings: Settings) -> bytes | None:
    """The root certificates (PEM) the user trusts, from settings' c2pa_trust_anchors; None: c2pa's defaults."""
    if settings.c2pa_trust_anchors is None:
        return None
    try:
        return Path(settings.c2pa_trust_anchors).expanduser().read_bytes()
    except OSError as e:
        raise BadInput(
            f"Cannot read c2pa_trust_anchors {settings.c2pa_trust_anchors} ({e.strerror}).",
            "Point it at a PEM file of root certificates, or remove it from settings.toml.",
        ) from None


def offline_context(anchors: bytes | None = None) -> c2pa.Context:
    """A c2pa Context that never touches the network, trusting `anchors` (PEM roots) besides c2pa's own."""
    import c2pa

    return c2pa.Context.from_dict({**OFFLINE, **({"trust": {"user_anchors": anchors.decode()}} if anchors else {})})


def read_credentials(path: Path, anchors: bytes | None = None) -> Credentials | None:
    """The file's C2PA credentials; None when it has none. A damaged store is reported, not raised; a
    manifest kept at a URL is reported as remote, never fetched. A signer whose chain ends at one of
    `anchors` (PEM roots) validates as Trusted."""
    import c2pa

    context = offline_context(anchors)
    try:
        reader = c2pa.Reader.try_create(str(path), context=context)
        if reader is None:  # no manifest store in the file
            return None
        with reader:
            return summarise(json.loads(reader.json()), reader.get_validation_state())
    except c2pa.C2paError as e:
        if isinstance(e, c2pa.C2paError.NotSupported):
            return None  # a container c2pa does not read (Matroska) carries no credentials it could see
        remote = _REMOTE.search(str(e))
        if remote:
            return Credentials(None, "remote", remote_url=remote.group(1))
        return Credentials(None, "unreadable", failures=[f"{type(e).__name__.lstrip('_')}: {e}"])


@dataclass(frozen=True)
class Signing:
    """A certificate chain (PEM, end-entity first) and its private key, for signing conformed clips."""

    chain: bytes
    key: bytes
    alg: str

    @classmethod
    def from_files(cls, cert: Path, key: Path) -> Signing:
        """Load and check a certificate and key; the algorithm follows the key."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

        try:
            chain, key_pem = Path(cert).expanduser().read_bytes(), Path(key).expanduser().read_bytes()
        except OSError as e:
            raise BadInput(
                f"Cannot read the signing certificate or key: {e.filename} ({e.strerror}).",
                "Set signing_cert and signing_key in settings.toml (or --cert and --key) to PEM files.",
            ) from None
        try:
            first = x509.load_pem_x509_certificates(chain)[0]
            private = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as e:
            raise BadInput(
                f"The signing certificate or key is not readable PEM ({e}).",
                "Give the certificate chain (end-entity first) and an unencrypted private key, both PEM.",
            ) from None

        def spki(key: PublicKeyTypes) -> bytes:
            return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

        if spki(first.public_key()) != spki(private.public_key()):
            raise BadInput(
                f"The private key {key} does not belong to the first certificate in {cert}.",
                "Give the key of the end-entity certificate, which must come first in the chain.",
            )
        if isinstance(private, ec.EllipticCurvePrivateKey):
            alg = {256: "es256", 384: "es384", 521: "es512"}.get(private.curve.key_size)
        elif isinstance(private, ed25519.Ed25519PrivateKey):
            alg = "ed25519"
        elif isinstance(private, rsa.RSAPrivateKey):
            alg = "ps256"
        else:
            alg = None
        if alg is None:
            raise BadInput(
                f"C2PA cannot sign with a {type(private).__name__} key.",
                "Use an EC P-256/P-384/P-521, Ed25519 or RSA key.",
            )
        return cls(chain, key_pem, alg)

    @classmethod
    def from_settings(cls, settings: Settings) -> Signing | None:
        if settings.signing_cert is None and settings.signing_key is None:
            return None
        if settings.signing_cert is None or settings.signing_key is None:
            raise BadInput(
                "settings.toml names only one of signing_cert and signing_key.",
                "Set both (the certificate chain and its private key, PEM), or neither.",
            )
        return cls.from_files(settings.signing_cert, settings.signing_key)

    def sign(self, clip: Path, original: Path, ai_generated: bool, facts: dict[str, str]) -> None:
        """Embed a new manifest in `clip` (in place): opened from `original` (its ingredient, with the
        original's own credentials), transcoded by promptreel, and `facts` as a promptreel assertion."""
        import c2pa

        from . import __version__

        clip, original = Path(clip), Path(original)
        mime = SIGNABLE.get(clip.suffix.lower())
        if mime is None:
            raise UnsupportedRequest(
                f"C2PA credentials cannot be embedded in a {clip.suffix or 'suffix-less'} file ({clip.name}).",
                "Conform to .mov or .mp4 to sign the clip.",
            )
        source = AI_GENERATED if ai_generated else ALGORITHMIC
        manifest = {
            "claim_generator_info": [{"name": "promptreel", "version": __version__}],
            "title": clip.name,
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {
                        "actions": [
                            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
                            {
                                "action": "c2pa.transcoded",
                                "digitalSourceType": source,
                                "description": "Conformed to the timeline's frame count, rate, size and codec "
                                "by promptreel.",
                            },
                        ]
                    },
                },
                {"label": "org.promptreel.provenance", "data": facts},
            ],
        }
        temp = clip.with_name(f".{clip.stem}.{uuid.uuid4().hex[:8]}.signing{clip.suffix}")
        try:
            with (
                c2pa.Signer.from_info(c2pa.C2paSignerInfo(self.alg, self.chain, self.key, None)) as signer,
                offline_context() as context,
                c2pa.Builder(manifest, context=context) as builder,
            ):
                with open(original, "rb") as ingredient:
                    builder.add_ingredient(
                        {"title": original.name, "relationship": "parentOf", "label": "original"},
                        SIGNABLE.get(original.suffix.lower(), "video/mp4"),
                        ingredient,
                    )
                with open(clip, "rb") as src, open(temp, "w+b") as dest:
                    builder.sign(signer, mime, src, dest)
            os.replace(temp, clip)
        except c2pa.C2paError as e:
            raise BadInput(
                f"C2PA signing of {clip.name} failed: {e}",
                "Check the certificate: C2PA wants an X.509 v3 end-entity certificate (not self-signed) "
                "with digitalSignature key usage and an email-protection or document-signing extended "
                "key usage, its chain in the same PEM file.",
            ) from None
        finally:
            temp.unlink(missing_ok=True)
