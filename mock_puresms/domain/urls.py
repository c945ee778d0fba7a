"""The one rule for webhook URLs, applied wherever the mock accepts one: ``PUT
/v1/Account/Webhooks``, a send's ``deliveryReceiptUrl`` (single, bulk, group) and the
config file. The README's "Webhook URLs" section says the same in words.

Allowed: an absolute ``http`` or ``https`` URL with a host, and a port from 1 to 65535
when one is given. Loopback and private addresses are allowed (tests and local receivers
live there). Refused, because a POST to them could never be delivered or should never
be made:

- userinfo (``http://user:pass@host/``): credentials do not belong in a URL that the
  control surface lists in clear;
- spaces and control characters anywhere;
- an IPv4 address written in any form but the dotted quad (``127.1``, ``2852039166``,
  ``0x7f.0.0.1``, ``010.0.0.1``): clients read these differently, so the mock would
  POST somewhere else than the URL seems to say (or nowhere);
- the unspecified, broadcast and multicast addresses (``0.0.0.0``, ``::``,
  ``255.255.255.255``, ``224.0.0.0/4``, ``ff00::/8``): no TCP connection goes there;
- link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and IPv6 zone ids: cloud
  metadata services live there, and they are no receiver's address;
- a host name that is not one (a label over 63 characters, a character other than
  letters, digits, ``-`` and ``_``).

Separately, the dispatcher never POSTs to the mock's own control surface (``/_mock``
on the address it listens on), and the control surface refuses any request that is one
of the mock's webhook POSTs: that check needs the listening address, known only once
the server runs.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
# A host whose last label looks like a number is read as an IPv4 address by browsers,
# curl and the WHATWG URL standard (``127.1``, ``0x7f``, ``2852039166``).
_NUMERIC_LABEL = re.compile(r"(0[xX][0-9A-Fa-f]*|[0-9]+)")
_CANONICAL_OCTET = re.compile(r"(0|[1-9][0-9]{0,2})")
_BAD_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")

LINK_LOCAL_V4 = ipaddress.IPv4Network("169.254.0.0/16")
LINK_LOCAL_V6 = ipaddress.IPv6Network("fe80::/10")


def webhook_url_problem(value: str) -> str | None:
    """Why ``value`` cannot be a webhook URL, or ``None`` when it can."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "must be an absolute http or https URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL"
    if _BAD_CHARACTERS.search(value):
        return "must not contain spaces or control characters"
    if port == 0:
        return "must have a port from 1 to 65535"
    if "@" in parts.netloc:
        return "must not hold a user name or password"
    host = parts.hostname
    if parts.netloc.rpartition("@")[2].startswith("["):
        return _ipv6_problem(host)
    return _host_problem(host)


def is_webhook_url(value: str) -> bool:
    """Whether ``value`` follows the webhook URL rule."""
    return webhook_url_problem(value) is None


def _ipv6_problem(host: str) -> str | None:
    if "%" in host:
        return "must not use an IPv6 zone id"
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return "must hold a valid IPv6 address between [ and ]"
    mapped = address.ipv4_mapped
    if mapped is not None:
        return _address_problem(mapped)
    return _address_problem(address)


def _host_problem(host: str) -> str | None:
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if len(labels) != 4 or not all(_CANONICAL_OCTET.fullmatch(label) for label in labels):
            return "must write an IPv4 address as four decimal numbers (such as 127.0.0.1)"
        try:
            address = ipaddress.IPv4Address(".".join(labels))
        except ValueError:
            return "must write an IPv4 address as four decimal numbers (such as 127.0.0.1)"
        return _address_problem(address)
    # Beyond ASCII, letters and digits only: the codec would drop a zero-width joiner
    # that the HTTP client refuses (IDNA 2008), so such a URL could never be delivered.
    if not all(c.isalnum() or c in "-_." for c in host if not c.isascii()):
        return "must have a valid host name"
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return "must have a valid host name"
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return "must have a valid host name"
    return None


def _address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if address.is_unspecified:
        return f"must not use the unspecified address {address}"
    if address.is_multicast or address == ipaddress.IPv4Address("255.255.255.255"):
        return f"must not use a broadcast or multicast address ({address})"
    if (
        address in LINK_LOCAL_V4
        if isinstance(address, ipaddress.IPv4Address)
        else address in LINK_LOCAL_V6
    ):
        return f"must not use a link-local address ({address})"
    return None


def is_control_surface_url(
    url: str, listening: Iterable[tuple[str, int]], host_names: Iterable[str] = ()
) -> bool:
    """Whether a POST to ``url`` would reach the control surface (``/_mock``) of the
    server listening on ``listening`` (its ``(host, port)`` pairs): same port, and a
    loopback or unspecified address, ``localhost``, a listening host, or one of
    ``host_names`` (this machine's names). The path is read as the server reads it:
    percent-decoded, dot segments resolved, case ignored."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    path = posixpath.normpath(unquote(parts.path) or "/").lstrip("/").lower()
    if path != "_mock" and not path.startswith("_mock/"):
        return False
    host = (parts.hostname or "").rstrip(".")
    names = {name.lower().rstrip(".") for name in host_names}
    for bound_host, bound_port in listening:
        if port != bound_port:
            continue
        if _is_local(host) or host == bound_host.lower() or host in names:
            return True
    return False


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified
