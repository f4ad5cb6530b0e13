"""`tollgate firewall serve`: seed B's package-check API on loopback, concurrent, strict about input,
and never crashing; plus `tollgate firewall check`."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest

from pipeline.cli import main
from pipeline.firewall.engine import Firewall
from pipeline.firewall.server import PackageCheckHandler, PackageCheckServer
from tests.conftest import ROOT
from tests.loopback import serving
from tests.pipeline.firewall.helpers import SUPPLY_CHAIN, offline_firewall


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    api = PackageCheckServer(("127.0.0.1", 0), offline_firewall())
    with serving(api):
        yield "127.0.0.1", api.server_port


def request(address: tuple[str, int], path: str, method: str = "GET") -> tuple[int, Any]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else None
    finally:
        connection.close()


def test_request2_answer(server: tuple[str, int]) -> None:
    status, body = request(server, "/package-check?package_name=request2")
    assert status == 200
    assert {k: body[k] for k in ("package_name", "platform", "score", "risk_level", "status")} == {
        "package_name": "request2", "platform": "pypi", "score": 50, "risk_level": "Red", "status": "blocked"}
    assert body["similar_packages"] == ["requests"]
    assert [(r["rule"], r["points"]) for r in body["reasons"]] == [
        ("downloads", 20), ("stars", 10), ("last-release", 10), ("versions", 10)]


def test_npm_and_versions(server: tuple[str, int]) -> None:
    status, body = request(server, "/package-check?package_name=crossenv&platform=npm&version=0.0.2-security")
    assert (status, body["version"], body["similar_packages"], body["status"]) == (
        200, "0.0.2-security", ["cross-env"], "blocked")
    status, body = request(server, f"/package-check?package_name={quote('@types/node')}&platform=npm")
    assert status == 200 and body["package_name"] == "@types/node"


def test_concurrent_requests_are_served_in_parallel(server: tuple[str, int]) -> None:
    names = ["request2", "requests", "django", "numpy", "reqeusts", "python-dateutil"] * 10
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda n: request(server, f"/package-check?package_name={n}"), names))
    assert [status for status, _ in answers] == [200] * len(names)
    assert [body["package_name"] for _, body in answers] == names
    assert {body["risk_level"] for _, body in answers if body["package_name"] == "request2"} == {"Red"}


@pytest.mark.parametrize("query, message", [
    ("", "package_name must be a valid pypi name"),
    ("package_name=", "package_name must be a valid pypi name"),
    ("package_name=a%20b", "package_name must be a valid pypi name"),
    ("package_name=../../etc/passwd", "package_name must be a valid pypi name"),
    ("package_name=" + "a" * 215, "package_name must be a valid pypi name"),
    ("package_name=x&platform=cargo", "platform must be pypi or npm"),
    ("package_name=x&version=1.0%3Brm", "version must be a PEP 440 version"),
    ("package_name=x&platform=npm&version=1.0", "version must be a semver version"),
    ("package_name=x&version=" + "1" * 70, "version must be a PEP 440 version"),
    ("package_name=x&package_name=y", "a parameter is given more than once"),
    ("package=x", "unknown parameter 'package'"),
    ("package_name=x&" + "a" * 1100, "the query string is longer than 1024 characters"),
    ("package_name=%ff%fe", "package_name must be a valid pypi name"),
    ("&&&=", "the query string is malformed"),
])
def test_bad_input_is_a_400_with_a_json_error(server: tuple[str, int], query: str, message: str) -> None:
    status, body = request(server, f"/package-check?{query}")
    assert status == 400
    assert body["error"].startswith(message)


def test_other_paths_and_methods(server: tuple[str, int]) -> None:
    assert request(server, "/") == (404, {"error": "not found; the API is GET /package-check"})
    assert request(server, "/healthz") == (200, {"status": "ok"})
    status, body = request(server, "/package-check?package_name=x", method="POST")
    assert (status, body) == (405, {"error": "only GET is served"})


def test_garbage_on_the_socket_never_stops_the_server(server: tuple[str, int]) -> None:
    for garbage in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET " + b"A" * 70000 + b" HTTP/1.1\r\n\r\n",
                    b"GET /package-check?package_name=x HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 200 + b"\r\n", b""):
        with socket.create_connection(server, timeout=5) as raw:
            raw.sendall(garbage)
            raw.shutdown(socket.SHUT_WR)
            raw.recv(65536)
    assert request(server, "/package-check?package_name=requests")[0] == 200


def test_an_internal_error_is_a_generic_500(monkeypatch: pytest.MonkeyPatch, server: tuple[str, int],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def explode(self: Firewall, package: object) -> None:
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr(Firewall, "check", explode)
    status, body = request(server, "/package-check?package_name=requests")
    assert (status, body) == (500, {"error": "internal error; the server log has details"})
    assert "secret internals" not in json.dumps(body)
    monkeypatch.undo()
    assert request(server, "/package-check?package_name=requests")[0] == 200


def test_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    config = SUPPLY_CHAIN / "tollgate.yml"
    assert main(["firewall", "check", "reqeusts", "--offline", "--config", str(config)]) == 1
    assert "looks like the popular requests (transposition)" in capsys.readouterr().out
    assert main(["firewall", "check", "django", "--version", "4.1", "--offline", "--json", "--config",
                 str(ROOT / "examples" / ".tollgate.yml")]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert (answer["status"], answer["checks"][0]["rule_id"]) == ("blocked", "TG-SC-QUARANTINE")
    assert main(["firewall", "check", "bad name!", "--offline"]) == 2
    assert "package_name must be a valid pypi name" in capsys.readouterr().err


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection (or 5 s pass)."""
    received = b""
    with socket.create_connection(address, timeout=5) as raw:
        raw.sendall(data)
        while chunk := raw.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("data, status", [
    (b"GET /package-check /again HTTP/1.1\r\n\r\n", b"400"),
    (b"GET /package-check?" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
    (b"BREW /package-check HTTP/1.1\r\nHost: x\r\n\r\n", b"501"),
    (b"GET /package-check HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n", b"431"),
])
def test_http_servers_own_refusals_are_json_too(server: tuple[str, int], data: bytes, status: bytes) -> None:
    head, _, body = exchange(server, data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status)
    assert b"Content-Type: application/json" in head and b"Connection: close" in head
    assert isinstance(json.loads(body)["error"], str)


def test_a_request_line_without_a_version_gets_a_bare_json_error(server: tuple[str, int]) -> None:
    assert json.loads(exchange(server, b"GARBAGE\r\n\r\n")) == {"error": "Bad request syntax ('GARBAGE')"}


@pytest.mark.parametrize("method", [b"POST", b"GET"])
def test_a_request_body_is_never_read_as_a_second_request(server: tuple[str, int], method: bytes) -> None:
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (method + b" /package-check?package_name=requests HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(len(smuggled)).encode() + b"\r\n\r\n" + smuggled)
    answer = exchange(server, data)  # the server closes the connection after one answer
    assert answer.count(b"HTTP/1.1 ") == 1 and b'{"status":"ok"}' not in answer
    assert b"Connection: close" in answer


def test_an_idle_client_holds_no_one_up(server: tuple[str, int]) -> None:
    assert 0 < PackageCheckHandler.timeout <= 60  # an idle connection is closed, its thread freed
    with socket.create_connection(server, timeout=5) as idle:
        idle.sendall(b"GET /package-check?package_na")  # and then nothing
        assert request(server, "/package-check?package_name=requests")[0] == 200


@pytest.mark.parametrize("name, version, code", [
    ("requests", "2.31.0+local", 0),  # a `+` is part of a PEP 440 local version, not a space
    ("requests&platform=npm", "", 2),  # the name as given: never read as a query string
    ("%41requests", "", 2),
    ("a" * 5000, "", 2),
])
def test_check_takes_its_arguments_as_given(capsys: pytest.CaptureFixture[str], name: str, version: str,
                                            code: int) -> None:
    arguments = ["firewall", "check", name, "--offline", "--config", str(SUPPLY_CHAIN / "tollgate.yml")]
    assert main([*arguments, *(["--version", version] if version else [])]) == code
    err = capsys.readouterr().err
    assert err == "" if code == 0 else err.startswith(
        "tollgate: error: package_name must be a valid pypi name of 1 to 214 characters\n")
