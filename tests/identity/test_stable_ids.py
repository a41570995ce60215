"""Stable customer ids across re-clustering."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cxo.identity.stable_ids import (
    IdPlan,
    incremental_scope,
    plan_ids,
    plan_incremental,
    union_clusters,
)


def apply(plan: IdPlan, first_new_id: int) -> dict[int, int]:
    """What the store would hold after the plan: placeholders numbered from ``first_new_id``."""
    ids = {p: first_new_id + i for i, p in enumerate(sorted(plan.new_customers, reverse=True))}
    alias = dict(plan.merges)
    out = {}
    for record, customer in plan.record_customer.items():
        customer = ids.get(customer, customer)
        out[record] = alias.get(customer, customer)
    return out


def test_first_run_creates_one_customer_per_cluster() -> None:
    plan = plan_ids({1: 1, 2: 1, 3: 3}, {})
    assert plan.merges == []
    assert sorted(map(sorted, plan.new_customers.values())) == [[1, 2], [3]]
    assert plan.record_customer[1] == plan.record_customer[2] != plan.record_customer[3]


def test_merge_keeps_the_older_id() -> None:
    # Records 1 and 2 were customers 10 and 7; now they are one cluster: 7 survives, 10 is an alias.
    plan = plan_ids({1: 1, 2: 1}, {1: 10, 2: 7})
    assert plan.merges == [(10, 7)]
    assert plan.record_customer == {1: 7, 2: 7}
    assert plan.new_customers == {}


def test_split_keeps_the_id_where_most_records_went() -> None:
    plan = plan_ids({1: 1, 2: 1, 3: 3}, {1: 5, 2: 5, 3: 5})
    assert plan.record_customer[1] == plan.record_customer[2] == 5
    assert plan.record_customer[3] < 0
    assert plan.merges == []


def test_new_record_joins_existing_customer() -> None:
    plan = plan_ids({1: 1, 2: 1, 9: 1}, {1: 5, 2: 5})
    assert plan.record_customer == {1: 5, 2: 5, 9: 5}


def test_union_clusters_bridges_to_smaller() -> None:
    assert union_clusters({1: 5, 2: 9, 3: 12}, [(9, 12), (12, 5)]) == {1: 5, 2: 5, 3: 5}


clusterings = st.dictionaries(st.integers(0, 60), st.integers(0, 12), min_size=1, max_size=40)


@given(clusterings, st.dictionaries(st.integers(0, 60), st.integers(1, 30), max_size=40))
def test_every_record_gets_one_customer_and_rerun_changes_nothing(
    clusters: dict[int, int], previous: dict[int, int]
) -> None:
    previous = {r: c for r, c in previous.items() if r in clusters}
    plan = plan_ids(clusters, previous)
    assert set(plan.record_customer) == set(clusters)
    # Records of one cluster share a customer; different clusters, different customers.
    by_cluster: dict[int, set[int]] = {}
    for r, c in clusters.items():
        by_cluster.setdefault(c, set()).add(plan.record_customer[r])
    assert all(len(v) == 1 for v in by_cluster.values())
    assert len({next(iter(v)) for v in by_cluster.values()}) == len(by_cluster)
    # A merge always keeps the oldest (smallest) id.
    assert all(alias > survivor for alias, survivor in plan.merges)
    # Re-running on the result changes nothing.
    now = apply(plan, first_new_id=1000)
    again = plan_ids(clusters, now)
    assert again.merges == [] and again.new_customers == {}
    assert again.record_customer == now


@given(clusterings, st.randoms())
def test_plan_is_independent_of_input_order(clusters: dict[int, int], rnd) -> None:  # type: ignore[no-untyped-def]
    previous = {r: 100 + c for r, c in clusters.items() if r % 3}
    items = list(clusters.items())
    rnd.shuffle(items)
    a, b = plan_ids(clusters, previous), plan_ids(dict(items), previous)
    assert a.record_customer == b.record_customer and a.merges == b.merges


OFFSET = 1000


@st.composite
def incremental_runs(draw):  # type: ignore[no-untyped-def]
    """(links, new, bridges) as an incremental run sees them: existing customer c is cluster
    c + OFFSET; a new record joins such a cluster or a new one (ids below OFFSET)."""
    links = draw(st.dictionaries(st.integers(0, 59), st.integers(1, 15), min_size=1, max_size=50))
    existing = sorted({c + OFFSET for c in links.values()})
    new_pks = draw(st.lists(st.integers(100, 140), unique=True, max_size=25))
    targets = st.one_of(st.sampled_from(existing), st.integers(100, 140))
    new = {pk: draw(targets) for pk in new_pks}
    clusters = sorted(set(existing) | set(new.values()))
    pairs = st.tuples(st.sampled_from(clusters), st.sampled_from(clusters))
    bridges = draw(st.lists(pairs, max_size=6))
    return links, new, bridges


@given(incremental_runs())
def test_incremental_plan_equals_the_plan_over_every_record(run) -> None:  # type: ignore[no-untyped-def]
    links, new, bridges = run
    everything = {r: c + OFFSET for r, c in links.items()} | new
    full = plan_ids(union_clusters(everything, bridges), links)
    inc = plan_incremental(links, new, bridges, OFFSET)
    assert inc.merges == full.merges
    assert inc.new_customers == full.new_customers
    for record, customer in full.record_customer.items():
        assert inc.record_customer.get(record, links.get(record)) == customer
    # passing only the links of the customers in scope gives the same plan
    scope = incremental_scope(new, bridges, OFFSET)
    some = plan_incremental({r: c for r, c in links.items() if c in scope}, new, bridges, OFFSET)
    assert some == inc


def test_incremental_plan_without_new_records_is_empty() -> None:
    plan = plan_incremental({1: 5, 2: 5}, {}, [], OFFSET)
    assert plan.record_customer == {} and plan.merges == [] and plan.new_customers == {}
