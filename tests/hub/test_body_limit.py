"""Request bodies are bounded per route before they are read, by a real uvicorn: a declared
length over the limit is refused unread, a chunked body is cut where it passes the limit, and the
roster upload has a limit of its own."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.api import create_app
from hub.core.db import upgrade
from hub.core.settings import HubSettings
from tests.hub.support import ApiServer

JSON_LIMIT = 64 * 1024
IMPORT_LIMIT = 256 * 1024


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    """The hub's API with its default JSON limit and a small import limit (to send little).
    The database does not matter to a body limit: SQLite only."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    settings = HubSettings(database_url=url, mode="demo", import_max_bytes=IMPORT_LIMIT)
    assert settings.body_max_bytes == JSON_LIMIT
    with ApiServer(create_app(settings)) as server:
        yield server


def connect(api: ApiServer) -> socket.socket:
    port = api.http.base_url.port
    assert port is not None
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a response that ends with the connection."""
    data = b""
    try:
        while chunk := connection.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass  # the hub closed with the sender's bytes unread: the answer came before
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_a_body_declared_too_large_is_refused_unread(api: ApiServer) -> None:
    """The unauthenticated login with a 200 MB Content-Length, and no byte of the body sent:
    the answer comes at once (a server that waited for the body would never answer)."""
    with connect(api) as connection:
        connection.sendall(
            b"POST /api/v1/session HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )
        status, headers, body = read_response(connection)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert json.loads(body) == {
        "detail": "the request body is larger than 65,536 bytes, this route's limit"
    }
    # A login of ordinary size still works (and says why this token does not).
    response = api.http.post("/api/v1/session", json={"token": "yp_not-a-token"})
    assert response.status_code == 401


def test_a_chunked_body_is_cut_where_it_passes_the_limit(api: ApiServer) -> None:
    """64 MB sent without a length: the hub answers 413 once 64 KiB have come, and closes the
    connection, so the sender cannot get the rest through (a hub that read on would take all
    of it, then answer 422 for the JSON)."""
    total = 64 * 1024 * 1024
    sent = 0
    chunk = b"x" * 65_536
    piece = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with connect(api) as connection:

        def send() -> None:
            nonlocal sent
            try:
                connection.sendall(
                    b"POST /api/v1/session HTTP/1.1\r\nHost: hub\r\n"
                    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                while sent < total:
                    connection.sendall(piece)
                    sent += len(chunk)
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the hub closed the connection: what the test expects

        sender = threading.Thread(target=send)
        sender.start()
        status, _headers, body = read_response(connection)
        sender.join(30)
    assert status == 413
    assert "65,536 bytes" in json.loads(body)["detail"]
    assert sent < total


def test_the_roster_upload_has_its_own_limit(api: ApiServer) -> None:
    """100 kB is too much for JSON but an ordinary roster file; past the import limit, a file
    is refused too, before the import reads it."""
    rows = "code,name,kind\n" + "".join(f"U{n:05d},单位{n:05d},企业\n" for n in range(4000))
    roster = rows.encode()
    assert JSON_LIMIT < len(roster) < IMPORT_LIMIT
    csv = {"Content-Type": "text/csv"}
    response = api.http.post("/api/v1/imports/units", content=roster, headers=csv)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 4000
    member = {
        "code": "M1",
        "name": "王晓东",
        "unit_id": 1,
        "community_id": 1,
        "note": "x" * len(roster),
    }
    response = api.http.post("/api/v1/members", json=member)
    assert response.status_code == 413
    assert "65,536 bytes" in response.json()["detail"]
    response = api.http.post("/api/v1/imports/units", content=roster * 3, headers=csv)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "the request body is larger than 262,144 bytes, this route's limit"
    }
    assert api.get("/api/v1/units", limit=1).json()["count"] == 4000
