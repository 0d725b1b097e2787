"""Mutual TLS: a gateway that demands the kiosk's certificate gets it from the client."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.backend.client import ClientSettings, RegistryClient
from kiosk.backend.errors import BackendUnreachable
from kiosk.sandbox.handlers import ENROLMENT_CODE
from kiosk.sandbox.server import Sandbox


def issue(
    name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    folder: Path,
    *,
    ca: bool = False,
    server: bool = False,
):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


def test_the_client_presents_its_certificate(tmp_path: Path) -> None:
    ca = issue("ca", None, tmp_path, ca=True)
    issue("gateway", ca, tmp_path, server=True)
    issue("kiosk", ca, tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "gateway.pem", tmp_path / "gateway.key")
    context.load_verify_locations(tmp_path / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    sandbox = Sandbox(tmp_path / "registry.db", tls=context).start()
    try:
        assert sandbox.url.startswith("https://")
        with_cert = RegistryClient(
            ClientSettings(
                sandbox.url,
                ca_bundle=str(tmp_path / "ca.pem"),
                client_cert=(str(tmp_path / "kiosk.pem"), str(tmp_path / "kiosk.key")),
            )
        )
        assert with_cert.register("KIOSK-TLS-1", ENROLMENT_CODE).token
        without = RegistryClient(
            ClientSettings(sandbox.url, ca_bundle=str(tmp_path / "ca.pem"), attempts=1)
        )
        with pytest.raises(BackendUnreachable):
            without.register("KIOSK-TLS-2", ENROLMENT_CODE)
    finally:
        sandbox.stop()
