"""Values derived at ingest when a document leaves them out: user id, alias, device class, referer domain.

Every derivation is a pure function of its inputs (no clock, no randomness, no process-seeded `hash()`),
so the same document gives the same row in any process, batch or order.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import urlsplit

# Faker-style names for `user.alias`. Any edit (even an append) changes existing users' aliases: keep them frozen.
FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah", "Abel", "Adela", "Adrian", "Agnes", "Alba", "Alden", "Alec", "Alma", "Alvin",
    "Amara", "Ansel", "Aria", "Arlo", "Astrid", "Aubrey", "Axel", "Beatrice", "Bennett", "Bianca",
    "Brady", "Brielle", "Caleb", "Camila", "Carmen", "Cedric", "Celia", "Clara", "Colton", "Cora",
    "Dahlia", "Damon", "Delia", "Desmond", "Edith", "Elias", "Elise", "Emmett", "Esme", "Ezra",
    "Faye", "Felix", "Fiona", "Flynn", "Gemma", "Gideon", "Greta", "Harlan", "Hazel", "Hugo",
    "Ida", "Ines", "Isaias", "Ivy", "Jasper", "Jonah", "Josie", "Jude", "Juno", "Kai",
    "Keira", "Lana", "Leon", "Lila", "Linus", "Lorenzo", "Lucia", "Mabel", "Malik", "Margot",
    "Milo", "Mira", "Nadia", "Nico", "Nora", "Odette", "Omar", "Opal", "Orson", "Paloma",
    "Pearl", "Quinn", "Rafael", "Reya", "Rhett", "Rosa", "Rowan", "Selah", "Silas", "Soren",
    "Talia", "Tobias", "Uma", "Vera", "Vince", "Wade", "Willa", "Xavier", "Yara", "Zane",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Abbott", "Altenwerth", "Ankunding", "Armstrong", "Bahringer", "Balistreri", "Bartoletti", "Bechtelar",
    "Bergnaum", "Blick", "Bogisich", "Botsford", "Brekke", "Carroll", "Cassin", "Champlin",
    "Christiansen", "Collier", "Conroy", "Corkery", "Cremin", "Cronin", "Daugherty", "DuBuque",
    "Durgan", "Ebert", "Emmerich", "Ernser", "Feest", "Fadel", "Frami", "Friesen",
    "Gerhold", "Gleichner", "Goodwin", "Greenholt", "Gutkowski", "Hagenes", "Hammes", "Hartmann",
    "Heathcote", "Hegmann", "Hermiston", "Hilpert", "Hodkiewicz", "Homenick", "Howell", "Jaskolski",
    "Jerde", "Johnston", "Kassulke", "Keebler", "Kertzmann", "Kihn", "Koelpin", "Konopelski",
    "Kub", "Kuhlman", "Langosh", "Larkin", "Lebsack", "Leffler", "Lindgren", "Lueilwitz",
    "Macejkovic", "Marquardt", "McCullough", "Medhurst", "Mertz", "Monahan", "Mosciski", "Nicolas",
    "Nienow", "Nitzsche", "Okuneva", "Ondricka", "Pagac", "Parisian", "Pfannerstill", "Prohaska",
    "Quigley", "Reichert", "Rempel", "Rodriguez", "Rolfson", "Runolfsdottir", "Schamberger", "Schimmel",
    "Schowalter", "Shanahan", "Spinka", "Stracke", "Swaniawski", "Terry", "Tillman", "Torphy",
    "Upton", "Vandervort", "Wehner", "Wintheiser",
)  # fmt: skip


@lru_cache(maxsize=65_536)
def derive_user_id(app_id: str, tag: str, value: str) -> str:
    """A stable 24-hex-char `uxcamuserid` for an identity (`tag` "identity") or a device id (`tag` "device")."""
    return hashlib.sha1(f"{app_id}\x00{tag}\x00{value}".encode()).hexdigest()[:24]


@lru_cache(maxsize=65_536)
def derive_alias(uxcamuserid: str) -> str:
    """A stable, human-looking name for a user id, e.g. "Isaias Altenwerth" (not the user's real name)."""
    h = int.from_bytes(hashlib.sha1(uxcamuserid.encode()).digest()[:8], "big")
    return f"{FIRST_NAMES[h % len(FIRST_NAMES)]} {LAST_NAMES[(h // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


_WEB_CLASSES = {
    "desktop": "Web Desktop",
    "laptop": "Web Desktop",
    "pc": "Web Desktop",
    "tablet": "Web Tablet",
    "phone": "Web Phone",
    "mobile": "Web Phone",
    "smartphone": "Web Phone",
}


def derive_device_class(
    platform: str | None,
    width: int | None,
    height: int | None,
    device_type: str | None,
    model: str | None,
    is_web: bool,
) -> str | None:
    """The device class from platform and screen size in pixels, when the document does not give one.

    - Web sessions (a `web` object was sent): from the device type (`web.deviceType`, else `device.type`):
      desktop/laptop/pc → "Web Desktop", tablet → "Web Tablet", phone/mobile/smartphone → "Web Phone".
    - Android: type "Tablet" or short side ≥ 1536 → "Android Tablet"; otherwise by the short side
      (min of width and height): < 720 "Android Small", < 1080 "Android Medium", < 1440 "Android Large",
      else "Android XLarge".
    - iOS: type "Tablet" or a model containing "iPad" → "iPad"; otherwise short side < 750 "iPhone Small",
      < 1125 "iPhone Medium", else "iPhone Large".
    - Anything else (unknown platform, or a size needed but width/height missing or ≤ 0) → None.
    """
    if is_web:
        return _WEB_CLASSES.get(device_type.strip().lower()) if device_type else None
    tablet = device_type is not None and device_type.strip().lower() == "tablet"
    short = min(width, height) if width and height and width > 0 and height > 0 else None
    if platform == "android":
        if tablet or (short is not None and short >= 1536):
            return "Android Tablet"
        if short is None:
            return None
        if short < 720:
            return "Android Small"
        if short < 1080:
            return "Android Medium"
        if short < 1440:
            return "Android Large"
        return "Android XLarge"
    if platform == "ios":
        if tablet or (model is not None and "ipad" in model.lower()):
            return "iPad"
        if short is None:
            return None
        if short < 750:
            return "iPhone Small"
        if short < 1125:
            return "iPhone Medium"
        return "iPhone Large"
    return None


@lru_cache(maxsize=16_384)
def referer_domain(url: str) -> str | None:
    """The host of a referer URL, lowercase and without a leading "www."; None when it is not a URL."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    return host[4:] if host.startswith("www.") else host
