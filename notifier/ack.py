"""Acknowledgement ids and signed ack links: pure functions, no I/O, no clock.

An alert that can be acknowledged (severity at or above ``ack.min_severity``, and
every deadline reminder) carries a **short id**: the first 8 hex digits of the
SHA-256 of its alert key (:func:`short_id`). ``notifier ack ID`` takes it, or any
unique prefix of it.

An **ack link** is ``http://HOST:PORT/ack/<id>?exp=<unix>&sig=<hex>``: ``sig`` is the
HMAC-SHA256, keyed by ``NOTIFIER_SECRET``, of ``"ack:<id>:<exp>"`` (:func:`sign`).
It is valid until ``exp`` (:data:`LINK_TTL` after the message was composed) and only
for that id. :func:`verify` checks it in constant time and says why it is refused,
never echoing the secret or the expected signature.

A GET that changes state is acceptable here because the link is signed (only the
holder of a message can forge nothing else with it), single-purpose (it can only
acknowledge that one alert) and idempotent (a second visit, or a link preview
fetching it, acknowledges nothing new).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import quote

#: How long an ack link stays valid after its message was composed.
LINK_TTL = timedelta(days=7)
#: The length of a short id (hex digits).
ID_LENGTH = 8

_ID = re.compile(r"[0-9a-f]{1,64}")
_SIG = re.compile(r"[0-9a-f]{64}")

Refusal = Literal["malformed", "expired", "bad signature"]


def short_id(alert_key: str) -> str:
    """The short id of an alert: 8 hex digits of the SHA-256 of its key."""
    return hashlib.sha256(alert_key.encode()).hexdigest()[:ID_LENGTH]


def sign(ack_id: str, exp: int, secret: str) -> str:
    """The hex HMAC-SHA256 of ``ack:<id>:<exp>`` keyed by ``secret``."""
    message = f"ack:{ack_id}:{exp}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def link(base: str, ack_id: str, secret: str, now: datetime, ttl: timedelta = LINK_TTL) -> str:
    """The signed ack link under ``base`` (``http://host:port``), valid until ``now + ttl``."""
    exp = int((now + ttl).timestamp())
    return f"{base.rstrip('/')}/ack/{quote(ack_id)}?exp={exp}&sig={sign(ack_id, exp, secret)}"


def verify(
    ack_id: str, exp: str | None, sig: str | None, secret: str, now: datetime
) -> Refusal | None:
    """None when the link ``(ack_id, exp, sig)`` is valid at ``now``, else why not."""
    if not _ID.fullmatch(ack_id) or not exp or not exp.isdigit() or not sig:
        return "malformed"
    if not _SIG.fullmatch(sig):
        return "bad signature"
    if not hmac.compare_digest(sign(ack_id, int(exp), secret), sig):
        return "bad signature"
    if int(exp) < now.timestamp():
        return "expired"
    return None
