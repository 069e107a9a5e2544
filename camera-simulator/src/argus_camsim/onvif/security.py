"""WS-Security UsernameToken checks (ONVIF's mandatory authentication scheme).

PasswordDigest = Base64(SHA1(nonce + created + password)), where ``created`` must lie
within ``skew_window_s`` of the device clock and a nonce may be used only once while it
is inside that window. PasswordText is accepted too, as most cameras do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from argus_camsim.onvif.soap import NS_WSU, child, child_text, not_authorized

log = logging.getLogger(__name__)

# Suffixes of the wsse:Password Type attribute, not passwords.
_PASSWORD_TEXT = "#PasswordText"  # noqa: S105
_PASSWORD_DIGEST = "#PasswordDigest"  # noqa: S105
# Enough for a few hundred requests per second inside a 5-minute window; older nonces
# are dropped first, which only weakens replay protection under a flood.
_MAX_NONCES = 100_000


@dataclass
class OnvifAuth:
    """Credentials of one virtual camera.

    ``required=False`` accepts requests without credentials (wrong credentials are still
    refused). ``skew_window_s`` bounds the difference between a token's Created time and
    the device clock.
    """

    username: str
    password: str = field(repr=False)
    required: bool = True
    skew_window_s: float = 300.0


def _parse_created(raw: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        # WS-Security says Created is UTC; some clients omit the Z.
        moment = moment.replace(tzinfo=UTC)
    return moment


class UsernameTokenVerifier:
    """Checks the UsernameToken of a request header against one ``OnvifAuth``."""

    def __init__(self, auth: OnvifAuth, clock: Callable[[], datetime]) -> None:
        self._auth = auth
        self._clock = clock
        self._seen_nonces: OrderedDict[str, float] = OrderedDict()

    @staticmethod
    def has_token(header: Element | None) -> bool:
        """Whether the SOAP header carries a UsernameToken at all."""
        security = child(header, "Security")
        return child(security, "UsernameToken") is not None

    def verify(self, header: Element | None) -> None:
        """Raise ``ter:NotAuthorized`` unless the header carries a valid token."""
        security = child(header, "Security")
        token = child(security, "UsernameToken")
        if token is None:
            log.info("onvif auth refused: no UsernameToken")
            raise not_authorized()
        username = child_text(token, "Username") or ""
        password_el = child(token, "Password")
        if password_el is None:
            log.info("onvif auth refused: no Password in UsernameToken")
            raise not_authorized()
        supplied = (password_el.text or "").strip()
        pw_type = password_el.get("Type", "")
        if pw_type.endswith(_PASSWORD_DIGEST):
            ok = self._check_digest(token, supplied)
        elif pw_type == "" or pw_type.endswith(_PASSWORD_TEXT):
            ok = hmac.compare_digest(supplied.encode(), self._auth.password.encode())
        else:
            log.info("onvif auth refused: unknown password type")
            ok = False
        user_ok = hmac.compare_digest(username.encode(), self._auth.username.encode())
        if not (ok and user_ok):
            log.info("onvif auth refused for user %r", username)
            raise not_authorized()

    def _check_digest(self, token: Element, supplied: str) -> bool:
        nonce_b64 = child_text(token, "Nonce")
        created_raw = _created_text(token)
        if not nonce_b64 or not created_raw:
            log.info("onvif auth refused: digest without Nonce or Created")
            return False
        try:
            nonce = base64.b64decode(nonce_b64, validate=True)
        except (binascii.Error, ValueError):
            log.info("onvif auth refused: Nonce is not base64")
            return False
        created = _parse_created(created_raw)
        if created is None:
            log.info("onvif auth refused: unparsable Created")
            return False
        skew = abs((self._clock() - created).total_seconds())
        if skew > self._auth.skew_window_s:
            log.info(
                "onvif auth refused: Created is %.0f s away from the device clock (window %.0f s)",
                skew,
                self._auth.skew_window_s,
            )
            return False
        # SHA-1 is what the UsernameToken profile prescribes; it is not our choice.
        digest = hashlib.sha1(
            nonce + created_raw.encode() + self._auth.password.encode(),
            usedforsecurity=False,
        ).digest()
        expected = base64.b64encode(digest).decode("ascii")
        if not hmac.compare_digest(expected.encode(), supplied.encode()):
            return False
        return self._remember_nonce(nonce_b64)

    def _remember_nonce(self, nonce_b64: str) -> bool:
        now = time.monotonic()
        horizon = now - 2 * self._auth.skew_window_s
        while self._seen_nonces:
            oldest, seen_at = next(iter(self._seen_nonces.items()))
            if seen_at >= horizon and len(self._seen_nonces) < _MAX_NONCES:
                break
            del self._seen_nonces[oldest]
        if nonce_b64 in self._seen_nonces:
            log.info("onvif auth refused: replayed nonce")
            return False
        self._seen_nonces[nonce_b64] = now
        return True


def _created_text(token: Element) -> str | None:
    # Created lives in the wsu namespace; fall back to any namespace for lax clients.
    element = token.find(f"{{{NS_WSU}}}Created")
    if element is None:
        element = child(token, "Created")
    if element is None or element.text is None:
        return None
    return element.text.strip()
