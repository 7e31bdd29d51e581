"""Answering a skill's API calls through the developer's HTTPS webhook.

Plain Python (no Django, DRF or Celery) so that the network and security rules can be unit-tested
without a database. :func:`check_webhook_url` guards against server-side request forgery: every
address a host name resolves to must be public, and :func:`call_webhook` then connects to the
checked address itself, so a DNS answer that changes between the check and the request cannot
redirect the call to an internal service.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import NoReturn

from skillspec import Api

__all__ = [
    "UnsafeWebhookURL",
    "WebhookError",
    "call_webhook",
    "check_webhook_url",
    "sign",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = "Colloquy-Webhook/1"

# Cloud instance metadata services. The link-local ones are refused as link-local anyway; they are
# named here so that the error says what the address is. AWS's IPv6 endpoint (fd00:ec2::254) and
# Alibaba's (100.100.100.200) are not link-local.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_PRIVATE = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)


class WebhookError(Exception):
    """A webhook call failed; the message is a short reason fit for the developer's test console."""


class UnsafeWebhookURL(WebhookError):
    """The webhook URL is malformed or points at an address the runtime must not connect to."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # IPv6 forms that carry an IPv4 address and may be delivered to it: ::ffff:127.0.0.1 reaches
    # 127.0.0.1 on a dual-stack host; NAT64 and 6to4 gateways forward to the embedded address.
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPATIBLE or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _category(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be connected to, or None when it is a public address."""
    if ip in _METADATA:
        return "cloud metadata service"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = _category(embedded)
            return None if inner is None else f"{inner} (embedded in IPv6)"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared address space"
    if any(ip in net for net in _PRIVATE if net.version == ip.version):
        return "private"
    if ip.is_reserved:
        return "reserved"
    # The rest of the special-purpose registry: 0.0.0.0/8, documentation ranges, benchmarking, Teredo, ...
    if not ip.is_global:
        return "special-purpose"
    return None


def _parse_url(url: str, *, allow_private: bool) -> tuple[urllib.parse.SplitResult, str, int]:
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeWebhookURL("webhook URL contains whitespace or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeWebhookURL(f"webhook URL is malformed: {e}") from None
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_private:
        raise UnsafeWebhookURL("webhook URL must use https")
    if scheme not in ("https", "http"):
        raise UnsafeWebhookURL(f"webhook URL must use https, not {scheme or 'no scheme'}")
    # Credentials in a URL end up in logs and in the test console; the signature authenticates instead.
    if "@" in parts.netloc:
        raise UnsafeWebhookURL("webhook URL must not contain a user name or password")
    host = parts.hostname
    if not host:
        raise UnsafeWebhookURL("webhook URL has no host")
    if not (parts.path + parts.query).isascii():
        raise UnsafeWebhookURL("webhook URL path must be ASCII (percent-encode other characters)")
    return parts, host, port or (443 if scheme == "https" else 80)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # gaierror is an OSError; bad IDNA labels raise UnicodeError
        infos = []
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeWebhookURL(f"webhook host {host} does not resolve")
    return addresses


def check_webhook_url(url: str, *, allow_private: bool = False) -> list[str]:
    """Validate a webhook URL and return the addresses its host resolves to, all safe to connect to.

    Only ``https`` is accepted, without credentials in the URL. Every resolved address must be
    public: loopback, private, link-local, cloud metadata, unspecified, multicast, reserved and
    shared (carrier-grade NAT) addresses are refused, also when embedded in an IPv6 address.
    ``allow_private`` (local development) also accepts plain ``http`` and non-public addresses,
    except the cloud metadata services.

    Raises :class:`UnsafeWebhookURL` with the reason, naming the refused address and its category.
    """
    _parts, host, port = _parse_url(url, allow_private=allow_private)
    # Checked after resolution: a name (localhost, a DNS record pointing at 10.0.0.1, 0x7f.1) is
    # only as safe as the addresses it stands for, and one bad address among several is enough to
    # refuse, since any of them may be the one a later lookup returns first.
    addresses = _resolve(host, port)
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise UnsafeWebhookURL(f"refused webhook address {address}: not an IP address") from None
        category = _category(ip)
        # Nothing runs a webhook on a metadata service; refusing it even in local development costs
        # nothing and keeps a development deployment on a cloud host from leaking its credentials.
        if category is not None and (not allow_private or ip in _METADATA):
            raise UnsafeWebhookURL(f"refused webhook address {address}: {category}")
    return addresses


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Colloquy-Signature`` header: ``sha256=`` and the hex HMAC-SHA256 of ``timestamp.body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _open_socket(address: str, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # Requests are small and written at once; as in http.client, don't let Nagle delay them.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    # ``host`` stays the URL's host name (the Host header); the socket goes to the checked address.
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = _open_socket(self.address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()  # verifies the chain and the host name
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = _open_socket(self.address, self.port, self.timeout)
        try:
            # The certificate is verified against the host name, not the address connected to.
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _reject_constant(name: str) -> NoReturn:
    # NaN and Infinity are not JSON, though Python's parser accepts them by default.
    raise ValueError(f"{name} is not JSON")


def _results(payload: object, api: Api) -> dict[str, str] | None:
    if not isinstance(payload, dict):
        raise WebhookError("webhook response is not a JSON object")
    if "results" not in payload:
        raise WebhookError("webhook response lacks 'results'")
    results = payload["results"]
    if results is None:
        return None
    if not isinstance(results, dict):
        raise WebhookError(f"webhook 'results' must be an object or null, not {_json_type(results)}")
    names = [field.name for field in api.returns]
    unknown = [k for k in results if k not in names]
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        raise WebhookError(f"webhook response has unknown return field{s} {_quoted(unknown)}")
    missing = [n for n in names if n not in results]
    if missing:
        s = "s" if len(missing) > 1 else ""
        raise WebhookError(f"webhook response lacks return field{s} {_quoted(missing)}")
    out: dict[str, str] = {}
    for name in names:
        value = results[name]
        if not isinstance(value, str | int | float):  # bool is an int
            raise WebhookError(
                f"webhook return field '{name}' must be a string, number or boolean, not {_json_type(value)}"
            )
        out[name] = str(value)
    return out


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return "a boolean" if isinstance(value, bool) else "a number"


def _ssl_reason(e: ssl.SSLError) -> str:
    # OpenSSL's errors carry verify_message / reason; an SSLError raised elsewhere may have neither.
    for attribute in ("verify_message", "reason", "strerror"):
        value = getattr(e, attribute, None)
        if value:
            return str(value)
    return str(e)


def call_webhook(
    *,
    url: str,
    secret: str,
    api: Api,
    arguments: Mapping[str, str],
    timeout: float = 5.0,
    allow_private: bool = False,
    max_bytes: int = 65536,
    clock: Callable[[], float] = time.time,
) -> dict[str, str] | None:
    """Call ``api`` through the webhook at ``url``: its results, or None when the call failed.

    The request is a signed JSON ``POST`` (see :func:`sign`); the webhook answers HTTP 200 with
    ``{"results": {field: value, ...}}`` giving every return field of ``api``, or with
    ``{"results": null}`` when the call failed (nothing found, ...). ``timeout`` bounds the whole
    exchange, from connecting to the last byte of the response. Redirects are not followed.

    Raises :class:`WebhookError` (:class:`UnsafeWebhookURL` for a refused URL) with the reason.
    """
    parts, host, port = _parse_url(url, allow_private=allow_private)
    address = check_webhook_url(url, allow_private=allow_private)[0]
    timestamp = str(int(clock()))
    body = json.dumps(
        {"api": api.name, "arguments": dict(arguments), "timestamp": timestamp}, separators=(",", ":"), sort_keys=True
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Colloquy-Timestamp": timestamp,
        "X-Colloquy-Signature": sign(secret, timestamp, body),
    }
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_class = _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
    conn = conn_class(host, port, address=address, timeout=timeout)
    # Socket timeouts bound each read, not the exchange: a server trickling a byte at a time would
    # hold the dialogue for ever. Each step is given only what is left of the one deadline.
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    response: http.client.HTTPResponse | None = None
    try:
        conn.connect()
        sock = conn.sock  # kept: http.client drops its reference once the response says "close"
        assert sock is not None
        sock.settimeout(remaining())
        conn.request("POST", target, body=body, headers=headers)
        sock.settimeout(remaining())
        response = conn.getresponse()
        if response.status != 200:
            hint = " (redirects are not followed)" if 300 <= response.status < 400 else ""
            raise WebhookError(f"webhook answered HTTP {response.status}{hint}")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            sock.settimeout(remaining())
            chunk = response.read1(max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        raise WebhookError(f"webhook timed out after {timeout} s") from None
    except ssl.SSLCertVerificationError as e:
        raise WebhookError(f"webhook TLS certificate is not valid: {_ssl_reason(e)}") from None
    except ssl.SSLError as e:
        raise WebhookError(f"webhook TLS handshake failed: {_ssl_reason(e)}") from None
    except ConnectionRefusedError:
        raise WebhookError(f"webhook refused the connection ({host} at {address}, port {port})") from None
    except http.client.RemoteDisconnected:
        raise WebhookError("webhook closed the connection without answering") from None
    except http.client.HTTPException as e:
        raise WebhookError(f"webhook sent an invalid HTTP response ({type(e).__name__})") from None
    except OSError as e:
        raise WebhookError(f"webhook connection failed: {e.strerror or e}") from None
    finally:
        if response is not None:
            response.close()  # the socket stays open while the response's file holds it
        conn.close()
    if size > max_bytes:
        raise WebhookError(f"webhook response is larger than {max_bytes} bytes")
    try:
        payload = json.loads(b"".join(chunks), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays fit in a few KiB
        raise WebhookError("webhook response is not JSON") from None
    return _results(payload, api)
