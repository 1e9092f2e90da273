"""Generation phases that make the accounts: brands', other authors', institutions'."""

from __future__ import annotations

from datetime import date

import numpy as np

from barometer.sim.model import DAY_MS, User, day_ms, snowflake, stable_user_id
from barometer.sim.worldgen.draft import Draft
from barometer.sim.worldgen.draws import ri
from barometer.sim.worldgen.people import BIOS, CITIES, FIRST_NAMES, INSTITUTIONS, LAST_NAMES
from barometer.sim.worldgen.plans import follower_series


def add_brand_accounts(d: Draft) -> None:
    """Brand accounts: the first account carries the brand's followers; extra accounts are smaller."""
    rng, start_ms = d.rng, d.start_ms
    for plan, b in zip(d.plans, d.panel.brands, strict=True):
        ids = []
        for k, acc in enumerate(b.accounts):
            uid = stable_user_id(acc.handle)
            scale = 1.0 if k == 0 else 0.1
            series = follower_series(plan, d.start, d.end, d.nrng)
            if k:
                series = {day: max(1, int(v * scale)) for day, v in series.items()}
            d.users[uid] = User(
                uid,
                acc.handle,
                b.name if k == 0 else f"{b.name} ({acc.handle})",
                start_ms - ri(rng, 800, 3000) * DAY_MS,
                f"Compte officiel {b.name}. Mentions légales : bit.ly/{acc.handle.lower()}",
                "France",
                True,
                series[d.end],
                ri(rng, 300, 1500),
                ri(rng, 80, 400),
                ri(rng, 1500, 6000),
                b.id,
                series,
            )
            ids.append(uid)
            d.handle_of[uid] = acc.handle
        d.brand_accounts[b.id] = ids


def add_author_pool(d: Draft) -> None:
    """Other authors: a heavy-tailed population; ids are snowflake-like for recent accounts,
    short integers for accounts older than 2014, as on X."""
    rng, nrng, users = d.rng, d.nrng, d.users
    total_mentions = sum(sum(p.mentions.values()) for p in d.plans)
    n_pool = int(min(40_000, max(3_000, total_mentions // 5)))
    pool_followers = np.minimum(nrng.lognormal(5.6, 1.7, n_pool).astype(np.int64), 3_000_000)
    created = nrng.integers(day_ms(date(2008, 1, 1)), d.start_ms, size=n_pool)
    used_handles = {h.lower() for h in d.handle_of.values()}
    bios = d.texts.sector.bios or BIOS  # the panel's sector's
    for i in range(n_pool):
        c_ms = int(created[i])
        if c_ms < day_ms(date(2014, 1, 1)):
            uid = str(ri(rng, 10_000_000, 2_999_999_999))
        else:
            uid = str(snowflake(c_ms, rng.getrandbits(22)))
        if uid in users:
            uid = str(int(uid) + 1 + i)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = f"{first}{last}"[:11].replace("é", "e").replace("è", "e").replace("É", "E")
        handle = handle.replace("ï", "i").replace("ç", "c").replace("ë", "e") + str(ri(rng, 1, 9999))
        if handle.lower() in used_handles:
            handle = handle[:11] + f"_{i % 1000}"
        used_handles.add(handle.lower())
        f = int(pool_followers[i])
        users[uid] = User(
            uid,
            handle,
            f"{first} {last}",
            c_ms,
            rng.choice(bios),
            rng.choice(CITIES),
            f > 50_000 and rng.random() < 0.5,
            f,
            ri(rng, 20, 2000),
            f // 40,
            ri(rng, 10, 40_000),
        )
        d.pool_ids.append(uid)
    # Drawn from `nrng` only, so drawing it here or after the institutions (which draw from
    # `rng` only) gives the same world.
    d.activity = np.minimum(nrng.zipf(1.6, n_pool).astype(float), 400.0)


def add_institutions(d: Draft) -> None:
    """The institutions brand posts tag (the panel's sector's): verified accounts with stable ids."""
    for handle, name in d.texts.sector.institutions or INSTITUTIONS:
        uid = stable_user_id(handle)
        d.users[uid] = User(
            uid,
            handle,
            name,
            d.start_ms - 2000 * DAY_MS,
            f"Compte institutionnel ({name})",
            "Paris",
            True,
            ri(d.rng, 20_000, 200_000),
            ri(d.rng, 100, 900),
            900,
            4000,
        )
        d.inst_ids.append(uid)
        d.handle_of[uid] = handle
