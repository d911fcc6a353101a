"""HTTP Digest authentication (RFC 7616, MD5, qop=auth), the scheme ODK Collect offers on plain HTTP.

Nonces are stateless: a timestamp and an HMAC of it under the server's secret, so any server process can
check one without a nonce table. An expired nonce is answered with ``stale=true`` and the device simply
retries with a fresh one. Without a table, a captured request can be replayed while its nonce lives; the
window is short, and HTTPS (with Basic or Digest) removes it.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from amanat.core.crypto import constant_time_equal, hmac_sign

REALM = "Amanat"  # part of every stored HA1: changing it invalidates every device login
NONCE_SECONDS = 900
_CLOCK_SKEW = 60
_PARAM = re.compile(r'([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_NONCE = re.compile(r"^([0-9a-f]{1,16})\.([0-9a-f]{32})$")


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def ha1(username: str, password: str, realm: str = REALM) -> str:
    """What the server keeps for Digest: MD5(username:realm:password)."""
    return md5_hex(f"{username}:{realm}:{password}")


def _nonce_mac(secret: str, stamp: str) -> str:
    return hmac_sign(secret, f"openrosa-digest-nonce:{REALM}:{stamp}")[:32]


def make_nonce(secret: str, now: float | None = None) -> str:
    stamp = format(int(time.time() if now is None else now), "x")
    return f"{stamp}.{_nonce_mac(secret, stamp)}"


class NonceState(Enum):
    VALID = "valid"
    STALE = "stale"  # ours, but too old: the client should retry with a fresh nonce (stale=true)
    INVALID = "invalid"


def check_nonce(secret: str, nonce: str, now: float | None = None) -> NonceState:
    m = _NONCE.match(nonce)
    if m is None or not constant_time_equal(_nonce_mac(secret, m.group(1)), m.group(2)):
        return NonceState.INVALID
    age = (time.time() if now is None else now) - int(m.group(1), 16)
    if age < -_CLOCK_SKEW:
        return NonceState.INVALID
    return NonceState.STALE if age > NONCE_SECONDS else NonceState.VALID


def challenge(secret: str, *, stale: bool = False) -> str:
    """The WWW-Authenticate value that asks for Digest credentials."""
    value = f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{make_nonce(secret)}"'
    return value + ", stale=true" if stale else value


def basic_challenge() -> str:
    return f'Basic realm="{REALM}", charset="UTF-8"'


@dataclass(frozen=True)
class DigestCredentials:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str
    nc: str
    cnonce: str
    algorithm: str


def parse_authorization(header: str) -> DigestCredentials | None:
    """The parameters of a ``Digest …`` Authorization header; None when it is not one we can check."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest" or len(rest) > 4096:
        return None
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    required = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
    if any(not params.get(k) for k in required):
        return None  # qop=auth is required: the RFC 2069 form without nc/cnonce is not accepted
    return DigestCredentials(params["username"], params["realm"], params["nonce"], params["uri"],
                             params["response"].lower(), params["qop"], params["nc"], params["cnonce"],
                             params.get("algorithm", "MD5"))


def uri_matches(digest_uri: str, path: str, query: str) -> bool:
    """The ``uri`` the client signed must be the resource it asked for (absolute or path form)."""
    parts = urlsplit(digest_uri)
    return parts.path == path and parts.query == query


def expected_response(stored_ha1: str, method: str, creds: DigestCredentials) -> str:
    ha2 = md5_hex(f"{method}:{creds.uri}")
    return md5_hex(f"{stored_ha1}:{creds.nonce}:{creds.nc}:{creds.cnonce}:{creds.qop}:{ha2}")


def response_matches(stored_ha1: str, method: str, creds: DigestCredentials) -> bool:
    if creds.qop != "auth" or creds.algorithm.upper() != "MD5" or creds.realm != REALM:
        return False
    return constant_time_equal(expected_response(stored_ha1, method, creds), creds.response)
