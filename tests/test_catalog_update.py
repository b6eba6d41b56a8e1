"""Signed catalog updates: `models update` installs a signed file served over real HTTP (loopback) and refuses,
with one line, exit 2 and the last good copy kept, a tampered, unsigned, malformed, older and expired one.
Keys are made per test; the project's private key is never in the repository."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import tomli_w

from promptreel.core.catalog import default_catalog, load_catalog
from promptreel.core.catalog_file import installed_dir
from promptreel.core.catalog_update import keygen, sign
from promptreel.core.cli import main
from promptreel.core.sandbox.loopback import LoopbackServer, Reply
from promptreel.core.tomlfile import shipped

SHIPPED = shipped("catalog_meta.toml")["catalog_version"]
FUTURE = date.today() + timedelta(days=90)


@pytest.fixture
def server():
    files: dict[str, bytes] = {}
    with LoopbackServer() as srv:
        srv.route("GET", r"/(?P<name>[^/]+)")(
            lambda call: (
                Reply(200, files[call.match["name"]]) if call.match["name"] in files else Reply(404, "not found")
            )
        )
        srv.files = files
        yield srv


@pytest.fixture
def studio_key(isolated_home, tmp_path):
    private, public = keygen(tmp_path / "studio")
    (isolated_home / "settings.toml").write_text(f'catalog_keys = ["{public}"]\n')
    return private


def catalog_bytes(version=SHIPPED + 1, expires=FUTURE, edit=None, fmt="toml") -> bytes:
    models = shipped("catalog.toml")["models"]
    if edit:
        edit(models)
    doc = {
        "schema_version": 1,
        "catalog_version": version,
        "published_at": "2026-12-06T12:00:00Z",
        "expires_on": expires,
        "models": models,
    }
    if fmt == "json":
        import json

        return json.dumps(doc, default=str).encode()
    return tomli_w.dumps(doc).encode()


def market_moves(models):
    """A month of the market: a new model, a price change, a route retired, a model ended."""
    models["acme-motion"] = {
        **models["veo-3.1"],
        "name": "Acme Motion",
        "vendor": "Acme",
        "routes": [{"protocol": "fal", "model_id": "acme/motion"}],
    }
    models["veo-3.1"] = {**models["veo-3.1"], "price": {k: v + 0.05 for k, v in models["veo-3.1"]["price"].items()}}
    models["veo-3.1"]["routes"] = [r for r in models["veo-3.1"]["routes"] if r["protocol"] != "replicate"] or models[
        "veo-3.1"
    ]["routes"][:1]
    models["kling-v3"] = {**models["kling-v3"], "lifecycle": {"status": "retired", "replacement": ["veo-3.1"]}}


def publish(server, key: Path, data: bytes, name="catalog.toml", signed=True) -> str:
    server.files[name] = data
    if signed:
        server.files[name + ".sig"] = sign(data, key.read_bytes())
    return f"{server.url}/{name}"


def cli_out(capsys, *args) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def update(capsys, *args) -> tuple[int, str, str]:
    return cli_out(capsys, "models", "update", *args)


def test_a_signed_update_installs_over_the_shipped_catalog_and_says_what_changed(server, studio_key, capsys):
    url = publish(server, studio_key, catalog_bytes(edit=market_moves))
    rc, out, err = update(capsys, "--from", url)
    assert rc == 0, err
    assert f"Installed catalog version {SHIPPED + 1}" in out
    assert "added: acme-motion (Acme Motion)" in out
    assert "retired: kling-v3; use veo-3.1" in out
    assert "re-priced: veo-3.1" in out
    assert "routes moved: veo-3.1" in out
    default_catalog.cache_clear()
    cat = default_catalog()
    assert "acme-motion" in cat.models and cat.get("kling-v3").state() == "retired"
    assert (installed_dir() / "catalog.toml").read_bytes() == server.files["catalog.toml"]
    assert (installed_dir() / "catalog.toml.sig").read_bytes() == server.files["catalog.toml.sig"]
    rc, out, _ = cli_out(capsys, "models")
    assert rc == 0 and f"catalog: signed update {SHIPPED + 1}" in out
    # The same version again: nothing to do, and --check says so.
    assert update(capsys, "--from", url, "--check")[1].startswith("The installed catalog")


def test_check_says_a_newer_one_exists_and_installs_nothing(server, studio_key, capsys):
    url = publish(server, studio_key, catalog_bytes())
    rc, out, _ = update(capsys, "--from", url, "--check")
    assert rc == 0 and f"version {SHIPPED + 1}" in out and "promptreel models update" in out
    assert not installed_dir().exists()


def test_a_signature_kept_elsewhere_is_named_with_sig(server, studio_key, capsys):
    url = publish(server, studio_key, catalog_bytes())
    server.files["detached.sig"] = server.files.pop("catalog.toml.sig")
    assert "is unsigned" in update(capsys, "--from", url)[2]
    rc, out, err = update(capsys, "--from", url, "--sig", f"{server.url}/detached.sig")
    assert rc == 0, err


def test_json_catalogs_and_a_studio_url_from_settings(server, studio_key, isolated_home, capsys):
    url = publish(server, studio_key, catalog_bytes(fmt="json"), name="studio.json")
    settings = isolated_home / "settings.toml"
    settings.write_text(settings.read_text() + f'catalog_update_url = "{url}"\n')
    rc, out, err = update(capsys)
    assert rc == 0, err
    assert (installed_dir() / "catalog.json").is_file()


def tampered(server, key):
    url = publish(server, key, catalog_bytes(edit=market_moves))
    server.files["catalog.toml"] = server.files["catalog.toml"].replace(b"Acme Motion", b"Acme Motioo")
    return url, "does not match its signature"


def unsigned(server, key):
    return publish(server, key, catalog_bytes(), signed=False), "is unsigned"


def other_key(server, key):
    stranger, _ = keygen(key.parent / "stranger")
    return publish(server, stranger, catalog_bytes()), "does not match its signature"


def malformed(server, key):
    return publish(server, key, b"schema_version = 1\ncatalog_version = [unclosed"), "is malformed"


def invalid(server, key):
    def broken(models):
        models["veo-3.1"] = {**models["veo-3.1"], "fps": "fast"}

    return publish(server, key, catalog_bytes(edit=broken)), "fails validation"


def no_meta(server, key):
    return publish(server, key, tomli_w.dumps({"models": shipped("catalog.toml")["models"]}).encode()), "lacks"


def older(server, key):
    return publish(server, key, catalog_bytes(version=SHIPPED - 1)), "older than the installed"


def expired(server, key):
    return publish(server, key, catalog_bytes(expires=date.today() - timedelta(days=1))), "expired on"


@pytest.mark.parametrize("make", [tampered, unsigned, other_key, malformed, invalid, no_meta, older, expired])
def test_a_bad_update_is_refused_in_one_line_and_the_last_good_copy_is_kept(server, studio_key, capsys, make):
    good = publish(server, studio_key, catalog_bytes(version=SHIPPED + 1, edit=market_moves), name="good.toml")
    assert update(capsys, "--from", good)[0] == 0
    before = (installed_dir() / "catalog.toml").read_bytes()
    if make is older:  # older than what is installed now
        url = publish(server, studio_key, catalog_bytes(version=SHIPPED), name="old.toml")
        needle = "older than the installed"
    else:
        url, needle = make(server, studio_key)
    rc, out, err = update(capsys, "--from", url)
    assert rc == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (installed_dir() / "catalog.toml").read_bytes() == before
    default_catalog.cache_clear()
    assert "acme-motion" in default_catalog().models  # the last good update still serves


def test_offline_the_installed_update_keeps_working(server, studio_key, capsys):
    url = publish(server, studio_key, catalog_bytes(edit=market_moves))
    assert update(capsys, "--from", url)[0] == 0
    server.httpd.shutdown()
    server.httpd.server_close()
    rc, _, err = update(capsys, "--from", url)
    assert rc == 2 and "Could not fetch" in err
    assert "acme-motion" in load_catalog().models


def test_a_release_with_a_newer_snapshot_wins_over_an_older_update(server, studio_key, capsys, monkeypatch):
    url = publish(server, studio_key, catalog_bytes(edit=market_moves))
    assert update(capsys, "--from", url)[0] == 0
    monkeypatch.setattr("promptreel.core.catalog.shipped_version", lambda: SHIPPED + 5)
    assert "acme-motion" not in load_catalog().models


def test_sign_checks_the_file_and_writes_a_signature_models_update_accepts(studio_key, tmp_path, capsys):
    good = tmp_path / "ours.toml"
    good.write_bytes(catalog_bytes())
    assert main(["catalog", "sign", str(good), "--key", str(studio_key)]) == 0
    assert (tmp_path / "ours.toml.sig").is_file()
    rc, out, err = update(capsys, "--from", str(good))
    assert rc == 0, err
    bad = tmp_path / "bad.toml"
    bad.write_text("models = 3\n")
    assert main(["catalog", "sign", str(bad), "--key", str(studio_key)]) == 2
    assert not (tmp_path / "bad.toml.sig").exists()


def test_keygen_never_overwrites_and_keeps_the_private_key_private(tmp_path, capsys):
    assert main(["catalog", "keygen", str(tmp_path / "k")]) == 0
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    assert main(["catalog", "keygen", str(tmp_path / "k")]) == 2


def test_the_project_key_is_shipped_and_no_private_key_is_in_the_package():
    data = Path(__file__).resolve().parents[1] / "core" / "data"
    pems = [p.read_text() for p in data.glob("*.pem")]
    assert any("BEGIN PUBLIC KEY" in t for t in pems)
    assert not any(
        "PRIVATE KEY" in p.read_text(errors="ignore")
        for p in data.rglob("*")
        if p.is_file() and p.suffix in (".pem", ".key", ".toml", ".txt")
    )


def test_doctor_names_the_catalog_in_use_and_an_update_past_its_date(server, studio_key, capsys):
    from promptreel.resolve_plugin.checkup import catalog_update_check

    assert catalog_update_check().ok and "the shipped catalog" in catalog_update_check().detail
    url = publish(server, studio_key, catalog_bytes())
    assert update(capsys, "--from", url)[0] == 0
    check = catalog_update_check()
    assert check.ok and f"signed update {SHIPPED + 1}" in check.detail
    # Time passes: the installed copy outlives its expires_on. It keeps serving; doctor says so.
    (installed_dir() / "catalog.toml").write_bytes(catalog_bytes(expires=date.today() - timedelta(days=1)))
    check = catalog_update_check()
    assert not check.ok and not check.essential and "expired on" in check.detail and "models update" in check.fix
