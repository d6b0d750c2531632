"""Allocation policies: the one registry the kernels, the reference, the quotes and the
scenario schema read.

A policy is a *service order* over a vendor's open orders: a lexicographic list of keys,
each an order field (``priority``, ``order_week`` or ``limit_price``) served ascending or
descending. Orders that tie on every key form a *tie group* that is served pro rata;
groups are served in order until the week's supply runs out (docs/market_clearing.md).
A policy with ``uniform_price`` (the ``auction``) also sets the price everyone served
pays: the limit price of the marginal group (served by limit price, highest first).

The same keys decide a new order's quoted lead time: it queues behind every eligible
open order that its keys serve no later than itself (see :func:`queue_ahead_of_new`).

Everything here is plain Python and numpy (no numba), so the scenario schema can import
it without compiling anything. Registering a policy is all it takes to use it: the
numba kernels are generic over the keys (:func:`policy_table` is their input).

Example (a test-only policy: pro rata within priority tiers, whatever the order week)::

    register_policy("tiered", keys=(("priority", True),), description="...")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

FIELDS = ("priority", "order_week", "limit_price")
"""Order fields a policy may sort by; their index is the field code in :func:`policy_table`."""
FIELD_PRIORITY, FIELD_WEEK, FIELD_LIMIT = 0, 1, 2
MAX_KEYS = 3
"""Keys a policy may have (each field at most once)."""
TABLE_WIDTH = 2 + 2 * MAX_KEYS
"""Columns of :func:`policy_table`: uniform price, number of keys, then (field,
descending) per key."""


@dataclass(frozen=True)
class AllocationPolicy:
    """How a vendor rations a week's units over its order book.

    ``keys``: ``(field, descending)`` pairs, the service order (empty: one tie group, pro
    rata); ``uniform_price``: everyone served pays the marginal group's limit price;
    ``code``: the integer the kernels know it by (its position in the registry).
    """

    name: str
    code: int
    keys: tuple[tuple[str, bool], ...]
    description: str
    uniform_price: bool = False

    @property
    def row(self) -> np.ndarray:
        """This policy's row of :func:`policy_table`."""
        row = np.full(TABLE_WIDTH, -1, dtype=np.int64)
        row[0] = int(self.uniform_price)
        row[1] = len(self.keys)
        for k, (field, descending) in enumerate(self.keys):
            row[2 + 2 * k] = FIELDS.index(field)
            row[3 + 2 * k] = int(descending)
        return row


_REGISTRY: dict[str, AllocationPolicy] = {}
_TABLE: list[np.ndarray] = []  # the kernels' table, rebuilt after a registration


class _PolicyCodes(Mapping[str, int]):
    """Policy name -> integer code: a live, read-only view of the registry."""

    def __getitem__(self, name: str) -> int:
        return _REGISTRY[name].code

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


POLICIES: Mapping[str, int] = _PolicyCodes()
"""Policy name -> integer code, always in step with the registry."""


def register_policy(
    name: str,
    keys: Iterable[tuple[str, bool]],
    description: str,
    uniform_price: bool = False,
) -> AllocationPolicy:
    """Add a policy to the registry and return it (its code is the next integer).

    Raises ValueError for a name already taken, an unknown or repeated field, or a
    uniform-price policy not served by limit price (the auction kernel needs it).
    """
    keys = tuple((str(f), bool(d)) for f, d in keys)
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"policy name {name!r}: use letters, digits and _")
    if name in _REGISTRY:
        raise ValueError(f"policy {name!r} is already registered")
    fields = [f for f, _ in keys]
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise ValueError(f"unknown order field {bad[0]!r}; use one of {', '.join(FIELDS)}")
    if len(set(fields)) != len(fields) or len(fields) > MAX_KEYS:
        raise ValueError(f"keys must name each of {', '.join(FIELDS)} at most once")
    if uniform_price and keys != (("limit_price", True),):
        raise ValueError("a uniform-price policy is served by limit price, highest first")
    policy = AllocationPolicy(name, len(_REGISTRY), keys, description, uniform_price)
    _REGISTRY[name] = policy
    _TABLE.clear()
    return policy


def unregister_policy(name: str) -> None:
    """Remove the most recently registered policy (codes stay dense); for tests."""
    last = list(_REGISTRY)[-1]
    if name != last:
        raise ValueError(f"only the last registered policy ({last!r}) can be removed")
    del _REGISTRY[name]
    _TABLE.clear()


def get_policy(name: str) -> AllocationPolicy:
    """The registered policy of this name; ValueError listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in _REGISTRY)
        raise ValueError(f"unknown policy {name!r}; valid policies: {valid}") from None


def policy_by_code(code: int) -> AllocationPolicy:
    """The registered policy with this code; ValueError otherwise."""
    for p in _REGISTRY.values():
        if p.code == code:
            return p
    raise ValueError(f"unknown policy code {code}; valid: {dict(POLICIES)}")


def policy_names() -> tuple[str, ...]:
    """Registered policy names, in code order."""
    return tuple(_REGISTRY)


def policy_table() -> np.ndarray:
    """int64[policies, TABLE_WIDTH]: every policy's row, by code (the kernels' input)."""
    if not _TABLE:
        rows = [p.row for p in _REGISTRY.values()]
        _TABLE.append(np.ascontiguousarray(np.array(rows, dtype=np.int64)))
    return _TABLE[0]


def queue_ahead_of_new(
    policy: AllocationPolicy,
    week: int,
    product: np.ndarray,
    qty: np.ndarray,
    priority: np.ndarray,
    order_week: np.ndarray,
    limit_price: np.ndarray,
    list_price: np.ndarray,
    n_tiers: int,
) -> np.ndarray:
    """[products, tiers]: units a new order of each priority tier queues behind, were
    every market served by ``policy``.

    The new order is placed in ``week`` (no open order is younger) at the list price (no
    eligible order bids less). An eligible open order (limit >= list price) is ahead of
    it when the policy serves it no later: decided by the first key on which the two
    differ, ahead when they tie on every key (a tie group finishes together). Arrays are
    over the open orders (``product`` indexes ``list_price``); priorities at or above
    ``n_tiers - 1`` count as the top tier.
    """
    n_products = len(list_price)
    tier = np.minimum(priority, n_tiers - 1)
    eligible = limit_price >= list_price[product]
    # every key but priority compares an open order with the new one the same way for
    # every tier: +1 ahead, -1 behind, 0 tie
    before = np.zeros(len(qty), dtype=np.int64)  # verdict of the keys before priority
    after = np.zeros(len(qty), dtype=np.int64)  # ... of the keys after it
    seen_priority = False
    for field, descending in policy.keys:
        if field == "priority":
            seen_priority = True
            continue
        if field == "order_week":  # an open order is older than the new one, or as old
            sign = np.where(order_week < week, -1 if descending else 1, 0)
        else:  # limit_price: an eligible order bids more than the list price, or as much
            sign = np.where(limit_price > list_price[product], 1 if descending else -1, 0)
        target = after if seen_priority else before
        undecided = target == 0
        target[undecided] = sign[undecided]

    def cells_of(rows: np.ndarray) -> np.ndarray:
        return np.bincount(
            product[rows] * n_tiers + tier[rows],
            weights=qty[rows],
            minlength=n_products * n_tiers,
        ).reshape(n_products, n_tiers)

    if not seen_priority:
        ahead = eligible & (before >= 0)
        return np.repeat(cells_of(ahead).sum(axis=1)[:, None], n_tiers, axis=1)
    fixed = eligible & (before > 0)  # ahead whatever the tier
    open_ = eligible & (before == 0)  # decided by the priority key (or the keys after)
    tied_ahead = open_ & (after >= 0)  # ahead of a new order of its own tier
    desc = dict(policy.keys)["priority"]
    if desc and not fixed.any() and (tied_ahead == open_).all():
        # the common case (``priority``): the orders of its tier and above
        return np.cumsum(cells_of(open_)[:, ::-1], axis=1)[:, ::-1]
    split, ties = cells_of(open_), cells_of(tied_ahead)
    if desc:  # higher tiers are served first
        strict = np.cumsum(split[:, ::-1], axis=1)[:, ::-1] - split
    else:
        strict = np.cumsum(split, axis=1) - split
    return cells_of(fixed).sum(axis=1)[:, None] + strict + ties


# --------------------------------------------------------------------------- built-ins
register_policy("pro_rata", (), "every eligible order gets the same share of the week's units")
register_policy(
    "priority",
    (("priority", True), ("order_week", False)),
    "higher priority tier first, then oldest order first; ties pro rata",
)
register_policy("fifo", (("order_week", False),), "oldest order first; same-week orders pro rata")
register_policy(
    "auction",
    (("limit_price", True),),
    "highest limit price first; everyone served pays the marginal order's limit (uniform price)",
    uniform_price=True,
)
