"""Stable customer ids: turn a fresh clustering of source records into customer ids that survive.

Pure logic, no I/O. Identity resolution re-clusters records on every full run; the clusters it
returns are anonymous. This module decides which existing customer each cluster *is*:

* a previous customer goes to the new cluster holding most of its records (ties: the smaller
  cluster id), so a customer whose records are split keeps its id where most of them went;
* a cluster that wins several previous customers merges them: the oldest (smallest) id survives
  and the others become its aliases;
* a cluster that wins none is a new customer.

Re-running on an unchanged clustering changes nothing (a property test checks it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class IdPlan:
    """What to write: each record's customer, new customers and merges."""

    record_customer: dict[int, int]
    """record_pk -> customer id; a new customer has a negative placeholder (-1, -2, … in cluster
    order) until the store gives it an id."""
    new_customers: dict[int, list[int]] = field(default_factory=dict)
    """placeholder -> the record_pks of the new customer."""
    merges: list[tuple[int, int]] = field(default_factory=list)
    """(alias, survivor) pairs: ``alias`` becomes an alias of the older ``survivor``."""

    @property
    def changed_customers(self) -> set[int]:
        """Existing customers whose set of records may have changed (survivors of merges too)."""
        return {s for _, s in self.merges}


def plan_ids(clusters: Mapping[int, int], previous: Mapping[int, int]) -> IdPlan:
    """Assign customer ids to ``clusters`` (record_pk -> cluster) given ``previous`` links.

    ``previous`` maps record_pk -> the (surviving) customer id the record is linked to now; records
    without a link are new. Cluster ids are arbitrary integers.
    """
    counts: Counter[tuple[int, int]] = Counter()
    for record, cluster in clusters.items():
        customer = previous.get(record)
        if customer is not None:
            counts[(customer, cluster)] += 1
    owner: dict[int, int] = {}
    best: dict[int, tuple[int, int]] = {}
    for (customer, cluster), n in counts.items():
        key = (-n, cluster)
        if customer not in best or key < best[customer]:
            best[customer] = key
            owner[customer] = cluster
    won: dict[int, list[int]] = defaultdict(list)
    for customer, cluster in owner.items():
        won[cluster].append(customer)
    cluster_customer: dict[int, int] = {}
    merges: list[tuple[int, int]] = []
    for cluster, customers in won.items():
        survivor = min(customers)
        cluster_customer[cluster] = survivor
        merges.extend((c, survivor) for c in sorted(customers) if c != survivor)
    fresh = sorted(set(clusters.values()) - cluster_customer.keys())
    cluster_customer.update({c: -(i + 1) for i, c in enumerate(fresh)})
    plan = IdPlan(record_customer={}, merges=sorted(merges))
    for record, cluster in clusters.items():
        customer = cluster_customer[cluster]
        if customer < 0:
            plan.new_customers.setdefault(customer, []).append(record)
        plan.record_customer[record] = customer
    return plan


def union_clusters(
    clusters: Mapping[int, int], bridges: Iterable[tuple[int, int]]
) -> dict[int, int]:
    """Relabel ``clusters`` so that each bridged pair of clusters becomes one (the smaller id)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in bridges:
        ra, rb = find(a), find(b)
        if ra != rb:
            lo, hi = min(ra, rb), max(ra, rb)
            parent[hi] = lo
    if not parent:
        return dict(clusters)
    return {r: find(c) for r, c in clusters.items()}


def incremental_scope(
    new: Mapping[int, int], bridges: Iterable[tuple[int, int]], offset: int
) -> set[int]:
    """The existing customers an incremental run can change.

    In an incremental run existing customer ``c`` is cluster ``c + offset`` and the clusters of
    new records (``new``: record_pk -> cluster) are either such a cluster or a new one below
    ``offset``; ``bridges`` join clusters. A customer no new record joined and no bridge names
    keeps exactly its records, so only the customers returned here need planning.
    """
    clusters = set(new.values())
    for a, b in bridges:
        clusters.update((a, b))
    return {c - offset for c in clusters if c >= offset}


def plan_incremental(
    links: Mapping[int, int],
    new: Mapping[int, int],
    bridges: Iterable[tuple[int, int]],
    offset: int,
) -> IdPlan:
    """:func:`plan_ids` for an incremental run, over the records whose customer can change only.

    ``links``: record_pk -> customer of the linked records; only those of the customers in
    :func:`incremental_scope` are read, so a caller may pass just those (the plan is the same).
    Every record the plan leaves out keeps its link.
    """
    bridges = list(bridges)
    scope = incremental_scope(new, bridges, offset)
    previous = {r: c for r, c in links.items() if c in scope}
    clusters = {r: c + offset for r, c in previous.items()}
    clusters.update(new)
    return plan_ids(union_clusters(clusters, bridges), previous)
