"""Catalog updates without a release: a signed catalog file, checked and installed over the shipped snapshot.

An update is a catalog file of the shipped shape (TOML or JSON) with four more top-level fields —
`schema_version`, `catalog_version` (an integer that only grows), `published_at`, `expires_on` —
and a detached Ed25519 signature over its exact bytes (base64, in FILE.sig). It is accepted only
when the signature verifies against a trusted key (the project's, shipped in core/data as
catalog-key-*.pem, and any a studio lists in `catalog_keys`), it parses and every model validates,
it is newer than the installed one and it has not expired. Anything else is refused with one line
and the installed copy is left as it was: promptreel never falls back silently.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Model, default_catalog, validated
from .catalog_file import CatalogFile, UpdateRefused, installed_dir, read
from .errors import BadInput

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from .settings import Settings

# Where the project publishes its signed catalog (and CATALOG.sig beside it); `catalog_update_url` in settings
# points a studio's seats at its own.
PUBLISHED_URL = "https://promptreel.github.io/catalog/catalog.toml"


# --- keys and signatures -----------------------------------------------------------------------


def _public_key(pem: bytes, where: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise BadInput(
            f"Catalog key {where} is not a PEM public key.",
            "Point catalog_keys at the .pub file `promptreel catalog keygen` wrote.",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput(f"Catalog key {where} is not an Ed25519 key.", "Make one with `promptreel catalog keygen`.")
    return key


def trusted_keys(settings: Settings | None = None) -> list[Ed25519PublicKey]:
    """The project's shipped public keys, then the studio's from settings (`catalog_keys`)."""
    from .settings import load_settings

    settings = settings or load_settings()
    data = resources.files("promptreel.core").joinpath("data")
    keys = [
        _public_key(p.read_bytes(), p.name)
        for p in sorted(data.iterdir(), key=lambda p: p.name)
        if p.name.startswith("catalog-key-") and p.name.endswith(".pem")
    ]
    for path in settings.catalog_keys:
        try:
            keys.append(_public_key(Path(path).read_bytes(), str(path)))
        except OSError as e:
            raise BadInput(
                f"Catalog key {path} cannot be read ({e.strerror}).", "Fix catalog_keys in settings."
            ) from None
    return keys


def verify(data: bytes, signature: bytes, keys: Iterable[Ed25519PublicKey]) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    for key in keys:
        try:
            key.verify(raw, data)
            return True
        except InvalidSignature:
            continue
    return False


def sign(data: bytes, private_pem: bytes, where: str = "the key") -> bytes:
    """The detached signature of `data` (base64 and a newline), as FILE.sig holds it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError):
        raise BadInput(
            f"{where} is not an unencrypted PEM private key.", "Give the .key file `promptreel catalog keygen` wrote."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{where} is not an Ed25519 key.", "Make one with `promptreel catalog keygen`.")
    return base64.b64encode(key.sign(data)) + b"\n"


def keygen(stem: Path) -> tuple[Path, Path]:
    """A new Ed25519 keypair: STEM.key (private, 0600, never shared) and STEM.pub (give it to every seat)."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = stem.with_suffix(".key"), stem.with_suffix(".pub")
    for p in (private, public):
        if p.exists():
            raise BadInput(f"{p} already exists.", "Choose another name; promptreel never overwrites a key.")
    key = Ed25519PrivateKey.generate()
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))
    return private, public


# --- parsing and validation ----------------------------------------------------------------------


def parse(data: bytes, name: str = "the update") -> CatalogFile:
    """The update's fields and models, validated as the catalog loader would; refused when malformed."""
    return validated(read(data, name), name)


# --- fetching -------------------------------------------------------------------------------------


def _read(source: str, what: str) -> bytes | None:
    """Bytes of a URL or file; None when it does not exist (404, no such file)."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            r = httpx.get(source, timeout=30.0, follow_redirects=True)
        except httpx.HTTPError as e:
            raise UpdateRefused(
                f"Could not fetch the {what} from {source} ({type(e).__name__}).",
                "Check the network or the URL; the installed catalog keeps working.",
            ) from None
        if r.status_code == 404:
            return None
        if r.status_code >= 400:
            raise UpdateRefused(
                f"Fetching the {what} from {source} failed (HTTP {r.status_code}).",
                "Try again later; the installed catalog keeps working.",
            )
        return r.content
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UpdateRefused(f"Cannot read the {what} {path} ({e.strerror}).", "Check the path.") from None


def fetch(
    source: str, signature: str | None = None, settings: Settings | None = None, today: date | None = None
) -> CatalogFile:
    """Fetch `source` and its signature (SOURCE.sig unless given), verify, parse and check it is in date."""
    data = _read(source, "catalog update")
    if data is None:
        raise UpdateRefused(
            f"There is no catalog update at {source}.", "Check the URL or file; the installed catalog is unchanged."
        )
    sig_source = signature or source + ".sig"
    sig = _read(sig_source, "signature")
    if sig is None:
        raise UpdateRefused(
            f"Catalog update {source} is unsigned (no {sig_source}).",
            "Only signed catalogs are installed; the installed catalog is unchanged.",
        )
    if not verify(data, sig, trusted_keys(settings)):
        raise UpdateRefused(
            f"Catalog update {source} does not match its signature (tampered, or signed by a key "
            "promptreel does not trust).",
            "Add the publisher's key to catalog_keys if you trust it; the installed catalog is unchanged.",
        )
    update = parse(data, source)
    update.signature = sig
    today = today or date.today()
    if update.expires_on < today:
        raise UpdateRefused(
            f"Catalog update {source} expired on {update.expires_on}.",
            "Ask its publisher for a current one; the installed catalog is unchanged.",
        )
    return update


def install(update: CatalogFile) -> None:
    """Put `update` (and, for the record, its signature) in the data folder atomically, replacing the last good one."""
    folder = installed_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in ((f"catalog{update.suffix}.sig", update.signature), (f"catalog{update.suffix}", update.data)):
        temp = folder / f".{name}.{os.getpid()}"
        temp.write_bytes(data)
        os.replace(temp, folder / name)
    for other in (".toml", ".json"):
        if other != update.suffix:
            (folder / f"catalog{other}").unlink(missing_ok=True)
            (folder / f"catalog{other}.sig").unlink(missing_ok=True)
    default_catalog.cache_clear()


# --- what changed ---------------------------------------------------------------------------------


def changes(old: dict[str, Any], new: dict[str, Any], today: date | None = None) -> list[str]:
    """Lines naming the models added, retired, re-priced and whose routes moved, from `old` to `new`."""

    def build(models: dict[str, Any]) -> dict[str, Model]:
        out = {}
        for mid, spec in models.items():
            try:
                out[mid] = Model(id=mid, **spec)
            except Exception:  # an old snapshot may not parse under today's rules: compare what does
                continue
        return out

    before, after = build(old), build(new)
    lines = []
    for mid in sorted(after):
        m = after[mid]
        if mid not in before:
            lines.append(f"added: {mid} ({m.name})")
            continue
        b = before[mid]
        if m.state(today) == "retired" and b.state(today) != "retired":
            repl = f"; use {', '.join(m.lifecycle.replacement)}" if m.lifecycle.replacement else ""
            lines.append(f"retired: {mid}{repl}")
        if m.price != b.price:
            lines.append(f"re-priced: {mid} {_price(b.price)} -> {_price(m.price)}")
        if [r.key for r in m.usable_routes(today)] != [r.key for r in b.usable_routes(today)]:
            lines.append(f"routes moved: {mid} {_routes(b, today)} -> {_routes(m, today)}")
    for mid in sorted(set(before) - set(after)):
        lines.append(f"removed: {mid}")
    return lines


def _price(price: dict[str, Any]) -> str:
    return " ".join(f"{k} ${v:.3f}/s" for k, v in sorted(price.items())) or "unknown"


def _routes(model: Model, today: date | None) -> str:
    return ", ".join(r.key for r in model.usable_routes(today)) or "none"
