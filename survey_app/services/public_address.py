"""Is the public base URL one that residents' phones can open? Checked before printing.

Every letter and poster carries ``PUBLIC_BASE_URL`` in its QR code and typed address, and a
wrong one is found only after hundreds of letters went out: ``http://127.0.0.1:5000`` (the
development default) opens the resident's own phone; ``http://192.168.1.20`` works only on
the office Wi-Fi; ``http://survey`` resolves nowhere outside the office. The campaign page,
the letters and the poster show each problem found here as a warning (on screen only, not
printed); the check reads the address only (no DNS lookup or request: the server often cannot
reach its own public address, and a slow resolver must not hold up the page).

A survey meant for one local network (the community office's Wi-Fi) sets
``PUBLIC_URL_LAN_ONLY``: private addresses and local names are then what was intended.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Kinds of problem, each with its own sentence in the templates (admin/_address.html).
MALFORMED = "malformed"
LOOPBACK = "loopback"
UNSPECIFIED = "unspecified"
PRIVATE = "private"
LOCAL_NAME = "local_name"
MISMATCH = "mismatch"

_LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home", ".localdomain")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class AddressProblem:
    """Why residents may not reach ``address``; ``served`` is the address this page was
    requested at (for a mismatch)."""

    kind: str
    address: str
    served: str = ""


def _netloc(scheme: str, host: str, port: int | None) -> str:
    port = port or _DEFAULT_PORTS.get(scheme)
    return f"{host.lower().strip('[]')}:{port}"


def _host_problem(host: str, *, lan_ok: bool) -> str | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        name = host.lower().rstrip(".")
        if name == "localhost" or name.endswith(".localhost"):
            return LOOPBACK
        if not lan_ok and ("." not in name or name.endswith(_LOCAL_SUFFIXES)):
            return LOCAL_NAME
        return None
    if ip.is_loopback:
        return LOOPBACK
    if ip.is_unspecified:
        return UNSPECIFIED
    if not lan_ok and (ip.is_private or ip.is_link_local):
        return PRIVATE
    return None


def check_public_address(base_url: str, *, request_host: str | None = None,
                         request_scheme: str = "http",
                         lan_ok: bool = False) -> list[AddressProblem]:
    """The problems residents would have opening ``base_url``; empty when none is seen.

    ``request_host`` (``host[:port]`` of the request showing the page) adds a mismatch when
    the page was opened at another address than the one printed.

    >>> [p.kind for p in check_public_address("http://127.0.0.1:5000")]
    ['loopback']
    >>> [p.kind for p in check_public_address("http://192.168.1.20:8000")]
    ['private']
    >>> check_public_address("http://192.168.1.20:8000", lan_ok=True)
    []
    >>> check_public_address("https://survey.example.gov.cn", request_host="survey.example.gov.cn",
    ...                      request_scheme="https")
    []
    >>> [p.kind for p in check_public_address("https://survey.example.gov.cn",
    ...                                       request_host="10.0.0.5:8000")]
    ['mismatch']
    """
    parts = urlsplit(base_url.strip())
    try:
        port = parts.port
    except ValueError:
        port, parts = None, parts._replace(netloc="")
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return [AddressProblem(MALFORMED, base_url)]
    problems = []
    kind = _host_problem(parts.hostname, lan_ok=lan_ok)
    if kind is not None:
        problems.append(AddressProblem(kind, base_url))
    if request_host:
        served = urlsplit(f"{request_scheme}://{request_host}")
        if (_netloc(parts.scheme, parts.hostname, port)
                != _netloc(served.scheme, served.hostname or "", served.port)):
            problems.append(AddressProblem(MISMATCH, base_url,
                                           served=f"{request_scheme}://{request_host}"))
    return problems


class ServeAddressError(ValueError):
    """The public base URL names no address the development server can listen on."""


def listen_address(base_url: str) -> tuple[str, int]:
    """Where the development server listens so that ``base_url`` reaches it: the URL's own
    address and port when it is an IP address (``localhost``: 127.0.0.1), every interface
    for a host name (it resolves to this computer, or to a proxy in front of it).

    >>> listen_address("http://127.0.0.1:5000")
    ('127.0.0.1', 5000)
    >>> listen_address("http://192.168.1.20:8000/")
    ('192.168.1.20', 8000)
    >>> listen_address("http://survey.example.gov.cn")
    ('0.0.0.0', 80)
    """
    parts = urlsplit(base_url.strip())
    if parts.scheme != "http" or not parts.hostname:
        raise ServeAddressError(
            f"{base_url!r}: the development server speaks plain http:// only; behind an "
            "https proxy pass --bind and --port for the address the proxy forwards to")
    host = parts.hostname
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        host = "127.0.0.1" if host.lower() == "localhost" else "0.0.0.0"  # noqa: S104
    return host, parts.port or 80
