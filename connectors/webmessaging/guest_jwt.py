"""Authenticated mode: the site's JWT for its signed-in visitor, checked against the deployment.

HS256 with the deployment's secret or RS256 with its public key — the algorithm is the
deployment's, never the token header's. `sub` is required, `exp` at most 24 h after `iat`, `iss`
and `aud` checked when the deployment sets them (docs/channels/web.md "Authenticated mode").
"""
from __future__ import annotations

import jwt

from .protocol import GuestError

MAX_LIFETIME_S = 24 * 3600
LEEWAY_S = 30   # clock skew between the site and us


def claims_of(auth: dict, token: str, now: float) -> dict:
    """The token's claims when it is valid for this deployment; GuestError invalid_jwt otherwise."""
    if not auth.get("enabled"):
        raise GuestError("invalid_jwt", "this deployment is not in authenticated mode")
    algorithm = auth.get("algorithm", "HS256")
    key = auth.get("secret") if algorithm == "HS256" else auth.get("public_key")
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], audience=auth.get("audience"),
                            issuer=auth.get("issuer"),
                            # Times against our clock below (tests control it); the rest by PyJWT.
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "verify_aud": bool(auth.get("audience")), "verify_iss": bool(auth.get("issuer")),
                                     "require": ["exp", "iat", "sub"]})
    except jwt.InvalidTokenError as exc:
        raise GuestError("invalid_jwt", f"the JWT was refused: {exc}") from None
    _check_times(claims, now)
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise GuestError("invalid_jwt", "the JWT needs a `sub` (the visitor's id on the site)")
    return claims


def _check_times(claims: dict, now: float) -> None:
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)):
        raise GuestError("invalid_jwt", "`exp` and `iat` must be epoch seconds")
    if exp - iat > MAX_LIFETIME_S:
        raise GuestError("invalid_jwt", "the JWT lives longer than 24 h: sign it with exp ≤ iat + 24 h")
    if exp + LEEWAY_S < now:
        raise GuestError("invalid_jwt", "the JWT has expired: the site must sign a new one")
    if iat - LEEWAY_S > now or claims.get("nbf", now) - LEEWAY_S > now:
        raise GuestError("invalid_jwt", "the JWT is not valid yet (check the site's clock)")


def identity_of(claims: dict) -> dict:
    """What the session keeps of the visitor the site vouched for."""
    return {"auth_sub": claims["sub"], "display_name": _text(claims.get("name")), "email": _text(claims.get("email"))}


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
