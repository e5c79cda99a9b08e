"""What both sides check of the broker over TLS, and a clear reason when the check fails.

The edge and the hub each build their paho client (``edge.mqtt_session``, ``hub.mqtt``), but
they verify the broker the same way, so the policy lives here once: the broker's certificate must
chain to the CA given (``mqtt.ca_file``, ``HUB_MQTT_CA_FILE``) or, with none, to the system's
trust store, and must name the host in the broker URL; TLS 1.2 at least. There is no switch to
turn either check off.

Only PEM text comes in: each side reads its own file (the contract does no I/O).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


class _RecordingSocket(ssl.SSLSocket):
    """Keeps why the last handshake failed on its context: paho's ``on_connect_fail`` is told
    only that the connection failed, and "certificate verify failed: Hostname mismatch" is what
    the person reading the log needs. It also closes itself then: paho 2.2 drops a socket whose
    handshake failed without closing it, one descriptor per retry until the garbage collector
    comes by."""

    def do_handshake(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().do_handshake(*args, **kwargs)
        except (ssl.SSLError, OSError) as exc:
            context = self.context
            if isinstance(context, BrokerTLSContext):
                context.last_failure = _describe(exc)
            self.close()
            raise


class BrokerTLSContext(ssl.SSLContext):
    last_failure: str | None = None
    """Why the last TLS handshake with the broker failed, for the log."""


def client_context(ca_pem: str | None, *, source: str = "the CA file") -> BrokerTLSContext:
    """A context that verifies the broker: against ``ca_pem`` (one or more PEM certificates), or
    the system's trust store when it is ``None``. ``ValueError`` names ``source`` when the text
    holds no certificate."""
    context = BrokerTLSContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    context.minimum_version = MINIMUM_VERSION
    context.sslsocket_class = _RecordingSocket
    if ca_pem is None:
        context.load_default_certs()
        return context
    if "-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise ValueError(f"{source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        context.load_verify_locations(cadata=ca_pem)
    except ssl.SSLError as exc:
        detail = exc.reason or (exc.args[-1] if exc.args else exc)
        raise ValueError(f"{source}: not a usable PEM certificate ({detail})") from None
    return context


def handshake_failure(context: ssl.SSLContext | None) -> str | None:
    """Why the last handshake on ``context`` failed, once (then forgotten), or ``None``."""
    if not isinstance(context, BrokerTLSContext):
        return None
    failure, context.last_failure = context.last_failure, None
    return failure


def _describe(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the broker's certificate was refused: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return f"TLS handshake failed: {exc.strerror or exc}"


MAX_CA_BYTES = 1024 * 1024
"""A bundle of CA certificates is a few kilobytes; anything this large is the wrong file."""


def context_from_file(ca_file: Path | None) -> BrokerTLSContext:
    """Verify against ``ca_file``, or the system's trust store when it is ``None``;
    ``ValueError`` names the file when it cannot be used."""
    if ca_file is None:
        return client_context(None)
    try:
        with ca_file.open("rb") as file:
            data = file.read(MAX_CA_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"CA file {ca_file}: cannot read it: {exc.strerror}") from None
    if len(data) > MAX_CA_BYTES:
        raise ValueError(f"CA file {ca_file}: over {MAX_CA_BYTES} bytes, not a CA certificate")
    return client_context(data.decode("ascii", errors="replace"), source=f"CA file {ca_file}")
