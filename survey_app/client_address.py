"""The key under which a client's requests are counted by the rate limits.

An IPv4 address is one client. An IPv6 address is not: a home or mobile connection is
handed a whole /64 network (2**64 addresses its devices choose freely), so keyed on the
full address every limit (failed link and identification guesses, logins, unverified
open-link answers) was endless for anyone with IPv6 (attack3 finding). IPv6 clients are
counted by their /64; an IPv4-mapped IPv6 address (``::ffff:198.51.100.7``) is its IPv4.
"""

from __future__ import annotations

import ipaddress

from flask_limiter.util import get_remote_address

#: The prefix length an IPv6 client is counted by (one subscriber's network).
IPV6_CLIENT_PREFIX = 64


def client_key(address: str | None = None) -> str:
    """``address`` (default: this request's, as the trusted proxies reported it) as the key
    of its client: the address for IPv4, the /64 network for IPv6.

    >>> client_key("198.51.100.7"), client_key("2001:db8:1:2:aaaa::1")
    ('198.51.100.7', '2001:db8:1:2::/64')
    >>> client_key("::ffff:198.51.100.7"), client_key("not an address")
    ('198.51.100.7', 'not an address')
    """
    raw = get_remote_address() if address is None else address
    try:
        parsed = ipaddress.ip_address((raw or "").split("%", 1)[0])
    except ValueError:
        return raw or ""
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)
