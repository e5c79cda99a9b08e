"""The broker's TLS: a small private CA and a server certificate for Mosquitto's 8883 listener.

For a test or a small city that has no CA of its own. The CA signs one thing, the broker's server
certificate; the edges and the hub trust the CA's certificate (``mqtt.ca_file`` at an edge,
``HUB_MQTT_CA_FILE`` at the hub) and check that the broker's certificate names the host they dial.

Layout of the directory (``community broker-certs --out DIR``)::

    ca.crt        the CA certificate (0644): give it to every edge and to the hub (not secret)
    server.crt    the broker's certificate (0644), signed by the CA, naming every --host
    server.key    its private key (0600): the broker's alone
    ca/ca.key     the CA's private key (0600, in a 0700 folder of its own): needed only to issue
                  the next server certificate; move it off the broker's machine after use

Running it again keeps what is still good (a CA valid for another 30 days and more, a server
certificate from that CA naming every host asked for and valid as long), and makes only what is
missing or due: so the same command renews the server certificate before it expires, and a new
``--host`` gets a new server certificate from the same CA (edges keep their ``ca.crt``). A city
with a CA of its own puts that CA's ``ca.crt`` and a server certificate and key it issued here;
they are kept as long as they are good, and nothing is ever issued without ``ca/ca.key``.

Keys are ECDSA P-256; TLS 1.2 is the least the listener accepts (:func:`tls_listener_lines`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.core.private_files import make_private_dir, write_private

CA_VALIDITY = timedelta(days=10 * 365)
SERVER_VALIDITY = timedelta(days=2 * 365)
RENEW_BEFORE = timedelta(days=30)
"""A certificate with less than this left is made anew (the server's) or refused (a CA)."""
_BACKDATE = timedelta(hours=1)
"""A box whose clock is a little behind still accepts a certificate made a moment ago."""

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_HOSTS = 50

TLS_PORT = 8883

_E = TypeVar("_E", bound=x509.ExtensionType)


class CertificateError(Exception):
    """The certificates cannot be made or kept; the message says which file and why."""


@dataclass(frozen=True)
class BrokerCertificates:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    made: tuple[str, ...] = field(default=(), compare=False)
    """What this call made (empty: everything was kept)."""


def certificate_paths(directory: Path) -> BrokerCertificates:
    return BrokerCertificates(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca" / "ca.key",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
    )


def check_hostnames(hostnames: Sequence[str]) -> list[str]:
    """DNS names (lower-cased) and IP addresses, de-duplicated in order; a clear error otherwise."""
    if not hostnames:
        raise CertificateError("name at least one host the broker is reached by (--host)")
    if len(hostnames) > _MAX_HOSTS:
        raise CertificateError(f"at most {_MAX_HOSTS} hosts, got {len(hostnames)}")
    checked: list[str] = []
    for raw in hostnames:
        name = raw.strip().lower().rstrip(".")
        if _ip(name) is None:
            labels = name.split(".")
            if len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
                raise CertificateError(
                    f"{raw!r} is neither a DNS name (letters, digits, '-', dots) nor an IP address"
                )
        if name not in checked:
            checked.append(name)
    return checked


def ensure_certificates(
    directory: Path, hostnames: Sequence[str], *, now: datetime | None = None
) -> BrokerCertificates:
    """Make what is missing or due in ``directory`` (see the module) and keep the rest."""
    hosts = check_hostnames(hostnames)
    now = now or datetime.now(UTC)
    paths = certificate_paths(directory)
    make_private_dir(directory)
    made: list[str] = []

    ca_cert, ca_key = _ensure_ca(paths, now, made)
    if not _server_still_good(paths, ca_cert, hosts, now):
        if ca_key is None:
            raise CertificateError(
                f"the server certificate must be made anew (missing, not from {paths.ca_cert}, "
                f"not naming {', '.join(hosts)}, or expiring) and the CA's key is not at "
                f"{paths.ca_key}: put the key back, or put a server certificate and key "
                f"issued by your CA at {paths.server_cert} and {paths.server_key}"
            )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_certificate(key, ca_cert, ca_key, hosts, now)
        write_private(paths.server_key, _key_pem(key))
        _write_certificate(paths.server_cert, cert)
        made.append(f"server certificate for {', '.join(hosts)}, valid until {_day(cert)}")
    return BrokerCertificates(
        paths.ca_cert, paths.ca_key, paths.server_cert, paths.server_key, tuple(made)
    )


def tls_listener_lines(
    certs: BrokerCertificates, port: int = TLS_PORT, bind: str | None = None
) -> list[str]:
    """mosquitto.conf lines of a TLS listener with these certificates (Mosquitto 2.0 names).

    Edges authenticate with their username and password, inside TLS: no client certificates
    (``require_certificate false``), so ``cafile`` is only the chain the broker presents."""
    return [
        f"listener {port}" + (f" {bind}" if bind else ""),
        f"cafile {certs.ca_cert}",
        f"certfile {certs.server_cert}",
        f"keyfile {certs.server_key}",
        "tls_version tlsv1.2",
        "require_certificate false",
    ]


# the CA ---------------------------------------------------------------------------------------


def _ensure_ca(
    paths: BrokerCertificates, now: datetime, made: list[str]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey | None]:
    """The CA certificate and, when it is here, its key; a new pair when neither exists."""
    has_cert, has_key = paths.ca_cert.exists(), paths.ca_key.exists()
    if not has_cert and has_key:
        raise CertificateError(
            f"{paths.ca_key} is there but {paths.ca_cert} is not: restore the CA certificate "
            "(or remove the key to start a new CA, which every edge must then be given)"
        )
    if not has_cert:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _ca_certificate(key, now)
        make_private_dir(paths.ca_key.parent)
        write_private(paths.ca_key, _key_pem(key))
        _write_certificate(paths.ca_cert, cert)
        made.append(f"CA certificate {paths.ca_cert} (until {_day(cert)}), key {paths.ca_key}")
        return cert, key
    cert = _read_certificate(paths.ca_cert)
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise CertificateError(f"{paths.ca_cert} is not a CA certificate")
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        raise CertificateError(
            f"the CA certificate {paths.ca_cert} expires {_day(cert)}: make a new CA (move the "
            "ca folder and ca.crt aside and run again) and give its ca.crt to every edge"
        )
    if not has_key:
        return cert, None
    key = _read_key(paths.ca_key)
    if not _same_key(key, cert):
        raise CertificateError(f"{paths.ca_key} is not the key of {paths.ca_cert}")
    return cert, key


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Yuanping smart community"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Yuanping MQTT CA {now:%Y-%m-%d}"),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


# the server certificate -----------------------------------------------------------------------


def _server_still_good(
    paths: BrokerCertificates, ca: x509.Certificate, hosts: list[str], now: datetime
) -> bool:
    if not (paths.server_cert.exists() and paths.server_key.exists()):
        return False
    cert = _read_certificate(paths.server_cert)
    key = _read_key(paths.server_key)
    return (
        _same_key(key, cert)
        and _signed_by(cert, ca)
        and set(hosts) <= set(certificate_hosts(cert))
        and cert.not_valid_after_utc - now >= RENEW_BEFORE
    )


def certificate_hosts(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses a certificate's subjectAltName carries."""
    names = _extension(cert, x509.SubjectAlternativeName)
    if names is None:
        return []
    dns: list[str] = names.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    return [*(d.lower() for d in dns), *ips]


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    hosts: list[str],
    now: datetime,
) -> x509.Certificate:
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        ip = _ip(host)
        alt_names.append(x509.IPAddress(ip) if ip is not None else x509.DNSName(host))
    public = key.public_key()
    ca_ski = _extension(ca, x509.SubjectKeyIdentifier)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + SERVER_VALIDITY, ca.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
            if ca_ski is not None
            else x509.AuthorityKeyIdentifier.from_issuer_public_key(_ec_public(ca)),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


# reading and checking ------------------------------------------------------------------------


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise CertificateError(f"{path}: cannot read it: {exc.strerror}") from None
    except ValueError:
        raise CertificateError(f"{path}: not a PEM certificate") from None


def _read_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise CertificateError(f"{path}: cannot read it: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise CertificateError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError(f"{path}: an ECDSA key was expected (what this command makes)")
    return key


def _same_key(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bool:
    return key.public_key() == cert.public_key()


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _ec_public(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise CertificateError("the CA's key must be an ECDSA key to issue from here")
    return public


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _write_certificate(path: Path, cert: x509.Certificate) -> None:
    """A certificate is public and read by others (the broker's user, the hub's container): 0644,
    replaced atomically. Only the keys are private."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o644)  # mkstemp makes it 0600 and the umask is no concern
            file.write(cert.public_bytes(serialization.Encoding.PEM))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _day(cert: x509.Certificate) -> str:
    return f"{cert.not_valid_after_utc:%Y-%m-%d}"
