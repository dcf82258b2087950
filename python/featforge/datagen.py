"""Deterministic synthetic e-commerce event logs for the demo, tests and benchmarks.

The shape follows a real interaction log (compare the UCI Online Retail data in shared/datasets):
skewed (Zipf) users and items, items grouped in categories, search text drawn from item words,
log-normal prices, timestamps increasing with bursts, a few countries dominating.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

COUNTRIES = np.array(
    [
        "United Kingdom",
        "Germany",
        "France",
        "EIRE",
        "Spain",
        "Netherlands",
        "Belgium",
        "Switzerland",
        "Portugal",
        "Australia",
        "Norway",
        "Italy",
        "Japan",
        "Poland",
        "Sweden",
    ]
)
_COUNTRY_WEIGHTS = np.array(
    [
        0.80,
        0.04,
        0.035,
        0.03,
        0.02,
        0.015,
        0.012,
        0.01,
        0.008,
        0.007,
        0.006,
        0.006,
        0.005,
        0.003,
        0.003,
    ]
)
CATEGORIES = np.array(
    [
        "home",
        "kitchen",
        "garden",
        "toys",
        "party",
        "stationery",
        "jewellery",
        "bags",
        "lighting",
        "christmas",
    ]
)
_WORDS = np.array(
    [
        "red",
        "white",
        "blue",
        "pink",
        "vintage",
        "heart",
        "star",
        "glass",
        "metal",
        "wooden",
        "candle",
        "holder",
        "lantern",
        "bag",
        "box",
        "set",
        "mug",
        "bowl",
        "card",
        "cake",
        "tin",
        "light",
        "garland",
        "sign",
        "frame",
        "clock",
        "doormat",
        "bottle",
        "ribbon",
        "paper",
        "jumbo",
        "retrospot",
        "regency",
        "teacup",
        "saucer",
        "cushion",
        "cover",
        "wall",
        "art",
        "bunting",
        "chalkboard",
        "lunch",
        "picnic",
        "basket",
        "party",
        "napkins",
        "spaceboy",
    ]
)
EVENTS = np.array(["view", "click", "cart", "purchase"])
_EVENT_WEIGHTS = np.array([0.6, 0.25, 0.1, 0.05])

START_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def _zipf_ids(rng: np.random.Generator, n: int, n_distinct: int, a: float) -> np.ndarray:
    # Bounded Zipf by inverse-CDF on ranks, then a fixed permutation so ids are not rank-ordered.
    ranks = np.arange(1, n_distinct + 1, dtype=np.float64)
    cdf = np.cumsum(ranks**-a)
    cdf /= cdf[-1]
    draws = np.searchsorted(cdf, rng.random(n))
    perm = np.random.default_rng(7).permutation(n_distinct)
    return perm[draws].astype(np.int64)


def events(
    rows: int = 1_000_000,
    *,
    batch_rows: int = 100_000,
    n_users: int = 100_000,
    n_items: int = 50_000,
    seed: int = 0,
) -> Iterator[pa.RecordBatch]:
    """Yield time-ordered record batches of `rows` synthetic events in total.

    Columns: event_time (timestamp[ms]), user_id (int64), item_id (string "I0001234"),
    category (string), country (string), event (string), query (string, null unless the event
    came from a search), price (float64, null for views of unpriced items), quantity (int32).
    """
    if rows < 0 or batch_rows <= 0:
        raise ValueError("rows must be >= 0 and batch_rows > 0")
    rng = np.random.default_rng(seed)
    item_category = np.random.default_rng(11).integers(0, len(CATEGORIES), size=n_items)
    item_price = np.round(np.random.default_rng(12).lognormal(1.2, 0.9, size=n_items), 2)
    item_words = np.random.default_rng(13).integers(0, len(_WORDS), size=(n_items, 3))
    user_country = np.random.default_rng(14).choice(
        len(COUNTRIES), size=n_users, p=_COUNTRY_WEIGHTS
    )
    t = START_MS
    done = 0
    while done < rows:
        n = min(batch_rows, rows - done)
        # Gaps: mostly seconds apart, sometimes equal (same basket), sometimes an idle hour.
        gaps = rng.exponential(2_000.0, size=n).astype(np.int64)
        gaps[rng.random(n) < 0.15] = 0
        gaps[rng.random(n) < 0.001] += 3_600_000
        times = t + np.cumsum(gaps)
        t = int(times[-1])
        users = _zipf_ids(rng, n, n_users, 1.05)
        items = _zipf_ids(rng, n, n_items, 1.1)
        event = rng.choice(len(EVENTS), size=n, p=_EVENT_WEIGHTS)
        searched = rng.random(n) < 0.3
        w = item_words[items]
        query = np.char.add(np.char.add(_WORDS[w[:, 0]], " "), _WORDS[w[:, 1]])
        price = item_price[items]
        price_valid = rng.random(n) > 0.02
        quantity = np.where(EVENTS[event] == "purchase", rng.integers(1, 12, size=n), 0)
        yield pa.record_batch(
            {
                "event_time": pa.array(times, pa.timestamp("ms")),
                "user_id": pa.array(users + 10_000, pa.int64()),
                "item_id": pa.array(np.char.add("I", np.char.zfill(items.astype(str), 7))),
                "category": pa.array(CATEGORIES[item_category[items]]),
                "country": pa.array(COUNTRIES[user_country[users]]),
                "event": pa.array(EVENTS[event]),
                "query": pa.array(query, mask=~searched),
                "price": pa.array(price, mask=~price_valid),
                "quantity": pa.array(quantity.astype(np.int32)),
            }
        )
        done += n
