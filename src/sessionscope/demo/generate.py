"""Deterministic generator of realistic demo sessions.

``generate_sessions(n, days=..., seed=..., now=...)`` yields ``n`` session
documents (plain dicts, JSON-serialisable) shaped like UXCam session exports.
Everything is derived from ``random.Random`` instances seeded from ``seed``;
the clock is never read, so the same arguments always give byte-identical
documents.

Design notes
------------
* A population of ``max(1, n // 8)`` users.  User ``j`` is built on demand from
  its own ``Random(user_base + j)`` so its attributes depend only on
  ``(seed, j)``; the heaviest users are cached, the long tail is rebuilt when it
  reappears.  Memory therefore stays bounded whatever ``n`` is.
* Users are picked with a truncated power law over their rank: a handful of
  heavy users, most users with one to three sessions.
* Session/user/device ids come from bijective 96/64-bit mixers applied to the
  session counter / user index, so ids never repeat within one call.
* Screens are a Markov walk over abstract shop screens (home, search,
  category, product, cart, checkout, payment, confirmation, ...), named per
  platform; events are derived from the walk so they are always consistent
  with it (e.g. "Purchase" only after "Add to cart" on an order confirmation).
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Iterator
from operator import itemgetter

from . import catalogues as C

__all__ = ["generate_sessions"]

# ---------------------------------------------------------------------------
# Precomputed tables (built once at import)
# ---------------------------------------------------------------------------


def _expand(pairs) -> tuple:
    """Weighted pairs ``((value, int_weight), ...)`` -> flat tuple for O(1) sampling."""
    out: list = []
    for value, weight in pairs:
        out.extend([value] * int(weight))
    return tuple(out)


_M64 = (1 << 64) - 1
_M96 = (1 << 96) - 1
_C96A = 0x9E3779B97F4A7C15F39CC061
_C96B = 0xBF58476D1CE4E5B94D049BB3
_C64A = 0xBF58476D1CE4E5B9
_C64B = 0x94D049BB133111EB


def _mix96(x: int, k1: int, k2: int) -> int:
    """Bijection on 96-bit integers (distinct inputs -> distinct outputs)."""
    x = ((x + k1) * _C96A) & _M96
    x ^= x >> 47
    x = (x * _C96B) & _M96
    x ^= x >> 43
    return x ^ k2


def _mix64(x: int, k1: int, k2: int) -> int:
    x = ((x + k1) * _C64A) & _M64
    x ^= x >> 31
    x = (x * _C64B) & _M64
    x ^= x >> 29
    return x ^ k2


# -- screens / flows --------------------------------------------------------
_N_STATES = 15
_TRANS = tuple(_expand(C.TRANSITIONS[s]) for s in range(_N_STATES))
_TRANS_PRODUCT_ADDED = _expand(C.PRODUCT_AFTER_ADD)
_TRANS_CART_EMPTY = _expand(C.CART_EMPTY)
_MOBILE_ENTRY = _expand(C.MOBILE_ENTRY)
_WEB_ENTRY = _expand(C.WEB_ENTRY)
_CRASH_SCREENS = frozenset(s for s, _ in C.CRASH_SCREENS)
_CRASH_WEIGHT = {s: w for s, w in C.CRASH_SCREENS}

# -- commerce ---------------------------------------------------------------
_CATEGORY_SLUGS = tuple(c[0] for c in C.CATEGORIES)
_CATEGORY_PICK = _expand((i, c[3]) for i, c in enumerate(C.CATEGORIES))
_CATEGORY_QUERIES = tuple(c[2] for c in C.CATEGORIES)
_CATEGORY_PATHS = tuple(C.SCREEN_NAMES_WEB[C.CATEGORY].format(slug) for slug in _CATEGORY_SLUGS)


def _build_products():
    # a fixed shop, identical for every seed
    r = random.Random(0x5E55_10_5C)
    products = []  # (product_id, category slug, price, web path, category index)
    by_cat: list[list[int]] = [[] for _ in C.CATEGORIES]
    endings = (0.99, 0.99, 0.99, 0.49, 0.95, 0.0)
    for p in range(C.PRODUCT_COUNT):
        ci = _CATEGORY_PICK[int(r.random() * len(_CATEGORY_PICK))]
        lo, hi = C.CATEGORIES[ci][1]
        base = math.exp(r.uniform(math.log(lo), math.log(hi)))
        price = round(max(1, int(base)) + endings[int(r.random() * len(endings))], 2)
        num = 1000 + p * 7 + int(r.random() * 7)
        products.append(
            (f"P{num}", _CATEGORY_SLUGS[ci], price, C.SCREEN_NAMES_WEB[C.PRODUCT].format(num), ci)
        )
        by_cat[ci].append(p)
    return tuple(products), tuple(tuple(x) for x in by_cat)


_PRODUCTS, _PRODUCTS_BY_CAT = _build_products()
_N_PRODUCTS = len(_PRODUCTS)

_SHARE = _expand(C.SHARE_CHANNELS)
_PAY = (_expand(C.PAYMENT_METHODS_ANDROID), _expand(C.PAYMENT_METHODS_IOS), _expand(C.PAYMENT_METHODS_WEB))
_LOGIN = (_expand(C.LOGIN_METHODS_ANDROID), _expand(C.LOGIN_METHODS_IOS), _expand(C.LOGIN_METHODS_WEB))
_NAMES_BY_KIND = (C.SCREEN_NAMES_ANDROID, C.SCREEN_NAMES_IOS, C.SCREEN_NAMES_WEB)

# -- web traffic --------------------------------------------------------------
_WEB_SOURCES = _expand((i, s[2]) for i, s in enumerate(C.WEB_SOURCES))
_UTM_CAMPAIGNS = _expand(C.UTM_CAMPAIGNS)

# -- geography ------------------------------------------------------------------
_COUNTRY_PICK = _expand((i, c[2]) for i, c in enumerate(C.COUNTRIES))
_COUNTRY_LANG = tuple(_expand(c[4]) for c in C.COUNTRIES)
_COUNTRY_CITY = tuple(_expand((ci, city[4]) for ci, city in enumerate(c[5])) for c in C.COUNTRIES)
_COUNTRY_CARRIER = tuple(_expand((k, car[2]) for k, car in enumerate(c[6])) for c in C.COUNTRIES)

# -- devices ----------------------------------------------------------------------
_ANDROID_PICK = _expand((i, m[10]) for i, m in enumerate(C.ANDROID_MODELS))
_ANDROID_OS = tuple(_expand(m[9]) for m in C.ANDROID_MODELS)
_IOS_PICK = _expand((i, m[9]) for i, m in enumerate(C.IOS_MODELS))
_IOS_OS = tuple(_expand(m[8]) for m in C.IOS_MODELS)
_WEB_PICK = _expand((i, w[8]) for i, w in enumerate(C.WEB_PLATFORMS))
_WEB_BROWSER = tuple(_expand((b, b[2]) for b in w[6]) for w in C.WEB_PLATFORMS)
_WEB_RES = tuple(_expand((r, r[3]) for r in w[7]) for w in C.WEB_PLATFORMS)

_APP_VERSIONS = tuple(v for v, _ in C.APP_VERSIONS)
_APP_VERSION_PICK = _expand((i, w) for i, (_, w) in enumerate(C.APP_VERSIONS))
_LATEST_VERSION = len(_APP_VERSIONS) - 1
_SDK_BY_KIND = (C.SDK_VERSIONS["android"], C.SDK_VERSIONS["ios"], C.SDK_VERSIONS["web"])

_NET_PHONE = _expand(C.NETWORK_TYPES_PHONE)
_NET_WIFI = _expand(C.NETWORK_TYPES_WIFI_ONLY)
_NET_DESKTOP = _expand(C.NETWORK_TYPES_DESKTOP)

# -- custom properties ---------------------------------------------------------------
_GENDERS = _expand(C.GENDERS)
_AGE_GROUPS = _expand(C.AGE_GROUPS)
_ACQN = _expand(C.ACQN_SOURCES)
_EXP = _expand(C.EXP_VARIANTS)
_PLANS = _expand(C.PLANS)
_MISS = C.MISSING_PROB

# -- time rhythm ------------------------------------------------------------------------
# index = local hour-of-week with Monday 00:00 = 0; weights normalised to max 1
_ACT_RAW = [C.HOURLY_ACTIVITY[h % 24] * C.WEEKDAY_ACTIVITY[h // 24] for h in range(168)]
_ACT = tuple(a / max(_ACT_RAW) for a in _ACT_RAW)
_GROWTH = 0.6  # the last day of the window is ~60% busier than the first

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

# kinds of platform
_ANDROID, _IOS, _WEB = 0, 1, 2

# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------

# indices into the per-user record tuple
#   0 user_tpl, 1 device_tpl, 2 location_tpl, 3 web_tpl (or None), 4 kind,
#   5 tz offset seconds, 6 base app version index, 7 upgrade point (fraction of window),
#   8 total RAM in KB if the SDK reports free RAM else 0, 9 network-type table,
#   10 spend factor by plan (float, scales the add-to-cart rate)


class _Population:
    """Builds user records on demand; deterministic in (seed, user index)."""

    CACHE_RANKS = 6144

    __slots__ = (
        "n_users",
        "base",
        "uid_k1",
        "uid_k2",
        "dev_k1",
        "dev_k2",
        "ident_a",
        "ident_b",
        "ident_mod",
        "slot_off",
        "cache",
    )

    def __init__(self, n_users: int, rng: random.Random) -> None:
        self.n_users = n_users
        self.base = rng.getrandbits(64)
        self.uid_k1 = rng.getrandbits(96)
        self.uid_k2 = rng.getrandbits(96)
        self.dev_k1 = rng.getrandbits(64)
        self.dev_k2 = rng.getrandbits(64)
        mod = 10_000
        while mod < n_users * 10:
            mod *= 10
        a = rng.randrange(1, mod)
        while a % 2 == 0 or a % 5 == 0:  # coprime with 10**k -> j -> a*j+b is a bijection
            a += 1
        self.ident_a = a
        self.ident_b = rng.randrange(mod)
        self.ident_mod = mod
        self.slot_off = rng.randrange(20)
        self.cache: dict[int, tuple] = {}

    def get(self, j: int) -> tuple:
        rec = self.cache.get(j)
        if rec is None:
            rec = self._build(j)
            if j < self.CACHE_RANKS:
                self.cache[j] = rec
        return rec

    def _build(self, j: int) -> tuple:
        r = random.Random(self.base + j)
        rnd = r.random

        def pick(table):
            return table[int(rnd() * len(table))]

        # platform mix is stratified over blocks of 20 consecutive ranks: 12 android, 7 ios, 1 web
        slot = ((j % 20) * 7 + (j // 20) * 3 + self.slot_off) % 20
        kind = _ANDROID if slot < 12 else (_IOS if slot < 19 else _WEB)

        # -- location
        ci = pick(_COUNTRY_PICK)
        country = C.COUNTRIES[ci]
        city = country[5][pick(_COUNTRY_CITY[ci])]
        language = pick(_COUNTRY_LANG[ci])
        location = {
            "countryCode": country[0],
            "city": city[0],
            "longitude": round(city[2] + (rnd() - 0.5) * 0.08, 4),
            "latitude": round(city[1] + (rnd() - 0.5) * 0.06, 4),
        }
        tz_off = int(city[3] * 3600)

        # -- identity
        uxcamuserid = f"{_mix96(j, self.uid_k1, self.uid_k2):024x}"
        firsts, lasts = C.NAMES[country[3]]
        alias = f"{pick(firsts)} {pick(lasts)}"
        user: dict = {"uxcamuserid": uxcamuserid}
        if rnd() >= 0.30:
            user["kUXCam_UserIdentity"] = f"U#{(self.ident_a * j + self.ident_b) % self.ident_mod}"
        user["alias"] = alias

        # -- custom properties (some users lack some keys)
        miss = _MISS
        plan = pick(_PLANS)
        if rnd() >= miss["gender"]:
            user["gender"] = pick(_GENDERS)
        if rnd() >= miss["age_group"]:
            user["age_group"] = pick(_AGE_GROUPS)
        if rnd() >= miss["language"]:
            user["language"] = language
        if rnd() >= miss["loyalty_card"]:
            user["loyalty_card"] = "yes" if rnd() < 0.3 else "no"
        if rnd() >= miss["acqn_source"]:
            user["acqn_source"] = pick(_ACQN)
        if rnd() >= miss["exp_var_key"]:
            user["exp_var_key"] = pick(_EXP)
        if rnd() >= miss["plan"]:
            user["plan"] = plan
        spend = {"free": 1.0, "pro": 2.2, "enterprise": 3.5}[plan]
        orders = int(rnd() ** 2.2 * 25 * spend)
        ltv = orders * r.uniform(14.0, 80.0)
        if plan == "pro":
            ltv += 9.99 * (1 + int(rnd() * 18))
        elif plan == "enterprise":
            ltv += 49.0 * (1 + int(rnd() * 12))
        if rnd() >= miss["lifetime_value"]:
            user["lifetime_value"] = round(ltv, 2)
        if rnd() >= miss["is_beta"]:
            user["is_beta"] = rnd() < 0.06
        if rnd() >= miss["orders"]:
            user["orders"] = orders

        # -- device
        device_id = f"{_mix64(j, self.dev_k1, self.dev_k2):016x}"
        free_ram_base = 0
        web = None
        if kind == _WEB:
            wi = pick(_WEB_PICK)
            wp = C.WEB_PLATFORMS[wi]
            os_name, os_versions, dtype, producer, model, dclass = wp[:6]
            os_version = os_versions[int(rnd() * len(os_versions))]
            browser = pick(_WEB_BROWSER[wi])
            bversions = browser[1]
            width, height, dpi, _ = pick(_WEB_RES[wi])
            device = {
                "osName": os_name,
                "appVersion": "",
                "sdkVersion": "",
                "osVersion": os_version,
                "language": language,
                "country": country[1],
                "totalStorageInKB": None,
                "totalRamInKB": None,
                "freeRamInKb": None,
                "dpi": dpi,
                "height": height,
                "width": width,
                "type": dtype,
                "class": dclass,
                "producer": producer,
                "model": model,
                "deviceId": device_id,
                "isNotificationEnabled": rnd() < 0.25,
            }
            web = {
                "browserName": browser[0],
                # mostly the current release, some lag behind
                "browserVersion": bversions[0] if rnd() < 0.55 else bversions[int(rnd() * len(bversions))],
                "osName": os_name,
                "deviceType": dtype,
            }
            net = _NET_DESKTOP if dtype == "Desktop" else (_NET_WIFI if dtype == "Tablet" else _NET_PHONE)
        else:
            if kind == _ANDROID:
                mi = pick(_ANDROID_PICK)
                producer, model, width, height, dpi, dclass, dtype, rams, storages, _, _ = C.ANDROID_MODELS[
                    mi
                ]
                os_name, platform = "Android", "android"
                os_version = pick(_ANDROID_OS[mi])
                rooted = rnd() < 0.02
            else:
                mi = pick(_IOS_PICK)
                model, width, height, dpi, dclass, dtype, rams, storages, _, _ = C.IOS_MODELS[mi]
                producer, os_name, platform = "Apple", "iOS", "ios"
                os_version = pick(_IOS_OS[mi])
                rooted = rnd() < 0.004
            ram_kb = int(rams[int(rnd() * len(rams))] * 1_000_000 * r.uniform(0.90, 0.96)) // 1000 * 1000
            storage_kb = (
                int(storages[int(rnd() * len(storages))] * 1_000_000 * r.uniform(0.86, 0.94)) // 1000 * 1000
            )
            has_carrier = dtype == "Phone" or rnd() < 0.4
            device = {}
            if has_carrier:
                carrier = country[6][pick(_COUNTRY_CARRIER[ci])]
                device["carrierCode"] = carrier[1]
                device["carrierName"] = carrier[0]
            device.update(
                {
                    "osName": os_name,
                    "appVersion": "",
                    "sdkVersion": "",
                    "osVersion": os_version,
                    "language": language,
                    "country": country[1],
                    "totalStorageInKB": storage_kb,
                    "totalRamInKB": ram_kb,
                    "freeRamInKb": None,
                    "dpi": dpi,
                    "height": height,
                    "width": width,
                    "type": dtype,
                    "class": dclass,
                    "producer": producer,
                    "model": model,
                    "deviceId": device_id,
                    "isNotificationEnabled": rnd() < 0.68,
                    "isRooted": rooted,
                    "platform": platform,
                }
            )
            if kind == _ANDROID and rnd() < 0.55:
                free_ram_base = ram_kb
            net = _NET_PHONE if has_carrier else _NET_WIFI

        # -- app version: a base version, maybe upgraded to the latest during the window
        base_ver = pick(_APP_VERSION_PICK)
        upgrade_at = 2.0
        if base_ver != _LATEST_VERSION and rnd() < 0.5:
            upgrade_at = rnd()

        return (user, device, location, web, kind, tz_off, base_ver, upgrade_at, free_ram_base, net, spend)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def generate_sessions(n: int, *, days: int = 30, seed: int = 42, now: datetime.datetime) -> Iterator[dict]:
    """Yield ``n`` session documents whose uploadedServerTime falls in [now - days, now].

    Deterministic for ``(n, days, seed, now)``: the same arguments yield
    byte-identical documents.  ``now`` must be timezone-aware; the clock is
    never read.  Memory use is bounded (documents are produced lazily).
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError("n must be >= 0")
    if not isinstance(now, datetime.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if not days > 0:
        raise ValueError("days must be > 0")
    return _generate(n, days, seed, now)


def _generate(n: int, days, seed: int, now: datetime.datetime) -> Iterator[dict]:
    rng = random.Random(seed)
    rnd = rng.random
    gauss = rng.gauss
    now_ts = (now - _EPOCH).total_seconds()
    hi = math.floor(now_ts)
    lo = math.ceil(now_ts - days * 86400)
    if hi < lo:  # sub-second window
        hi = lo
    span = hi - lo

    n_users = max(1, n // 8)
    pop = _Population(n_users, rng)
    sid_k1 = rng.getrandbits(96)
    sid_k2 = rng.getrandbits(96)

    # truncated power law over user rank: c(r) ~ (r + r0) ** -alpha
    alpha = 1.7
    r0 = max(8.0, n_users * 0.025)
    b = 1.0 - alpha
    inv_b = 1.0 / b
    pa = r0**b
    pd = (n_users + r0) ** b - pa
    last_user = n_users - 1

    # local caches of module tables
    act = _ACT
    growth = _GROWTH
    g_coef = growth * (2.0 + growth)
    exp = math.exp
    sqrt = math.sqrt
    products = _PRODUCTS
    n_products = _N_PRODUCTS
    by_cat = _PRODUCTS_BY_CAT
    cat_pick = _CATEGORY_PICK
    n_cat_pick = len(cat_pick)
    cat_queries = _CATEGORY_QUERIES
    cat_paths = _CATEGORY_PATHS
    trans = _TRANS
    t_added = _TRANS_PRODUCT_ADDED
    t_cart_empty = _TRANS_CART_EMPTY
    mobile_entry = _MOBILE_ENTRY
    web_entry = _WEB_ENTRY
    crash_screens = _CRASH_SCREENS
    crash_weight = _CRASH_WEIGHT
    app_versions = _APP_VERSIONS
    sdk_by_kind = _SDK_BY_KIND
    names_by_kind = _NAMES_BY_KIND
    pay_by_kind = _PAY
    login_by_kind = _LOGIN
    share = _SHARE
    web_sources = _WEB_SOURCES
    web_source_defs = C.WEB_SOURCES
    utm_campaigns = _UTM_CAMPAIGNS
    latest = _LATEST_VERSION
    by_time = itemgetter("timeSec")

    SPLASH, SEARCH, CATEGORY, PRODUCT = C.SPLASH, C.SEARCH, C.CATEGORY, C.PRODUCT
    CART, CHECKOUT, ORDER_CONF, LOGIN, NOTIFICATIONS = (
        C.CART,
        C.CHECKOUT,
        C.ORDER_CONFIRMATION,
        C.LOGIN,
        C.NOTIFICATIONS,
    )

    day_prefix: dict[int, str] = {}

    def fmt(ts: int) -> str:
        day, rem = divmod(ts, 86400)
        prefix = day_prefix.get(day)
        if prefix is None:
            prefix = (_EPOCH + datetime.timedelta(days=day)).strftime("%Y-%m-%dT")
            day_prefix[day] = prefix
        h, rem = divmod(rem, 3600)
        m, s = divmod(rem, 60)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}Z"

    for i in range(n):
        session_id = f"{_mix96(i, sid_k1, sid_k2):024x}"

        # -- who
        rank = int((pa + rnd() * pd) ** inv_b - r0)
        if rank > last_user:
            rank = last_user
        elif rank < 0:
            rank = 0
        (
            user_tpl,
            device_tpl,
            loc_tpl,
            web_tpl,
            kind,
            tz_off,
            base_ver,
            upgrade_at,
            free_ram_base,
            net_table,
            spend,
        ) = pop.get(rank)
        is_web = kind == 2
        add_prob = 0.08 + 0.03 * spend

        # -- how long, how late
        duration = exp(4.3 + 1.0 * gauss(0.0, 1.0))  # median ~74 s
        if duration < 3.0:
            duration = 3.0 + rnd() * 4.0
        elif duration > 3600.0:
            duration = 3600.0 - rnd() * 300.0
        offline = rnd() < 0.05 and not is_web
        if offline:
            delay = int(exp(8.5 + 1.0 * gauss(0.0, 1.0)))  # median ~80 min, often hours
            if delay < 120:
                delay = 120 + int(rnd() * 600)
        else:
            delay = int(rnd() * rnd() * 60.0)
        need = int(duration) + 1 + delay
        if need > span // 2:  # tiny windows: squeeze delay then duration
            delay = min(delay, span // 4)
            if int(duration) + 1 + delay > span // 2:
                duration = max(0.0, min(duration, span / 4.0 - 1.0))
            need = int(duration) + 1 + delay
            if need > span:
                need = span
                delay = 0
                duration = max(0.0, span - 1.0)

        # -- when (growth over the window, daily / weekly rhythm in the user's local time)
        for _attempt in range(64):
            x = (sqrt(1.0 + rnd() * g_coef) - 1.0) / growth
            up = lo + int(x * span + 0.5)
            if up - need < lo:
                continue
            if rnd() < act[((up + tz_off) // 3600 + 72) % 168]:
                break
        else:
            up = hi if hi - need >= lo else lo + need
        if up > hi:
            up = hi
        up_s = fmt(up)

        # -- app version (upgrades happen during the window)
        ver = latest if (up - lo) >= upgrade_at * span else base_ver

        crashed = rnd() < 0.02 + 0.011 * (latest - ver)

        # -- screen flow
        dwell = exp(2.2 + 0.45 * gauss(0.0, 1.0))  # median ~9 s per screen
        steps = 1 + int(duration / dwell)
        if steps > 120:
            steps = 120
        if is_web:
            state = web_entry[int(rnd() * len(web_entry))]
        else:
            state = mobile_entry[int(rnd() * len(mobile_entry))]
        cat = cat_pick[int(rnd() * n_cat_pick)]
        web_q = None
        if is_web:
            src = web_source_defs[web_sources[int(rnd() * len(web_sources))]]
            if src[0] is not None and "{q}" in src[0]:
                qs = cat_queries[cat]
                web_q = qs[int(rnd() * len(qs))]

        states = []
        aux = []  # PRODUCT: product index * 2 + added flag; CATEGORY: category; SEARCH: category
        added = False
        for _step in range(steps):
            if state == PRODUCT:
                plist = by_cat[cat]
                p = plist[int(rnd() * len(plist))] if rnd() < 0.8 else int(rnd() * n_products)
                cat = products[p][4]
                just_added = rnd() < add_prob
                if just_added:
                    added = True
                    states.append(PRODUCT)
                    aux.append(p * 2 + 1)
                    table = t_added
                else:
                    states.append(PRODUCT)
                    aux.append(p * 2)
                    table = trans[PRODUCT]
            elif state == CATEGORY:
                if rnd() < 0.6:
                    cat = cat_pick[int(rnd() * n_cat_pick)]
                states.append(CATEGORY)
                aux.append(cat)
                table = trans[CATEGORY]
            elif state == CART:
                states.append(CART)
                aux.append(0)
                table = trans[CART] if added else t_cart_empty
            else:
                if state == SEARCH:
                    if rnd() < 0.5:
                        cat = cat_pick[int(rnd() * n_cat_pick)]
                    aux.append(cat)
                else:
                    if state == ORDER_CONF:
                        added = False
                    aux.append(0)
                states.append(state)
                table = trans[state]
            state = table[int(rnd() * len(table))]

        # -- crash: the session ends on a crash-prone screen (or wherever it was)
        n_visits = len(states)
        if crashed:
            cut = -1
            best = 0.0
            for vi in range(n_visits):
                st = states[vi]
                if st in crash_screens:
                    score = crash_weight[st] * rnd()
                    if score > best:
                        best = score
                        cut = vi
            if cut < 0:
                cut = int(rnd() * n_visits)
            if cut + 1 < n_visits:
                duration *= (cut + 1) / n_visits
                if duration < 3.0:
                    duration = 3.0 + rnd() * 2.0
                del states[cut + 1 :]
                del aux[cut + 1 :]
                n_visits = cut + 1
        duration = round(duration, 3)

        # -- screen names
        names = names_by_kind[kind]
        if is_web:
            screens = []
            for vi in range(n_visits):
                st = states[vi]
                if st == PRODUCT:
                    screens.append(products[aux[vi] >> 1][3])
                elif st == CATEGORY:
                    screens.append(cat_paths[aux[vi]])
                else:
                    screens.append(names[st])
        else:
            screens = [names[st] for st in states]

        # -- timing of visits and events
        weights = [0.25 + rnd() + rnd() * rnd() * 2.0 for _ in range(n_visits)]
        scale = duration / sum(weights)
        events = []
        t0 = 0.0
        cart_value = 0.0
        cart_items = 0
        checkout_done = False
        for vi in range(n_visits):
            st = states[vi]
            w = weights[vi] * scale
            if vi == 0 and not is_web and rnd() < 0.93:
                events.append(
                    {
                        "name": "App Open",
                        "screen": screens[0],
                        "timeSec": 0.0,
                        "properties": {
                            "launch_type": "cold"
                            if st == SPLASH
                            else ("push" if st == NOTIFICATIONS else "warm")
                        },
                    }
                )
            if st == PRODUCT:
                a = aux[vi]
                prod = products[a >> 1]
                if rnd() < 0.85:
                    events.append(
                        {
                            "name": "View Product",
                            "screen": screens[vi],
                            "timeSec": round(t0 + 0.15 * w, 3),
                            "properties": {"product_id": prod[0], "price": prod[2], "category": prod[1]},
                        }
                    )
                if a & 1:
                    qty = 1 if rnd() < 0.8 else 2 + int(rnd() * rnd() * 3)
                    cart_value += prod[2] * qty
                    cart_items += qty
                    events.append(
                        {
                            "name": "Add to cart",
                            "screen": screens[vi],
                            "timeSec": round(t0 + 0.7 * w, 3),
                            "properties": {
                                "product_id": prod[0],
                                "price": prod[2],
                                "quantity": qty,
                                "category": prod[1],
                            },
                        }
                    )
                if rnd() < 0.025:
                    events.append(
                        {
                            "name": "Share",
                            "screen": screens[vi],
                            "timeSec": round(t0 + 0.9 * w, 3),
                            "properties": {"channel": share[int(rnd() * len(share))], "product_id": prod[0]},
                        }
                    )
            elif st == SEARCH:
                qs = cat_queries[aux[vi]]
                events.append(
                    {
                        "name": "Search",
                        "screen": screens[vi],
                        "timeSec": round(t0 + 0.5 * w, 3),
                        "properties": {
                            "query": qs[int(rnd() * len(qs))],
                            "results": int(rnd() * rnd() * 120),
                        },
                    }
                )
            elif st == CHECKOUT:
                if not checkout_done and cart_items:
                    checkout_done = True
                    events.append(
                        {
                            "name": "Checkout Started",
                            "screen": screens[vi],
                            "timeSec": round(t0 + 0.3 * w, 3),
                            "properties": {"cart_value": round(cart_value, 2), "items": cart_items},
                        }
                    )
            elif st == ORDER_CONF:
                if cart_items:
                    pays = pay_by_kind[kind]
                    events.append(
                        {
                            "name": "Purchase",
                            "screen": screens[vi],
                            "timeSec": round(t0 + 0.2 * w, 3),
                            "properties": {
                                "price": round(cart_value, 2),
                                "payment_method": pays[int(rnd() * len(pays))],
                                "items": cart_items,
                            },
                        }
                    )
                    cart_value = 0.0
                    cart_items = 0
                    checkout_done = False
            elif st == LOGIN:
                logins = login_by_kind[kind]
                events.append(
                    {
                        "name": "Login",
                        "screen": screens[vi],
                        "timeSec": round(t0 + 0.7 * w, 3),
                        "properties": {"method": logins[int(rnd() * len(logins))]},
                    }
                )
            t0 += w
        if rnd() < (0.2 if crashed else 0.04):
            vi = int(rnd() * n_visits)
            t_freeze = sum(weights[:vi]) * scale + rnd() * weights[vi] * scale
            if t_freeze > duration:
                t_freeze = duration
            events.append(
                {
                    "name": "UI Freeze",
                    "screen": screens[vi],
                    "timeSec": round(t_freeze, 3),
                    "properties": {"duration": round(0.4 + rnd() * rnd() * 9.0, 2)},
                }
            )
            events.sort(key=by_time)

        # -- gestures
        total_gesture = int(n_visits * (0.4 + 1.8 * rnd()) + duration * 0.06 * rnd())
        unresponsive = int(total_gesture * rnd() ** 3 * 0.35)
        rage = 0
        if total_gesture and rnd() < (0.15 if crashed else 0.035):
            rage = 1 + int(rnd() * rnd() * 12)
            if rage > 12:
                rage = 12
            if rage > total_gesture:
                rage = total_gesture

        # -- network
        if offline and rnd() < 0.7:
            network = "none"
        else:
            network = net_table[int(rnd() * len(net_table))]

        prop = {
            "uploadedServerTime": up_s,
            "deviceLocalDateTime": fmt(up - min(need, int(duration) + 1 + delay)),
            "verifiedServerTime": up_s,
            "offlineRecorded": offline,
            "hasVideo": rnd() < (0.1 if is_web else 0.25),
            "isCrashed": crashed,
            "durationSec": duration,
            "totalGesture": total_gesture,
            "totalScreen": n_visits,
            "uniqueScreensCount": len(set(screens)),
            "rageGestureCount": rage,
            "responsiveGestureCount": total_gesture - unresponsive,
            "unresponsiveGestureCount": unresponsive,
            "networkType": network,
        }
        if rnd() < 0.1:  # let the server derive these
            del prop["totalScreen"]
            del prop["uniqueScreensCount"]

        device = dict(device_tpl)
        device["appVersion"] = app_versions[ver]
        device["sdkVersion"] = sdk_by_kind[kind][ver]
        if free_ram_base:
            device["freeRamInKb"] = int(free_ram_base * (0.08 + 0.45 * rnd())) // 1000 * 1000

        doc = {
            "sessionId": session_id,
            "property": prop,
            "user": dict(user_tpl),
            "device": device,
            "location": dict(loc_tpl),
        }
        if web_tpl is not None:
            web = dict(web_tpl)
            ref = src[0]
            if ref is not None:
                web["referer"] = ref.replace("{q}", web_q.replace(" ", "+")) if web_q else ref
            if src[1] is not None:
                web["utm"] = {
                    "utm_source": src[1][0],
                    "utm_medium": src[1][1],
                    "utm_campaign": utm_campaigns[int(rnd() * len(utm_campaigns))],
                }
            doc["web"] = web
        doc["screens"] = screens
        doc["events"] = events
        yield doc
