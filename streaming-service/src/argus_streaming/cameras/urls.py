"""Camera stream URLs with credentials (``argus_common.media.with_userinfo``). The result is
a secret: never log it."""

from __future__ import annotations

from argus_common.media import with_userinfo

__all__ = ["with_userinfo"]
