"""Every fictional site of the fake web by key (:data:`PROFILES`: what a row's ``site`` names) and the
words of the 404 page by language (:data:`NOT_FOUND_UI`, for the ``soft-404-*`` behaviours, which
serve one language's 404 page whatever the site). The sites themselves are defined in
``sites_en``, ``sites_sr`` and ``sites_zh``.
"""

from __future__ import annotations

from .profile import UI_EN, Profile
from .sites_en import MINISTRY, VENDOR
from .sites_sr import SR_CYRL, SR_LATN
from .sites_zh import ZH

__all__ = ["MINISTRY", "NOT_FOUND_UI", "PROFILES", "SR_CYRL", "SR_LATN", "VENDOR", "ZH"]


PROFILES: dict[str, Profile] = {p.key: p for p in (VENDOR, MINISTRY, SR_CYRL, SR_LATN, ZH)}

NOT_FOUND_UI = {"en": UI_EN, "sr-cyrl": SR_CYRL.ui, "sr-latn": SR_LATN.ui, "zh": ZH.ui}
