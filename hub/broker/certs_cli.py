"""``community broker-certs --out DIR --host NAME ...``: the broker's CA and server certificate
(:mod:`hub.broker.tls`), made or renewed, with what was made and where said plainly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub.broker.tls import CertificateError, ensure_certificates, tls_listener_lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="community broker-certs",
        description="Make (or renew) a private CA and the broker's TLS server certificate. "
        "Run again to renew: what is still good is kept.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the certificates")
    parser.add_argument(
        "--host",
        action="append",
        required=True,
        metavar="NAME",
        help="a DNS name or IP address the edges and the hub dial (repeat for each)",
    )
    args = parser.parse_args(argv)
    try:
        certs = ensure_certificates(args.out, args.host)
    except CertificateError as exc:
        print(f"community broker-certs: {exc}", file=sys.stderr)
        return 1
    for line in certs.made or ("nothing to do: the certificates there are still good",):
        print(f"made: {line}" if certs.made else line)
    print(
        f"\nCA certificate (give it to every edge as mqtt.ca_file and to the hub as "
        f"HUB_MQTT_CA_FILE): {certs.ca_cert}\n"
        f"server certificate and key (the broker's alone): {certs.server_cert}, "
        f"{certs.server_key}\n"
        f"CA key (needed only to issue the next server certificate; keep it off the broker): "
        f"{certs.ca_key}\n\nmosquitto.conf:\n  " + "\n  ".join(tls_listener_lines(certs))
    )
    return 0
