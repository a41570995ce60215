"""The Fellegi–Sunter model on Splink 5: comparisons, blocking rules and training.

Fellegi, I. P. & Sunter, A. B. (1969). "A theory for record linkage." JASA 64(328), 1183–1210:
each comparison level has m = P(level | match) and u = P(level | non-match); a pair's match
weight is log2 of the prior odds λ/(1−λ) plus the sum of log2(m/u) over the comparisons
(with term-frequency adjustments for exact matches on names, e-mails, phones, addresses and
cities, so a shared common name counts for less than a shared rare one).

Training (Splink's estimators): λ from the deterministic graph (pairs it links, divided by an
assumed recall of :data:`DETERMINISTIC_RECALL`) or, when there are no strong keys (FEBRL), from
exact name + birth date agreement; u by random sampling of record pairs; m by expectation
maximisation on pairs blocked by e-mail and then by name + birth date (FEBRL: by name, then by
birth date); each session leaves the comparison it blocks on untouched. Then m and u are floored
(:func:`smoothed`) so that no single comparison can decide alone.

The same settings dict runs on DuckDB and on Spark (:class:`splink.SparkAPI`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

MODEL_VERSION: Final = 1
DEFAULT_THRESHOLD: Final = 0.5
# Link-only runs assign one-to-one (each record at most one partner per other source), which
# removes the competing-candidate errors a threshold otherwise guards against; F1 was flat or
# rising from 0.5 down to 0.05 on FEBRL1, FEBRL2 (originals × first duplicates) and FEBRL4.
LINK_ONLY_THRESHOLD: Final = 0.1
DETERMINISTIC_RECALL: Final = 0.75
U_PAIRS: Final = 2e6
M_FLOOR: Final = 1e-4
# Splink warns about every comparison level a dataset lacks (no phones in FEBRL): expected here.
LOG_LEVEL: Final = logging.ERROR

# Blocking keys: columns that must all agree, and a cap — a key value held by more records than
# the cap generates no pairs (hub values: a call centre's number, a common name, a big city).
# Compound keys with a small cap only fire where they are rare, which is where they are needed:
# FEBRL's typo-ridden records, not a million customers who all live in Shanghai.
BLOCKING_KEYS: Final[tuple[tuple[tuple[str, ...], int], ...]] = (
    (("phone",), 50),
    (("email",), 50),
    (("name_key",), 20),
    (("hk_key",), 20),
    (("name_u",), 20),
    (("address",), 20),
    (("birth_date",), 12),
    (("address_first", "address_last"), 12),
    (("address_word", "address_last"), 12),
    (("surname", "birth_date"), 50),
    (("given", "birth_date"), 50),
    (("name_key", "birth_year"), 50),
    (("given", "phone_last8"), 50),
    (("surname", "city"), 12),
    (("given", "city"), 12),
    (("birth_date", "city"), 12),
    (("surname", "address_last"), 12),
    (("given", "address_last"), 12),
    (("birth_date", "address_last"), 12),
    (("birth_date", "address_first"), 12),
    (("city", "address_first"), 12),
    (("city", "address_last"), 12),
)
# Every blocking rule skips pairs already joined by the deterministic graph (same component).
NOT_SAME_COMPONENT: Final = "l.det_cluster <> r.det_cluster"
# Link-only runs (two or more lists, each free of duplicates) compare across sources only.
OTHER_SOURCE: Final = "l.source_system <> r.source_system"
PREDICTION_RULES: Final[tuple[str, ...]] = tuple(
    f"l.bk{i} = r.bk{i}" for i in range(len(BLOCKING_KEYS))
)
# Columns Splink compares, and the per-dataset helper columns the blocking rules use.
MODEL_COLUMNS: Final = (
    "name_key",
    "name_alts",
    "name_hk",
    "name_u",
    "surname",
    "surname_alts",
    "given",
    "english",
    "birth_date",
    "birth_year",
    "email",
    "email_c",
    "phone",
    "phone_last8",
    "national_id_hash",
    "address",
    "address_tokens",
    "address_first",
    "address_last",
    "city",
    "gender",
)
BLOCKING_COLUMNS: Final = (
    "source_system",
    "det_cluster",
    *(f"bk{i}" for i in range(len(BLOCKING_KEYS))),
)
TF_COLUMNS: Final = ("name_key", "email_c", "phone", "address", "city")


def _comparisons() -> list[Any]:
    same_surname = cll.ArrayIntersectLevel("surname_alts", 1).configure(
        label_for_charts="Same family name (either romanisation)"
    )
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="Whole name: characters, pinyin, Cantonese, order, nicknames",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_key", term_frequency_adjustments=True).configure(
                label_for_charts="Same name"
            ),
            cll.ArrayIntersectLevel("name_alts", 1).configure(
                label_for_charts="Same name in another script, romanisation or order",
                tf_adjustment_column="name_key",
            ),
            cll.Or(
                cll.JaroWinklerLevel("name_key", 0.92),
                cll.JaroWinklerLevel("name_hk", 0.92),
                cll.JaroWinklerLevel("name_u", 0.92),
            ).configure(label_for_charts="Name Jaro-Winkler >0.92 (a typo)"),
            cll.And(same_surname, cll.JaroWinklerLevel("given", 0.8)).configure(
                label_for_charts="Same family name, given name Jaro-Winkler >0.8"
            ),
            cll.And(cll.ExactMatchLevel("given"), cll.JaroWinklerLevel("surname", 0.8)).configure(
                label_for_charts="Same given name, family name Jaro-Winkler >0.8"
            ),
            same_surname,
            cll.ExactMatchLevel("given").configure(
                label_for_charts="Same given name, other family name"
            ),
            cll.JaroWinklerLevel("name_key", 0.8).configure(
                label_for_charts="Name Jaro-Winkler >0.8"
            ),
            cll.ElseLevel(),
        ],
    )
    english = cl.CustomComparison(
        output_column_name="english_name",
        comparison_levels=[
            cll.NullLevel("english"),
            cll.ExactMatchLevel("english").configure(label_for_charts="Same English name"),
            cll.ElseLevel(),
        ],
    )
    birth = cl.DateOfBirthComparison(
        "birth_date",
        input_is_string=True,
        datetime_thresholds=[1, 1],
        datetime_metrics=["month", "year"],
    )
    # Exact e-mail only: user names are mostly made of the person's name ("wei.wang",
    # "wangwei88"), so similar user names are the name's evidence counted twice. An address
    # held by provably different people is blanked before it gets here (``email_c``).
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email_c"),
            cll.ExactMatchLevel("email_c", term_frequency_adjustments=True).configure(
                label_for_charts="Same e-mail"
            ),
            cll.ElseLevel(),
        ],
    )
    # Phone and address in ONE comparison: a household shares both (same landline, same
    # address, different people), so as two comparisons they would count the household twice.
    same_phone = cll.ExactMatchLevel("phone")
    same_address = cll.ExactMatchLevel("address")
    contact = cl.CustomComparison(
        output_column_name="contact",
        comparison_description="Phone and address together (households share both)",
        comparison_levels=[
            cll.And(cll.NullLevel("phone"), cll.NullLevel("address")),
            cll.And(same_phone, same_address).configure(
                label_for_charts="Same phone and address", tf_adjustment_column="address"
            ),
            cll.And(same_phone, cll.Or(cll.NullLevel("address"))).configure(
                label_for_charts="Same phone (no address to compare)",
                tf_adjustment_column="phone",
            ),
            same_phone.configure(
                label_for_charts="Same phone, other address", tf_adjustment_column="phone"
            ),
            cll.ExactMatchLevel("phone_last8").configure(
                label_for_charts="Same last 8 digits of phone"
            ),
            cll.ExactMatchLevel("address").configure(
                label_for_charts="Same address, other or no phone", tf_adjustment_column="address"
            ),
            cll.JaroWinklerLevel("address", 0.92).configure(
                label_for_charts="Address Jaro-Winkler >0.92"
            ),
            cll.And(
                cll.ArrayIntersectLevel("address_tokens", 3),
                cll.ExactMatchLevel("address_first"),
                cll.ExactMatchLevel("address_last"),
            ).configure(
                label_for_charts="Same house number and postcode, 3 or more words/numbers in common"
            ),
            cll.ArrayIntersectLevel("address_tokens", 4).configure(
                label_for_charts="Address shares 4 or more words/numbers"
            ),
            cll.And(
                cll.ExactMatchLevel("address_first"), cll.ExactMatchLevel("address_last")
            ).configure(label_for_charts="Same house number and postcode"),
            cll.ArrayIntersectLevel("address_tokens", 2).configure(
                label_for_charts="Address shares 2 words/numbers"
            ),
            cll.ElseLevel(),
        ],
    )

    def exact(column: str, label: str, tf: bool = False) -> Any:
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column, term_frequency_adjustments=tf).configure(
                    label_for_charts=label
                ),
                cll.ElseLevel(),
            ],
        )

    return [
        name,
        english,
        birth,
        email,
        contact,
        cl.CustomComparison(
            output_column_name="city",
            comparison_levels=[
                cll.NullLevel("city"),
                cll.ExactMatchLevel("city", term_frequency_adjustments=True).configure(
                    label_for_charts="Same city"
                ),
                cll.JaroWinklerLevel("city", 0.88).configure(
                    label_for_charts="City Jaro-Winkler >0.88"
                ),
                cll.ElseLevel(),
            ],
        ),
        exact("gender", "Same gender"),
        exact("national_id_hash", "Same national id"),
    ]


def base_settings(
    threshold: float = DEFAULT_THRESHOLD, dialect: str = "duckdb", *, link_only: bool = False
) -> dict[str, Any]:
    """The untrained settings dict (comparisons, blocking rules), with cxo's own entry.

    ``settings["cxo"]`` holds what Splink does not: the version of these settings, the
    match-probability threshold and whether the run is link-only (pairs across sources only);
    Splink never sees it (:func:`splink_settings`).
    """
    extra = f" AND {OTHER_SOURCE}" if link_only else ""
    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_pk",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=[
            {"blocking_rule": f"{rule} AND {NOT_SAME_COMPONENT}{extra}"}
            for rule in PREDICTION_RULES
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
        em_convergence=0.001,
    )
    settings = creator.get_settings(dialect).as_dict()
    settings["cxo"] = {"version": MODEL_VERSION, "threshold_match_probability": threshold}
    if link_only:
        settings["cxo"]["link_only"] = True
    return settings


def splink_settings(model: dict[str, Any]) -> dict[str, Any]:
    """The model without cxo's entry: what Splink's ``Linker`` accepts."""
    return {k: v for k, v in model.items() if k != "cxo"}


def cxo_entry(model: dict[str, Any]) -> dict[str, Any]:
    entry = model.get("cxo")
    if not isinstance(entry, dict) or entry.get("version") != MODEL_VERSION:
        raise ValueError(
            "The identity model was made by another version of cxo's resolver; run a full "
            "resolution to train a new one."
        )
    return entry


def prior(
    records: int, deterministic_pairs: int, exact_pairs: int, total_pairs: int | None = None
) -> float:
    """λ: the share of record pairs that match, from what the deterministic rules link.

    Pairs linked by the deterministic graph over an assumed recall of
    :data:`DETERMINISTIC_RECALL`; with no strong keys at all, pairs agreeing exactly on name and
    birth date over a recall of 0.6. Splink's ``estimate_probability_two_random_records_match``
    does the same count with blocking rules; cxo has the graph already. ``total_pairs``: the
    pairs that could match (link-only: across sources), by default all of them.
    """
    total = max(records * (records - 1) // 2 if total_pairs is None else total_pairs, 1)
    if deterministic_pairs:
        matched = deterministic_pairs / DETERMINISTIC_RECALL
    else:
        matched = exact_pairs / 0.6
    return float(min(max(matched / total, 1e-9), 0.5))


def em_sessions(pairs_by_rule: dict[str, int]) -> list[tuple[str, ...]]:
    """The blocking columns of the EM sessions, from how many pairs each would give.

    Blocks must hold people, not households: blocking on phone (a shared landline) or address
    teaches EM that "same household" is a match. E-mail then name + birth date when the data has
    e-mails; else name, then birth date (FEBRL). Sessions under 100 pairs are dropped.
    """
    if (
        pairs_by_rule.get("email_c", 0) >= 100
        and pairs_by_rule.get("name_key,birth_date", 0) >= 100
    ):
        return [("email_c",), ("name_key", "birth_date")]
    return [(c,) for c in ("name_key", "birth_date") if pairs_by_rule.get(c, 0) >= 100]


EM_RULES: Final = ("email_c", "name_key,birth_date", "name_key", "birth_date")


def train(
    linker: Linker,
    *,
    records: int,
    pairs_by_rule: dict[str, int],
    seed: int = 42,
    link_only: bool = False,
) -> dict[str, Any]:
    """Estimate u (random sampling) and m (EM) on ``linker``'s data; returns what was done.

    ``pairs_by_rule``: pairs per candidate EM block (:data:`EM_RULES`); sessions over 1.5 million
    pairs sample about a million. ``link_only``: EM blocks hold pairs across sources only.
    """
    total = max(records * (records - 1) // 2, 1)
    u_pairs = float(min(total, U_PAIRS))
    linker.training.estimate_u_using_random_sampling(
        max_pairs=u_pairs, seed=seed, min_count_per_level=None if total <= U_PAIRS else 100
    )
    sessions = em_sessions(pairs_by_rule)
    for columns in sessions:
        n = pairs_by_rule.get(",".join(columns), 0)
        rule: Any = block_on(*columns)
        if link_only:
            rule = " AND ".join([*(f"l.{c} = r.{c}" for c in columns), OTHER_SOURCE])
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule,
            estimate_without_term_frequencies=True,
            max_pairs=1e6 if n > 1.5e6 else None,
        )
    return {"u_pairs": u_pairs, "em_sessions": [",".join(c) for c in sessions]}


def smoothed(model: dict[str, Any], u_pairs: float) -> dict[str, Any]:
    """Every level's m at least :data:`M_FLOOR` (renormalised) and u at least 1/(2 × pairs).

    EM drives the m of a level it never sees among matches to 0 and random sampling the u of a
    level it never sees to 0; either makes one comparison decide alone with an infinite weight.
    The floors keep every weight finite (a Laplace-style prior).
    """
    u_floor = 1.0 / (2.0 * max(u_pairs, 1.0))
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        ms = [max(float(lv.get("m_probability") or 0.0), M_FLOOR) for lv in levels]
        total = sum(ms)
        for lv, m in zip(levels, ms, strict=True):
            lv["m_probability"] = m / total
            lv["u_probability"] = max(float(lv.get("u_probability") or 0.0), u_floor)
    return model


def rounded(model: dict[str, Any], digits: int = 10) -> dict[str, Any]:
    """m, u and λ to ``digits`` significant digits, so reruns give byte-identical models."""

    def r(x: Any) -> Any:
        return float(f"{x:.{digits}g}") if isinstance(x, float) else x

    model["probability_two_random_records_match"] = r(model["probability_two_random_records_match"])
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level:
                    level[key] = r(level[key])
    return model


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Per comparison output name: comparison-vector value → the level's label."""
    out: dict[str, dict[int, str]] = {}
    for comparison in model.get("comparisons", []):
        name = comparison["output_column_name"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        n = len(levels)
        out[name] = {
            n - 1 - i: lv.get("label_for_charts") or lv["sql_condition"]
            for i, lv in enumerate(levels)
        }
    return out
