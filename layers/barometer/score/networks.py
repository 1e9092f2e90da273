"""The index across networks: the lake seen from one network, and the labelling of index rows.

A panel on one network scores as before; its index rows carry that network. A panel on several
networks is scored once per network (each brand with its accounts there; a brand without an
account on a network has no row there: its data is missing, never a zero) and once combined
(`network = all`): the combined read is the union of the networks' rows, so community, content
volume, mentions, interactions and mention reach are sums over networks (identities differ
across networks: an author on X and one on Bluesky are two authors), growth and engagement rate
are computed on those sums, and centrality is PageRank on the union of the networks' graphs.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from barometer.config import ALL_NETWORKS, Panel
from barometer.lake.store import Lake, network_is

# Collected tables, read per network when a network is scored alone.
COLLECTED = ("accounts", "posts", "mentions", "mention_counts", "completeness")


class NetworkLake(Lake):
    """A view of a lake whose collected tables read one network's rows only (files written
    before the `network` column existed are X's). Everything else is the lake's own."""

    def __init__(self, lake: Lake, network: str) -> None:  # a copy of the lake, not a new one
        self.__dict__.update(vars(lake))
        self._base = lake
        self.network = network

    def read(self, table: str, panel: str | None = None, start=None, end=None,  # type: ignore[no-untyped-def]
             columns=None, filter=None, dictionary=()):
        if table in COLLECTED:
            cond = network_is(self.network)
            filter = cond if filter is None else filter & cond
        return self._base.read(table, panel, start, end, columns, filter, dictionary)


def index_networks(panel: Panel) -> tuple[str, ...]:
    """The `network` values of a panel's index rows: its one network, or each network and `all`."""
    nets = panel.networks
    return nets if len(nets) == 1 else (ALL_NETWORKS, *nets)


def labelled(t: pa.Table, network: str) -> pa.Table:
    """`t` with its `network` column set to `network` (added if absent)."""
    col = pa.array([network] * t.num_rows, pa.string())
    i = t.schema.get_field_index("network")
    return t.set_column(i, "network", col) if i >= 0 else t.append_column("network", col)


def main_rows(t: pa.Table) -> pa.Table:
    """The rows of the panel's leaderboard: the combined (`all`) rows when the table has some,
    else every row (a panel on one network, or a lake written before networks)."""
    if "network" not in t.column_names or t.num_rows == 0:
        return t
    is_all = pc.fill_null(pc.equal(t["network"], ALL_NETWORKS), False)
    return t.filter(is_all) if pc.any(is_all).as_py() else t


def rows_of(t: pa.Table, network: str) -> pa.Table:
    """The rows of one network (`all`: the leaderboard's, see main_rows)."""
    if network == ALL_NETWORKS:
        return main_rows(t)
    if "network" not in t.column_names:
        return t if network == "x" else t.slice(0, 0)
    return t.filter(pc.fill_null(pc.equal(pc.fill_null(t["network"], "x"), network), False))


__all__ = ["COLLECTED", "NetworkLake", "index_networks", "labelled", "main_rows", "rows_of"]
