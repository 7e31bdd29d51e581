"""Webhook backends: the signed request, the response contract, timeouts, and the refusal of
internal addresses (SSRF), including DNS rebinding. The developer's webhook is a real HTTP(S)
server on 127.0.0.1, reached with ``allow_private=True`` (the local-development setting); no
database is used."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import skillspec
from studio.runtime.webhooks import UnsafeWebhookURL, WebhookError, call_webhook, check_webhook_url, sign

API = skillspec.Api(
    name="FindFlight",
    arguments=[
        skillspec.ApiArgument(name="origin", slot_type="CITY"),
        skillspec.ApiArgument(name="date", slot_type="DATE"),
    ],
    returns=[
        skillspec.ReturnField(name="airline", slot_type="AIRLINE"),
        skillspec.ReturnField(name="price", slot_type="NUMBER"),
        skillspec.ReturnField(name="direct", slot_type="BOOL"),
    ],
)
ARGUMENTS = {"origin": "Boston", "date": "2026-01-15"}
SECRET = "whsec-for-tests"
NOW = 1767225600.9
TIMESTAMP = "1767225600"
RESULTS = {"airline": "Colloquy Air", "price": 129.5, "direct": True}


def clock() -> float:
    return NOW


# ---------------------------------------------------------------- the developer's side: a real server


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


# (status, headers, body): a body given as chunks is written piece by piece, at the handler's pace.
# None: hang up without answering.
Reply = tuple[int, dict[str, str], bytes | Iterable[bytes]] | None


def json_reply(payload: Any, status: int = 200) -> Callable[[Received], Reply]:
    return lambda _: (status, {"Content-Type": "application/json"}, json.dumps(payload).encode())


@dataclass
class Webhook:
    host: str
    port: int
    scheme: str = "http"
    reply: Callable[[Received], Reply] = field(default_factory=lambda: json_reply({"results": RESULTS}))
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # ends slow handlers at teardown

    def url(self, path: str = "/hook", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    hook: Webhook


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        hook = self.server.hook
        received = Received(
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            self.rfile.read(int(self.headers.get("Content-Length", "0"))),
        )
        hook.requests.append(received)
        reply = hook.reply(received)
        if reply is None:
            self.close_connection = True
            return
        status, headers, body = reply
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(body, bytes):
                self.send_header("Content-Length", str(len(body)))
                body = [body]
            self.end_headers()
            for chunk in body:
                self.wfile.write(chunk)
                self.wfile.flush()
        except OSError:
            pass  # the client gave up (a timeout test): expected

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(tls: ssl.SSLContext | None = None) -> Iterator[Webhook]:
    server = _Server(("127.0.0.1", 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.hook = Webhook("127.0.0.1", server.server_address[1], "https" if tls else "http")
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server.hook
    finally:
        server.hook.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    yield from serve()


def call(hook: Webhook, **kwargs: Any) -> dict[str, str] | None:
    options: dict[str, Any] = {"url": hook.url(), "secret": SECRET, "api": API, "arguments": ARGUMENTS}
    options |= {"allow_private": True, "clock": clock, **kwargs}
    return call_webhook(**options)


# ---------------------------------------------------------------- DNS, faked: there is no internet here

_real_getaddrinfo = socket.getaddrinfo


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer look-ups of the names in ``answers`` (one list of addresses per successive look-up,
    the last repeating); other names resolve for real. Returns the names looked up, in order."""
    looked_up: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        turn = min(looked_up.count(host), len(answers[host]) - 1)
        looked_up.append(host)
        infos = []
        for address in answers[host][turn]:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))))
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record connection attempts instead of making them (each one is refused)."""
    attempts: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


# ---------------------------------------------------------------- a successful call


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    assert sign("key", "1700000000", b'{"a":1}') == (
        "sha256=" + hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    )
    assert sign("key", "1700000000", b"{}") != sign("key", "1700000001", b"{}")
    assert sign("key", "1", b"{}") != sign("other", "1", b"{}")


def test_a_call_is_a_signed_json_post_and_returns_the_results_as_strings(webhook: Webhook) -> None:
    def verify(request: Received) -> Reply:
        # What a developer's webhook does: recompute the signature and compare in constant time.
        timestamp = request.headers["x-colloquy-timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(request.headers["x-colloquy-signature"], f"sha256={expected}")
        payload = {"results": RESULTS} if good else {"results": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    webhook.reply = verify
    results = call(webhook, url=webhook.url("/hook?env=test"))

    assert results == {"airline": "Colloquy Air", "price": "129.5", "direct": "True"}
    [request] = webhook.requests
    assert request.path == "/hook?env=test"
    assert request.body == (
        b'{"api":"FindFlight","arguments":{"date":"2026-01-15","origin":"Boston"},"timestamp":"1767225600"}'
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Colloquy-Webhook/1"
    assert request.headers["x-colloquy-timestamp"] == TIMESTAMP
    assert request.headers["x-colloquy-signature"] == sign(SECRET, TIMESTAMP, request.body)
    assert request.headers["host"] == f"127.0.0.1:{webhook.port}"


def test_a_wrong_secret_fails_the_webhooks_check(webhook: Webhook) -> None:
    def verify(request: Received) -> Reply:
        expected = sign(SECRET, request.headers["x-colloquy-timestamp"], request.body)
        ok = hmac.compare_digest(request.headers["x-colloquy-signature"], expected)
        return 200 if ok else 401, {}, b'{"results": null}'

    webhook.reply = verify
    with pytest.raises(WebhookError, match="^webhook answered HTTP 401$"):
        call(webhook, secret="not-the-secret")


def test_values_may_be_strings_numbers_or_booleans(webhook: Webhook) -> None:
    webhook.reply = json_reply({"results": {"airline": "", "price": 120, "direct": False}, "note": "ignored"})
    assert call(webhook) == {"airline": "", "price": "120", "direct": "False"}


def test_null_results_are_a_failed_call(webhook: Webhook) -> None:
    webhook.reply = json_reply({"results": None})
    assert call(webhook) is None


def test_the_body_may_be_exactly_max_bytes(webhook: Webhook) -> None:
    body = json.dumps({"results": RESULTS}).encode()
    webhook.reply = lambda _: (200, {}, body)
    assert call(webhook, max_bytes=len(body)) is not None


# ---------------------------------------------------------------- responses that break the contract


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"results": {"airline": "A", "direct": True}}, "webhook response lacks return field 'price'"),
        ({"results": {"direct": True}}, "webhook response lacks return fields 'airline', 'price'"),
        ({"results": {**RESULTS, "seats": 3}}, "webhook response has unknown return field 'seats'"),
        (
            {"results": {**RESULTS, "seats": 3, "gate": "B"}},
            "webhook response has unknown return fields 'seats', 'gate'",
        ),
        (
            {"results": {**RESULTS, "price": None}},
            "webhook return field 'price' must be a string, number or boolean, not null",
        ),
        (
            {"results": {**RESULTS, "price": [1]}},
            "return field 'price' must be a string, number or boolean, not an array",
        ),
        (
            {"results": {**RESULTS, "price": {"eur": 1}}},
            "field 'price' must be a string, number or boolean, not an object",
        ),
        ({"results": ["Colloquy Air", 129.5, True]}, "webhook 'results' must be an object or null, not an array"),
        ({"results": "none found"}, "webhook 'results' must be an object or null, not a string"),
        ({"result": RESULTS}, "webhook response lacks 'results'"),
        ([RESULTS], "webhook response is not a JSON object"),
    ],
)
def test_a_response_that_breaks_the_contract_is_an_error(webhook: Webhook, payload: Any, message: str) -> None:
    webhook.reply = json_reply(payload)
    with pytest.raises(WebhookError) as raised:
        call(webhook)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [b"<html>Internal error</html>", b"", b'{"results": {"price": NaN}}', b"\xff\xfe\x00", b"[" * 50_000],
    ids=["html", "empty", "nan", "bad-encoding", "deeply-nested"],
)
def test_a_response_that_is_not_json_is_an_error(webhook: Webhook, body: bytes) -> None:
    webhook.reply = lambda _: (200, {"Content-Type": "application/json"}, body)
    with pytest.raises(WebhookError, match="^webhook response is not JSON$"):
        call(webhook)


def test_http_500_is_an_error(webhook: Webhook) -> None:
    webhook.reply = json_reply({"results": RESULTS}, status=500)
    with pytest.raises(WebhookError, match="^webhook answered HTTP 500$"):
        call(webhook)


def test_a_redirect_is_not_followed(webhook: Webhook) -> None:
    webhook.reply = lambda _: (302, {"Location": webhook.url("/elsewhere")}, b"")
    with pytest.raises(WebhookError, match=r"^webhook answered HTTP 302 \(redirects are not followed\)$"):
        call(webhook)
    assert [r.path for r in webhook.requests] == ["/hook"]


def test_an_oversized_response_is_an_error(webhook: Webhook) -> None:
    webhook.reply = json_reply({"results": {**RESULTS, "airline": "x" * 70_000}})
    with pytest.raises(WebhookError, match="^webhook response is larger than 65536 bytes$"):
        call(webhook)


def test_an_oversized_response_without_length_is_cut_off(webhook: Webhook) -> None:
    # No Content-Length, closed by the server: the reader must stop at max_bytes + 1 by itself.
    webhook.reply = lambda _: (200, {"Connection": "close"}, (b"x" * 1000 for _ in range(1000)))
    with pytest.raises(WebhookError, match="^webhook response is larger than 5000 bytes$"):
        call(webhook, max_bytes=5000)


# ---------------------------------------------------------------- time and connection failures


def test_a_slow_webhook_times_out(webhook: Webhook) -> None:
    def slow(_: Received) -> Reply:
        webhook.release.wait(5)
        return json_reply({"results": RESULTS})(_)

    webhook.reply = slow
    start = time.monotonic()
    with pytest.raises(WebhookError, match=r"^webhook timed out after 0\.3 s$"):
        call(webhook, timeout=0.3)
    assert time.monotonic() - start < 2


def test_the_timeout_bounds_the_whole_response_not_each_read(webhook: Webhook) -> None:
    # A byte every 0.1 s never trips a per-read timeout of 0.3 s; the deadline must still hold.
    def trickle() -> Iterator[bytes]:
        yield b"{"
        for _ in range(30):  # 3 s at most, so that a broken deadline fails the test rather than hanging it
            if webhook.release.wait(0.1):
                return
            yield b" "

    webhook.reply = lambda _: (200, {"Content-Length": "100000"}, trickle())
    start = time.monotonic()
    with pytest.raises(WebhookError, match=r"^webhook timed out after 0\.3 s$"):
        call(webhook, timeout=0.3)
    assert time.monotonic() - start < 2


def test_a_refused_connection_is_an_error() -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WebhookError, match="^webhook refused the connection"):
        call_webhook(url=f"http://127.0.0.1:{port}/", secret=SECRET, api=API, arguments=ARGUMENTS, allow_private=True)


def test_a_server_that_hangs_up_is_an_error(webhook: Webhook) -> None:
    webhook.reply = lambda _: None
    with pytest.raises(WebhookError, match="^webhook closed the connection without answering$"):
        call(webhook)


# ---------------------------------------------------------------- SSRF: refused addresses


@pytest.mark.parametrize(
    ("url", "address", "category"),
    [
        ("https://127.0.0.1/", "127.0.0.1", "loopback"),
        ("https://127.8.9.10:8443/x", "127.8.9.10", "loopback"),
        ("https://2130706433/", "127.0.0.1", "loopback"),  # 127.0.0.1 as one number
        ("https://0x7f.1/", "127.0.0.1", "loopback"),
        ("https://10.1.2.3/", "10.1.2.3", "private"),
        ("https://192.168.0.1/", "192.168.0.1", "private"),
        ("https://172.16.5.5/", "172.16.5.5", "private"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254", "cloud metadata service"),
        ("https://169.254.1.1/", "169.254.1.1", "link-local"),
        ("https://100.100.100.200/", "100.100.100.200", "cloud metadata service"),
        ("https://100.64.0.1/", "100.64.0.1", "shared address space"),
        ("https://0.0.0.0/", "0.0.0.0", "unspecified"),
        ("https://0.1.2.3/", "0.1.2.3", "special-purpose"),
        ("https://224.0.0.1/", "224.0.0.1", "multicast"),
        ("https://240.0.0.1/", "240.0.0.1", "reserved"),
        ("https://192.0.2.1/", "192.0.2.1", "special-purpose"),  # documentation (TEST-NET-1)
        ("https://[::1]/", "::1", "loopback"),
        ("https://[::]/", "::", "unspecified"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", "loopback (embedded in IPv6)"),
        ("https://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1", "private (embedded in IPv6)"),
        ("https://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254", "cloud metadata service (embedded in IPv6)"),
        ("https://[::127.0.0.1]/", "::127.0.0.1", "loopback (embedded in IPv6)"),  # IPv4-compatible
        ("https://[64:ff9b::a00:1]/", "64:ff9b::a00:1", "private (embedded in IPv6)"),  # NAT64 of 10.0.0.1
        ("https://[2002:7f00:1::]/", "2002:7f00:1::", "loopback (embedded in IPv6)"),  # 6to4 of 127.0.0.1
        ("https://[fd00:ec2::254]/", "fd00:ec2::254", "cloud metadata service"),
        ("https://[fd12:3456::1]/", "fd12:3456::1", "private"),
        ("https://[fe80::1]/", "fe80::1", "link-local"),
        ("https://[ff02::1]/", "ff02::1", "multicast"),
    ],
)
def test_internal_addresses_are_refused(url: str, address: str, category: str) -> None:
    with pytest.raises(UnsafeWebhookURL) as raised:
        check_webhook_url(url)
    assert str(raised.value) == f"refused webhook address {address}: {category}"


def test_localhost_is_refused_after_resolution() -> None:
    with pytest.raises(UnsafeWebhookURL, match=r"^refused webhook address (127\.0\.0\.1|::1): loopback$"):
        check_webhook_url("https://localhost/")


def test_a_name_is_refused_if_any_of_its_addresses_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example": [["93.184.216.34", "10.0.0.7"]]})
    with pytest.raises(UnsafeWebhookURL, match=r"^refused webhook address 10\.0\.0\.7: private$"):
        check_webhook_url("https://mixed.example/hook")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "webhook URL must use https"),
        ("ftp://example.com/hook", "webhook URL must use https, not ftp"),
        ("example.com/hook", "webhook URL must use https, not no scheme"),
        ("https://user:pw@example.com/hook", "webhook URL must not contain a user name or password"),
        ("https://token@example.com/hook", "webhook URL must not contain a user name or password"),
        ("https:///hook", "webhook URL has no host"),
        ("https://example.com:99999/", "webhook URL is malformed: Port out of range 0-65535"),
        ("https://example.com/a b", "webhook URL contains whitespace or control characters"),
        ("https://example.com/\nHost: evil", "webhook URL contains whitespace or control characters"),
        ("https://example.com/caf\u00e9", "webhook URL path must be ASCII (percent-encode other characters)"),
        ("https://nonexistent.invalid/", "webhook host nonexistent.invalid does not resolve"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnsafeWebhookURL) as raised:
        check_webhook_url(url)
    assert str(raised.value) == message


def test_public_addresses_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"example.com": [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]]})
    assert check_webhook_url("https://example.com/hook") == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert check_webhook_url("https://93.184.216.34:8443/hook") == ["93.184.216.34"]
    assert check_webhook_url("https://[::ffff:93.184.216.34]/hook") == ["::ffff:93.184.216.34"]


def test_allow_private_accepts_http_and_local_addresses_but_not_metadata() -> None:
    assert check_webhook_url("http://127.0.0.1:8000/hook", allow_private=True) == ["127.0.0.1"]
    assert check_webhook_url("https://10.1.2.3/hook", allow_private=True) == ["10.1.2.3"]
    with pytest.raises(UnsafeWebhookURL, match="^refused webhook address 169.254.169.254: cloud metadata service$"):
        check_webhook_url("http://169.254.169.254/latest/meta-data", allow_private=True)
    with pytest.raises(UnsafeWebhookURL, match="^webhook URL must use https, not ftp$"):
        check_webhook_url("ftp://127.0.0.1/", allow_private=True)


def test_a_refused_url_is_never_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = no_connections(monkeypatch)
    with pytest.raises(UnsafeWebhookURL, match="loopback"):
        call_webhook(url="https://localhost/hook", secret=SECRET, api=API, arguments=ARGUMENTS)
    with pytest.raises(UnsafeWebhookURL, match="must use https"):
        call_webhook(url="http://93.184.216.34/hook", secret=SECRET, api=API, arguments=ARGUMENTS)
    assert attempts == []


# ---------------------------------------------------------------- DNS rebinding: the checked address is used


def test_the_connection_goes_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first answer (checked) is public; any later look-up would say 127.0.0.1.
    looked_up = fake_dns(monkeypatch, {"rebind.example": [["93.184.216.34"], ["127.0.0.1"]]})
    attempts = no_connections(monkeypatch)
    with pytest.raises(WebhookError, match="^webhook refused the connection"):
        call_webhook(url="https://rebind.example/hook", secret=SECRET, api=API, arguments=ARGUMENTS)
    assert attempts == [("93.184.216.34", 443)]
    assert looked_up == ["rebind.example"]


def test_a_pinned_call_keeps_the_host_name_in_the_host_header(
    webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Locally, end to end: checked as 127.0.0.1, then the name "moves" to an unreachable address.
    fake_dns(monkeypatch, {"hook.test": [["127.0.0.1"], ["10.255.255.1"]]})
    assert call(webhook, url=webhook.url(host="hook.test")) is not None
    assert webhook.requests[0].headers["host"] == f"hook.test:{webhook.port}"


def test_tls_is_verified_against_the_host_name_not_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"rebind.example": [["93.184.216.34"], ["127.0.0.1"]]})
    attempts: list[tuple[str, int]] = []
    names: list[str | None] = []
    real_create_connection = socket.create_connection
    with socket.create_server(("127.0.0.1", 0)) as listener:  # stands in for 93.184.216.34:443

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
            attempts.append(address)
            return real_create_connection(listener.getsockname(), *args, **kwargs)

        def wrap_socket(self: ssl.SSLContext, sock: socket.socket, **kwargs: Any) -> ssl.SSLSocket:
            names.append(kwargs.get("server_hostname"))
            assert self.verify_mode == ssl.CERT_REQUIRED and self.check_hostname
            raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

        monkeypatch.setattr(socket, "create_connection", create_connection)
        monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
        with pytest.raises(WebhookError, match="^webhook TLS certificate is not valid: .*certificate verify failed"):
            call_webhook(url="https://rebind.example/hook", secret=SECRET, api=API, arguments=ARGUMENTS)
    assert attempts == [("93.184.216.34", 443)]
    assert names == ["rebind.example"]


# ---------------------------------------------------------------- real TLS, with a throw-away certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for hook.test: (certificate, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=hook.test"]
        + ["-addext", "subjectAltName=DNS:hook.test"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_webhook(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    fake_dns(monkeypatch, {"hook.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    yield from serve(context)


def test_https_with_a_trusted_certificate(
    tls_webhook: Webhook, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # read when the client's context loads its CAs
    results = call(tls_webhook, url=tls_webhook.url(host="hook.test"))
    assert results == {"airline": "Colloquy Air", "price": "129.5", "direct": "True"}
    assert tls_webhook.requests[0].headers["host"] == f"hook.test:{tls_webhook.port}"


def test_https_with_an_untrusted_certificate_is_an_error(tls_webhook: Webhook) -> None:
    with pytest.raises(WebhookError, match="^webhook TLS certificate is not valid: self-signed certificate$"):
        call(tls_webhook, url=tls_webhook.url(host="hook.test"))
    assert tls_webhook.requests == []


def test_https_with_another_hosts_certificate_is_an_error(
    tls_webhook: Webhook, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with pytest.raises(WebhookError, match="^webhook TLS certificate is not valid: Hostname mismatch"):
        call(tls_webhook, url=tls_webhook.url(host="other.test"))
    assert tls_webhook.requests == []
