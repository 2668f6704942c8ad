"""Where webhooks may go: absolute http(s) URLs without credentials and, unless the settings
allow private targets (development, tests), only public addresses.

The check resolves the host and refuses it if *any* of its addresses is not public; the sender
then connects to one of exactly these addresses (see `sender`), so a DNS answer that changes
between check and connect (DNS rebinding) cannot redirect the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from services.errors import ServiceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
RESOLVE_TIMEOUT_SECONDS = 5.0
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# IANA's special-purpose address registries, the blocks that are not globally reachable (and
# multicast). Python's own `is_global` missed some of them before 3.11.10 (192.0.0.8 counted as
# global); this list decides, whatever the Python version. Where a block has a few globally
# reachable exceptions (192.0.0.9, 192.0.0.10, parts of 2001::/23) the whole block is refused:
# none of them is a place to send a webhook.
NOT_GLOBAL = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/127",
        "64:ff9b:1::/48",
        "100::/64",
        "100:0:0:1::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)


class TargetRefused(Exception):
    """The URL cannot be delivered to now."""


class Unresolvable(TargetRefused):
    pass


class NotPublic(TargetRefused):
    pass


def _invalid(message: str) -> ServiceError:
    return ServiceError(message, code="INVALID_URL", field=["url"])


def check_url(url: str, *, require_https: bool) -> SplitResult:
    """Syntax only: scheme, host, port, no credentials. Raises INVALID_URL."""
    value = url.strip()
    if not value or len(value) > MAX_URL_LENGTH:
        raise _invalid(f"Give an absolute URL of at most {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise _invalid("The URL must not contain spaces or control characters.")
    parts = urlsplit(value)
    allowed = ("https",) if require_https else ("http", "https")
    if parts.scheme.lower() not in allowed:
        raise _invalid("The URL must start with " + " or ".join(f"{s}://" for s in allowed) + ".")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _invalid("The URL must not contain a user name or password.")
    if not parts.hostname:
        raise _invalid("The URL has no host.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError) as exc:
        raise _invalid("The URL's host or port is not valid.") from exc
    return parts._replace(scheme=parts.scheme.lower(), fragment="")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None and not is_public_address(inner):
            return False
        if address.ipv4_mapped is not None:
            return True  # decided by the IPv4 address alone
        if address.is_site_local:
            return False
    if any(address in block for block in NOT_GLOBAL if block.version == address.version):
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for host (a seam for tests)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


async def resolve_addresses(parts: SplitResult) -> list[IPAddress]:
    host = parts.hostname or ""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        found = await asyncio.wait_for(
            resolve_host(host, default_port(parts)), timeout=RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise Unresolvable(f"could not resolve {host}") from exc
    addresses: list[IPAddress] = []
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolvable(f"could not resolve {host}")
    return addresses


def refuse_private(host: str, addresses: list[IPAddress]) -> None:
    for address in addresses:
        if not is_public_address(address):
            shown = host if str(address) == host else f"{host} ({address})"
            raise NotPublic(f"{shown} is not a public address")


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it may be reached at, in the resolver's order."""

    parts: SplitResult
    addresses: list[IPAddress]

    @property
    def hostname(self) -> str:
        """The host in ASCII (IDNA), for TLS (SNI and certificate checks)."""
        host = self.parts.hostname or ""
        return host if _literal(host) is not None else host.encode("idna").decode("ascii")

    @property
    def host_header(self) -> str:
        host = self.hostname
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{self.parts.port}" if self.parts.port else host

    def url_at(self, address: IPAddress) -> str:
        """The same URL, with its host replaced by one checked address."""
        ip = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{ip}:{default_port(self.parts)}"
        return urlunsplit(self.parts._replace(netloc=netloc))


async def resolve_target(url: str, *, allow_private: bool, require_https: bool) -> Target:
    """For a delivery: raises TargetRefused when the URL may not be called now."""
    try:
        parts = check_url(url, require_https=require_https)
    except ServiceError as exc:
        raise TargetRefused(exc.message) from exc
    addresses = await resolve_addresses(parts)
    if not allow_private:
        refuse_private(parts.hostname or "", addresses)
    return Target(parts, addresses)


async def check_endpoint_url(url: str, *, require_https: bool, allow_private: bool) -> str:
    """For creating or changing an endpoint: the cleaned URL, or INVALID_URL.

    A host that does not resolve yet is accepted (the merchant may still be setting it up);
    every delivery checks again before it connects.
    """
    parts = check_url(url, require_https=require_https)
    if not allow_private:
        try:
            refuse_private(parts.hostname or "", await resolve_addresses(parts))
        except NotPublic as exc:
            raise _invalid(f"Webhooks go to public addresses only: {exc}.") from exc
        except Unresolvable:
            pass
    return urlunsplit(parts)
