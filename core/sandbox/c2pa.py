"""Content credentials like the vendors': Veo and Sora sign what they make with C2PA, so the sandbox's
Veo and OpenAI fakes serve MP4s signed with a throwaway certificate chain made at first use.

The chain is what C2PA accepts from a real certificate authority (a root, and an end-entity with
digitalSignature key usage and the email-protection extended key usage); no trust list holds its
root, so readers report the signer as untrusted, which is the truth.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache

from ..c2pa import AI_GENERATED


@dataclass(frozen=True)
class Chain:
    chain: bytes  # PEM: the end-entity certificate, then the root
    key: bytes  # PEM (PKCS#8) private key of the end-entity
    root: bytes  # PEM root certificate (a trust anchor, for a reader told to trust it)


def make_chain(signer: str = "promptreel sandbox signer", org: str = "promptreel sandbox") -> Chain:
    """A new root CA and an end-entity signing certificate (EC P-256), valid from yesterday for 30 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
        )

    def usage(**on: bool) -> x509.KeyUsage:
        flags = dict.fromkeys(
            (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "key_cert_sign",
                "crl_sign",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        return x509.KeyUsage(**{**flags, **on})

    start = datetime.now(timezone.utc) - timedelta(days=1)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def cert(
        subject: str, issuer: x509.Name, public: ec.EllipticCurvePublicKey, signing_key: ec.EllipticCurvePrivateKey
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )

    root = (
        cert(f"{org} root", name(f"{org} root"), root_key.public_key(), root_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        cert(signer, root.subject, key.public_key(), root_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Chain(
        leaf.public_bytes(pem) + root.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        root.public_bytes(pem),
    )


@lru_cache(maxsize=1)
def sandbox_chain() -> Chain:
    return make_chain()


def sign_generated(data: bytes, generator: str, chain: Chain | None = None) -> bytes:
    """`data` (an MP4) with a C2PA manifest saying `generator` created it with a trained model, as Veo's and
    Sora's outputs say."""
    import c2pa

    chain = chain or sandbox_chain()
    manifest = {
        "claim_generator_info": [{"name": generator}],
        "title": "video.mp4",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}]},
            }
        ],
    }
    out = io.BytesIO()
    with (
        c2pa.Signer.from_info(c2pa.C2paSignerInfo("es256", chain.chain, chain.key, None)) as signer,
        c2pa.Builder(manifest) as builder,
    ):
        builder.sign(signer, "video/mp4", io.BytesIO(data), out)
    return out.getvalue()


@cache
def signed_media(data: bytes, generator: str) -> bytes:
    """`sign_generated` once per clip and generator in a process, like the renders themselves."""
    return sign_generated(data, generator)
