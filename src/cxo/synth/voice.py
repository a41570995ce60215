"""Survey responses from a stated structural model, and verbatims in Chinese and English.

The model (all numbers are :class:`VoiceParams` defaults; see ``docs/demo-world.md``):

* Service quality ``SQ`` is a second-order factor over the five SERVQUAL dimensions
  (Parasuraman, Zeithaml & Berry 1988); relationship quality ``RQ`` is a second-order factor over
  trust, benevolence, commitment, satisfaction and affective conflict (Roberts, Varki & Brodie 2003);
  loyalty ``LOY`` is a first-order factor.
* Structural paths, standardised: ``RQ = 0.6 SQ + ζ``, ``LOY = 0.7 RQ + 0.15 SQ + ζ``. Every latent
  variable has unit variance, so these are the standardised coefficients semopy should recover.
* Items are ``μ + σ (λ η + √(1-λ²) ε)``, rounded and clipped to their scale; ``μ`` of the SERVQUAL
  performance items depends on the segment, and importance items come from segment profiles, so
  the true priority list per segment is known (``truth/segment_priorities``).

Only ``ctx.rng(Stream.VOICE)`` is used, and the number of draws does not depend on the data
values, so the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Final, NamedTuple

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from cxo.synth import verbatims
from cxo.synth.context import ChunkContext, Stream, rate
from cxo.synth.people import SEGMENTS

DIMENSIONS: Final = verbatims.DIMENSIONS
DIMENSION_ITEMS: Final[dict[str, tuple[int, ...]]] = {
    "tangibles": (1, 2, 3, 4),
    "reliability": (5, 6, 7, 8, 9),
    "responsiveness": (10, 11, 12, 13),
    "assurance": (14, 15, 16, 17),
    "empathy": (18, 19, 20, 21, 22),
}
RQ_DIMENSIONS: Final = ("trust", "benev", "commit", "sat", "conflict")


class Item(NamedTuple):
    """One survey item: the fixed code contract shared with the instrument library."""

    code: str
    construct: str
    """servqual | rq | loyalty | nps | csat | ces | comment"""
    dimension: str
    scales: tuple[str, ...]
    """importance/performance for SERVQUAL, single otherwise"""
    low: int
    high: int
    en: str
    zh: str


_SQ_WORDING: Final = (
    ("The bank has up-to-date equipment and technology.", "银行的设备和技术是最新的。"),
    ("The branches and app look appealing.", "网点和手机银行的外观吸引人。"),
    ("Staff are well dressed and neat.", "员工穿着得体、整洁。"),
    (
        "Statements, forms and brochures are clear and attractive.",
        "对账单、表格和宣传资料清楚美观。",
    ),
    (
        "When the bank promises to do something by a certain time, it does so.",
        "银行承诺在某个时间完成的事，都能按时完成。",
    ),
    (
        "When I have a problem, the bank shows a sincere interest in solving it.",
        "我遇到问题时，银行真心实意地帮我解决。",
    ),
    ("The bank gets things right the first time.", "银行第一次就把事情办好。"),
    ("The bank delivers its services at the time it promises.", "银行在承诺的时间提供服务。"),
    ("The bank keeps error-free records.", "银行的记录准确无误。"),
    ("Staff tell me exactly when things will be done.", "员工会明确告诉我事情何时办好。"),
    ("Staff give me prompt service.", "员工为我提供迅速的服务。"),
    ("Staff are always willing to help me.", "员工总是愿意帮助我。"),
    ("Staff are never too busy to respond to my requests.", "员工从不因太忙而不回应我的请求。"),
    ("The behaviour of staff instils confidence in me.", "员工的言行让我有信心。"),
    ("I feel safe in my transactions with the bank.", "我在这家银行办理业务感到安全。"),
    ("Staff are consistently courteous with me.", "员工对我始终彬彬有礼。"),
    ("Staff have the knowledge to answer my questions.", "员工有足够的知识回答我的问题。"),
    ("The bank gives me individual attention.", "银行给予我个别的关注。"),
    (
        "The bank has opening hours convenient to all its customers.",
        "银行的营业时间对所有客户都方便。",
    ),
    ("Staff give me personal attention.", "员工给予我个人化的关心。"),
    ("The bank has my best interests at heart.", "银行真心为我的利益着想。"),
    ("Staff understand my specific needs.", "员工了解我的具体需求。"),
)
_RQ_WORDING: Final = {
    "trust": ("The bank is honest with me.", "这家银行对我是真诚的。"),
    "benev": ("The bank cares about my welfare.", "这家银行关心我的利益。"),
    "commit": ("I am committed to my relationship with the bank.", "我愿意维持与这家银行的关系。"),
    "sat": ("I am satisfied with the bank.", "我对这家银行感到满意。"),
    "conflict": ("I feel annoyed with the bank.", "这家银行让我感到烦恼。"),
}


def _build_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for d, numbers in DIMENSION_ITEMS.items():
        for i in numbers:
            en, zh = _SQ_WORDING[i - 1]
            items.append(
                Item(f"sq{i:02d}", "servqual", d, ("importance", "performance"), 1, 7, en, zh)
            )
    for d in RQ_DIMENSIONS:
        en, zh = _RQ_WORDING[d]
        for k in (1, 2, 3):
            items.append(
                Item(f"rq_{d}_{k}", "rq", d, ("single",), 1, 7, f"{en} ({k})", f"{zh}（{k}）")
            )
    for code, en, zh in (
        (
            "loy_repurchase",
            "I will use the bank for my next financial product.",
            "我下次办理金融产品仍会选这家银行。",
        ),
        (
            "loy_recommend",
            "I will say positive things about the bank to others.",
            "我会向别人称赞这家银行。",
        ),
        ("loy_wallet", "I will move more of my money to the bank.", "我会把更多资金放在这家银行。"),
        ("loy_switch", "I am thinking of switching to another bank.", "我在考虑换到别的银行。"),
    ):
        items.append(Item(code, "loyalty", code[4:], ("single",), 1, 7, en, zh))
    items.append(
        Item(
            "nps",
            "nps",
            "",
            ("single",),
            0,
            10,
            "How likely are you to recommend the bank to a friend?",
            "您向朋友推荐这家银行的可能性有多大？",
        )
    )
    items.append(
        Item(
            "csat",
            "csat",
            "",
            ("single",),
            1,
            5,
            "Overall, how satisfied are you with the bank?",
            "总体而言，您对这家银行满意吗？",
        )
    )
    items.append(
        Item(
            "ces",
            "ces",
            "",
            ("single",),
            1,
            7,
            "The bank made it easy for me to get things done.",
            "这家银行让我办事很轻松。",
        )
    )
    items.append(
        Item(
            "comment",
            "comment",
            "",
            ("single",),
            0,
            0,
            "Anything else you would like to tell us?",
            "还有什么想告诉我们的吗？",
        )
    )
    return tuple(items)


ITEMS: Final = _build_items()
"""The instrument: every item code, its construct, scales, range and wording (en, zh_CN)."""
SQ_CODES: Final = tuple(f"sq{i:02d}" for i in range(1, 23))
RQ_CODES: Final = tuple(f"rq_{d}_{k}" for d in RQ_DIMENSIONS for k in (1, 2, 3))
LOY_CODES: Final = ("loy_repurchase", "loy_recommend", "loy_wallet", "loy_switch")

_DEFAULT_IMPORTANCE: Final = {
    "mass": {
        "tangibles": 4.6,
        "reliability": 6.3,
        "responsiveness": 5.7,
        "assurance": 5.4,
        "empathy": 4.8,
    },
    "affluent": {
        "tangibles": 5.0,
        "reliability": 6.1,
        "responsiveness": 5.8,
        "assurance": 6.2,
        "empathy": 5.6,
    },
    "private": {
        "tangibles": 5.4,
        "reliability": 5.9,
        "responsiveness": 6.0,
        "assurance": 6.3,
        "empathy": 6.6,
    },
    "youth": {
        "tangibles": 6.1,
        "reliability": 5.6,
        "responsiveness": 6.4,
        "assurance": 4.8,
        "empathy": 4.5,
    },
    "sme": {
        "tangibles": 4.3,
        "reliability": 6.6,
        "responsiveness": 6.3,
        "assurance": 5.5,
        "empathy": 5.1,
    },
}
_DEFAULT_PERFORMANCE: Final = {
    "mass": {
        "tangibles": 5.4,
        "reliability": 4.9,
        "responsiveness": 4.3,
        "assurance": 5.1,
        "empathy": 4.5,
    },
    "affluent": {
        "tangibles": 5.6,
        "reliability": 5.2,
        "responsiveness": 4.8,
        "assurance": 5.0,
        "empathy": 5.0,
    },
    "private": {
        "tangibles": 5.9,
        "reliability": 5.5,
        "responsiveness": 5.3,
        "assurance": 5.6,
        "empathy": 5.1,
    },
    "youth": {
        "tangibles": 4.6,
        "reliability": 5.0,
        "responsiveness": 4.4,
        "assurance": 5.2,
        "empathy": 4.8,
    },
    "sme": {
        "tangibles": 5.3,
        "reliability": 4.6,
        "responsiveness": 4.5,
        "assurance": 5.2,
        "empathy": 4.7,
    },
}
# Item offsets within a dimension (importance and performance), so item-level priorities differ too.
_ITEM_OFFSET: Final = np.array(
    [
        0.1,
        -0.2,
        -0.4,
        0.2,
        0.3,
        0.0,
        0.2,
        -0.1,
        0.1,
        -0.2,
        0.3,
        0.0,
        -0.1,
        0.1,
        0.3,
        -0.2,
        0.0,
        0.2,
        -0.3,
        0.0,
        0.1,
        -0.1,
    ]
)


class VoiceParams(BaseModel):
    """The structural model, importance profiles, fieldwork rates, missingness and bad responses."""

    invite_rate: float = rate(0.15, "Share of persons invited (once)")
    response_rate: float = rate(
        0.35,
        "Mean P(respond | invited); rises with relationship orientation (×0.6 to ×1.4)",
    )
    comment_rate: float = rate(0.40, "Share of completed responses with a comment")
    sq_to_rq: float = Field(
        default=0.60, ge=-0.95, le=0.95, description="Standardised path SQ → RQ"
    )
    rq_to_loy: float = Field(
        default=0.70, ge=-0.95, le=0.95, description="Standardised path RQ → LOY"
    )
    sq_to_loy: float = Field(
        default=0.15, ge=-0.95, le=0.95, description="Standardised direct path SQ → LOY"
    )
    sq_dimension_loadings: dict[str, float] = Field(
        default={
            "tangibles": 0.60,
            "reliability": 0.85,
            "responsiveness": 0.80,
            "assurance": 0.75,
            "empathy": 0.70,
        },
        description="Standardised loadings of the SERVQUAL dimensions on SQ (second order)",
    )
    rq_dimension_loadings: dict[str, float] = Field(
        default={"trust": 0.85, "benev": 0.80, "commit": 0.70, "sat": 0.90, "conflict": -0.55},
        description="Standardised loadings of the RQ dimensions on RQ (conflict is negative)",
    )
    item_loading: float = Field(
        default=0.80,
        gt=0,
        lt=1,
        description="Standardised loading of every SERVQUAL performance and RQ item on its dimension",
    )
    loyalty_loadings: dict[str, float] = Field(
        default={
            "loy_repurchase": 0.80,
            "loy_recommend": 0.85,
            "loy_wallet": 0.60,
            "loy_switch": -0.65,
        },
        description="Standardised loadings on LOY (switching is reverse-keyed, hence negative)",
    )
    item_sd: float = Field(default=1.2, gt=0, description="SD of a 1–7 item before rounding")
    rq_means: dict[str, float] = Field(
        default={"trust": 5.2, "benev": 4.8, "commit": 4.6, "sat": 5.0, "conflict": 2.8},
        description="Mean of the RQ items (1–7) per dimension",
    )
    loyalty_means: dict[str, float] = Field(
        default={"loy_repurchase": 5.0, "loy_recommend": 4.7, "loy_wallet": 4.0, "loy_switch": 3.0},
        description="Mean of the loyalty items (1–7)",
    )
    nps_mean: float = Field(default=7.0, description="Mean NPS answer (0–10) before rounding")
    nps_sd: float = Field(default=2.2, gt=0, description="SD of the NPS answer; loads 0.85 on LOY")
    csat_mean: float = Field(
        default=3.8, description="Mean CSAT (1–5); loads 0.8 on RQ satisfaction"
    )
    ces_mean: float = Field(
        default=5.0, description="Mean CES 2.0 (1–7, higher = easier); loads 0.7 on responsiveness"
    )
    importance: dict[str, dict[str, float]] = Field(
        default=_DEFAULT_IMPORTANCE,
        description="True importance (1–7, before rounding) per segment and SERVQUAL dimension",
    )
    performance: dict[str, dict[str, float]] = Field(
        default=_DEFAULT_PERFORMANCE,
        description="True performance (1–7, before rounding) per segment and SERVQUAL dimension",
    )
    importance_style_sd: float = Field(
        default=0.7, ge=0, description="SD of a respondent's own level on all importance items"
    )
    importance_noise_sd: float = Field(
        default=0.6, ge=0, description="SD of item noise in importance"
    )
    item_missing_rate: float = Field(
        default=0.02, ge=0, le=0.5, description="P(an item is skipped), MCAR, in clean responses"
    )
    breakoff_rate: float = rate(0.05, "P(the respondent abandons the survey part-way)")
    straight_liner_rate: float = Field(
        default=0.03, ge=0, le=0.5, description="P(one value for every 1–7 grid item)"
    )
    speeder_rate: float = Field(
        default=0.04,
        ge=0,
        le=0.5,
        description="P(speeder: ~1/5 of the usual time, half random answers)",
    )
    duplicate_rate: float = Field(
        default=0.015, ge=0, le=0.5, description="Share of responses submitted a second time"
    )
    median_duration_s: float = Field(default=420.0, gt=0, description="Median time to complete")
    zh_locale_share: dict[str, float] = Field(
        default={"CN": 0.95, "HK": 0.75, "EN": 0.05}, description="P(locale zh_CN) per market"
    )
    mixed_share: float = rate(0.15, "P(a zh_CN comment code-switches with English)")
    typo_rate: float = rate(0.12, "P(a verbatim has a typo)")


def _std_item(rng: np.random.Generator, eta: np.ndarray, loading: np.ndarray | float) -> np.ndarray:
    """Standardised indicator(s) of ``eta`` with the given standardised loading."""
    lam = np.asarray(loading, dtype=float)
    return lam * eta + np.sqrt(1 - lam**2) * rng.standard_normal(eta.shape)


def _discrete(x: np.ndarray, low: int, high: int) -> np.ndarray:
    return np.clip(np.rint(x), low, high)


def expected_discrete(mean: np.ndarray, sd: float, low: int = 1, high: int = 7) -> np.ndarray:
    """E[clip(round(X), low, high)] for X ~ N(mean, sd²): the true mean answer on the scale."""
    from scipy.special import ndtr  # only chunk 0 writes the priorities; scipy is slow to import

    mean = np.asarray(mean, dtype=float)
    total = np.full(mean.shape, float(low))
    for k in range(low + 1, high + 1):
        total += ndtr(-((k - 0.5 - mean) / sd))  # P(answer ≥ k)
    return total


def segment_priorities(params: VoiceParams) -> pa.Table:
    """True importance, performance, gap and rank per segment, item and dimension (rank 1 = fix first)."""
    imp_sd = float(np.hypot(params.importance_style_sd, params.importance_noise_sd))
    rows: dict[str, list] = {
        k: []
        for k in (
            "segment",
            "level",
            "dimension",
            "item_code",
            "importance",
            "performance",
            "gap",
            "rank",
        )
    }
    for seg in SEGMENTS:
        imp_mu, perf_mu = _segment_means(params, seg)
        imp = expected_discrete(imp_mu, imp_sd)
        perf = expected_discrete(perf_mu, params.item_sd)
        gap = imp - perf
        item_rank = np.empty(22, dtype=np.int64)
        item_rank[np.argsort(-gap, kind="stable")] = np.arange(1, 23)
        dims = [d for d, nums in DIMENSION_ITEMS.items() for _ in nums]
        for j in range(22):
            for key, val in zip(
                rows,
                (seg, "item", dims[j], SQ_CODES[j], imp[j], perf[j], gap[j], item_rank[j]),
                strict=True,
            ):
                rows[key].append(val)
        d_imp = np.array([imp[[i - 1 for i in DIMENSION_ITEMS[d]]].mean() for d in DIMENSIONS])
        d_perf = np.array([perf[[i - 1 for i in DIMENSION_ITEMS[d]]].mean() for d in DIMENSIONS])
        d_gap = d_imp - d_perf
        d_rank = np.empty(5, dtype=np.int64)
        d_rank[np.argsort(-d_gap, kind="stable")] = np.arange(1, 6)
        for j, d in enumerate(DIMENSIONS):
            for key, val in zip(
                rows,
                (seg, "dimension", d, None, d_imp[j], d_perf[j], d_gap[j], d_rank[j]),
                strict=True,
            ):
                rows[key].append(val)
    return pa.table(
        {
            "segment": pa.array(rows["segment"], pa.string()),
            "level": pa.array(rows["level"], pa.string()),
            "dimension": pa.array(rows["dimension"], pa.string()),
            "item_code": pa.array(rows["item_code"], pa.string()),
            "importance": pa.array(rows["importance"], pa.float64()),
            "performance": pa.array(rows["performance"], pa.float64()),
            "gap": pa.array(rows["gap"], pa.float64()),
            "rank": pa.array(rows["rank"], pa.int16()),
        }
    )


def _segment_means(params: VoiceParams, segment: str) -> tuple[np.ndarray, np.ndarray]:
    """Importance and performance item means (before rounding) of one segment, items sq01..sq22."""
    dims = [d for d, nums in DIMENSION_ITEMS.items() for _ in nums]
    imp = np.array([params.importance[segment][d] for d in dims]) + _ITEM_OFFSET
    perf = np.array([params.performance[segment][d] for d in dims]) - 0.5 * _ITEM_OFFSET
    return imp, perf


def _ids(seed: int, person_ids: np.ndarray, k: int) -> np.ndarray:
    key = f"{seed}:survey:{k}:".encode()
    return np.array(
        [
            "SV-" + hashlib.blake2b(key + str(int(p)).encode(), digest_size=6).hexdigest()
            for p in person_ids
        ],
        dtype=object,
    )


_UTC_OFFSET_H: Final = {"London": 0, "Singapore": 8, "Sydney": 10}


def generate(persons: pa.Table, ctx: ChunkContext, params: VoiceParams) -> dict[str, pa.Table]:
    """Survey responses, answers, verbatims and their truth for the persons of one chunk."""
    rng = ctx.rng(Stream.VOICE)
    n = persons.num_rows
    relation = persons["relationship_orientation"].to_numpy()
    has_crm = persons["crm_id"].is_valid().to_numpy(zero_copy_only=False).astype(bool)
    invited = (rng.random(n) < params.invite_rate) & has_crm
    p_resp = np.clip(params.response_rate * (0.6 + 0.8 * relation), 0, 1)
    idx = np.flatnonzero(invited & (rng.random(n) < p_resp))
    r = idx.size

    # Only the respondents' values become Python strings (take first).
    take = pa.array(idx, pa.int64())
    seg_names = persons["segment"].take(take).to_numpy(zero_copy_only=False)
    market = persons["market"].take(take).to_numpy(zero_copy_only=False)
    city = persons["city"].take(take).to_numpy(zero_copy_only=False)
    person_id = persons["person_id"].to_numpy()[idx]
    seg = np.array([SEGMENTS.index(s) for s in seg_names], dtype=np.int64)

    # ---- latent variables (standardised) ----
    p = params
    sq = rng.standard_normal(r)
    g = np.array([p.sq_dimension_loadings[d] for d in DIMENSIONS])
    eta_sq = _std_item(rng, np.repeat(sq[:, None], 5, axis=1), g)  # r × 5 SERVQUAL dimensions
    rq = p.sq_to_rq * sq + np.sqrt(1 - p.sq_to_rq**2) * rng.standard_normal(r)
    var_loy = p.rq_to_loy**2 + p.sq_to_loy**2 + 2 * p.rq_to_loy * p.sq_to_loy * p.sq_to_rq
    loy = (
        p.rq_to_loy * rq
        + p.sq_to_loy * sq
        + np.sqrt(max(1 - var_loy, 1e-6)) * rng.standard_normal(r)
    )
    h = np.array([p.rq_dimension_loadings[d] for d in RQ_DIMENSIONS])
    eta_rq = _std_item(rng, np.repeat(rq[:, None], 5, axis=1), h)

    # ---- answers: columns in survey order ----
    sq_dim_of_item = np.array(
        [DIMENSIONS.index(d) for d, nums in DIMENSION_ITEMS.items() for _ in nums]
    )
    means = {s: _segment_means(p, s) for s in SEGMENTS}
    imp_mu = np.stack([means[s][0] for s in SEGMENTS])[seg]  # r × 22
    perf_mu = np.stack([means[s][1] for s in SEGMENTS])[seg]
    lam = p.item_loading
    perf = perf_mu + p.item_sd * _std_item(rng, eta_sq[:, sq_dim_of_item], lam)
    style = p.importance_style_sd * rng.standard_normal((r, 1))
    imp = imp_mu + style + p.importance_noise_sd * rng.standard_normal((r, 22))
    rq_mu = np.repeat([p.rq_means[d] for d in RQ_DIMENSIONS], 3)
    rqi = rq_mu + p.item_sd * _std_item(rng, np.repeat(eta_rq, 3, axis=1), lam)
    loy_lam = np.array([p.loyalty_loadings[c] for c in LOY_CODES])
    loy_mu = np.array([p.loyalty_means[c] for c in LOY_CODES])
    loyi = loy_mu + p.item_sd * _std_item(rng, np.repeat(loy[:, None], 4, axis=1), loy_lam)
    nps = p.nps_mean + p.nps_sd * _std_item(rng, loy, 0.85)
    csat = p.csat_mean + 0.9 * _std_item(rng, eta_rq[:, RQ_DIMENSIONS.index("sat")], 0.8)
    ces = p.ces_mean + p.item_sd * _std_item(
        rng, eta_sq[:, DIMENSIONS.index("responsiveness")], 0.7
    )
    # survey order: nps, csat, ces, performance grid, RQ grid, loyalty grid, importance grid
    codes = ["nps", "csat", "ces", *SQ_CODES, *RQ_CODES, *LOY_CODES, *SQ_CODES]
    scales = ["single"] * 3 + ["performance"] * 22 + ["single"] * 19 + ["importance"] * 22
    low = np.array([0, 1, 1] + [1] * 63)
    high = np.array([10, 5, 7] + [7] * 63)
    values = np.column_stack([nps, csat, ces, perf, rqi, loyi, imp])
    values = np.clip(np.rint(values), low, high)
    k_items = values.shape[1]

    # ---- bad responses ----
    u_bad = rng.random((r, 3))
    straight = u_bad[:, 0] < p.straight_liner_rate
    speeder = (~straight) & (u_bad[:, 1] < p.speeder_rate)
    breakoff = (~straight) & (u_bad[:, 2] < p.breakoff_rate)
    grid = np.flatnonzero(high == 7)
    grid = grid[low[grid] == 1]  # every 1–7 item (CES and the three grids)
    line_value = rng.choice([4, 5, 6, 7, 7, 1], size=r)
    values[np.ix_(straight, grid)] = line_value[straight, None]
    rand_vals = low + np.floor(rng.random((r, k_items)) * (high - low + 1))
    speed_mask = speeder[:, None] & (rng.random((r, k_items)) < 0.5)
    values = np.where(speed_mask, rand_vals, values)
    # ---- missingness: MCAR skips (not straight-liners) and break-off ----
    answered = rng.random((r, k_items)) >= p.item_missing_rate
    answered |= straight[:, None]
    stop_at = rng.integers(3, k_items, size=r)
    answered &= ~(breakoff[:, None] & (np.arange(k_items)[None, :] >= stop_at[:, None]))

    # ---- timing and locale ----
    duration = p.median_duration_s * np.exp(0.35 * rng.standard_normal(r))
    duration = np.where(speeder, duration / 5, duration)
    day = rng.integers(0, ctx.weeks * 7, size=r)
    local_h = np.clip(rng.normal(14.5, 4.0, r), 7, 23.5)
    offset_h = np.array(
        [
            8 if m in ("CN", "HK") else _UTC_OFFSET_H.get(c, 0)
            for m, c in zip(market, city, strict=True)
        ]
    )
    epoch0 = int(dt.datetime.combine(ctx.start, dt.time(), dt.UTC).timestamp())
    started = epoch0 + day * 86_400 + ((local_h - offset_h) * 3600).astype(np.int64)
    started = np.maximum(started, epoch0)  # early local hours in UTC+8/+10 on day one
    completed = started + duration.astype(np.int64)
    zh_share = np.array([p.zh_locale_share.get(m, 0.0) for m in market])
    zh = rng.random(r) < zh_share

    # ---- verbatims ----
    u_v = rng.random((r, 4))
    comments = (~breakoff) & (u_v[:, 0] < p.comment_rate)
    imp_dim = np.stack([[p.importance[s][d] for d in DIMENSIONS] for s in SEGMENTS])[seg]
    weight = imp_dim**2 * (1 + np.abs(eta_sq))
    cum = np.cumsum(weight / weight.sum(axis=1, keepdims=True), axis=1)
    v_dim = np.minimum((u_v[:, 1:2] > cum).sum(axis=1), 4)
    # Sentiment follows the respondent's performance on that dimension (latent + segment level).
    perf_dim = np.stack([[p.performance[s][d] for d in DIMENSIONS] for s in SEGMENTS])[seg]
    score = eta_sq[np.arange(r), v_dim] + (perf_dim[np.arange(r), v_dim] - 5.0) / p.item_sd
    sentiment = np.where(score > 0.4, 2, np.where(score < -0.4, 0, 1))
    lang = np.where(zh, np.where(u_v[:, 2] < p.mixed_share, "mixed", "zh"), "en")
    u_text = rng.random((r, verbatims.N_UNIFORMS))
    text = np.full(r, None, dtype=object)
    for i in np.flatnonzero(comments):
        text[i] = verbatims.compose(
            int(v_dim[i]), verbatims.SENTIMENTS[sentiment[i]], str(lang[i]), u_text[i], p.typo_rate
        )

    # ---- duplicates: some responses submitted twice (identical answers, a new record id) ----
    dup_of = np.flatnonzero(rng.random(r) < p.duplicate_rate)
    dup_delay = rng.integers(5, 600, size=dup_of.size)
    rid = _ids(ctx.seed, person_id, 0)
    rid_dup = _ids(ctx.seed, person_id[dup_of], 1)
    rows = np.concatenate([np.arange(r), dup_of])  # response row → latent row
    is_dup = np.r_[np.zeros(r, bool), np.ones(dup_of.size, bool)]
    all_rid = np.concatenate([rid, rid_dup])
    all_started = np.concatenate([started, started[dup_of] + dup_delay])
    all_completed = np.concatenate([completed, completed[dup_of] + dup_delay])
    order = np.argsort(all_started, kind="stable")
    rows, is_dup, all_rid = rows[order], is_dup[order], all_rid[order]
    all_started, all_completed = all_started[order], all_completed[order]
    # originals hold None, copies the id of the response they copy
    dup_source = np.concatenate([np.full(r, None, object), rid[dup_of]])[order]

    crm_ref = persons["crm_id"].take(take).to_numpy(zero_copy_only=False)[rows]
    ts = pa.timestamp("s", tz="UTC")
    responses = pa.table(
        {
            "source_record_id": pa.array(all_rid, pa.string()),
            "customer_ref": pa.array(crm_ref, pa.string()),
            "locale": pa.array(np.where(zh[rows], "zh_CN", "en"), pa.string()),
            "started_at": pa.array(all_started, ts),
            "completed_at": pa.array(all_completed, ts, mask=breakoff[rows]),
        }
    )
    # ---- answers in long form ----
    mask = answered[rows]
    rr, kk = np.nonzero(mask)
    ans_resp = all_rid[rr]
    ans_code = np.array(codes, dtype=object)[kk]
    ans_scale = np.array(scales, dtype=object)[kk]
    ans_val = values[rows][rr, kk]
    has_text = comments[rows]
    t_idx = np.flatnonzero(has_text)
    # comments go last in each response: append and re-sort stably by response position
    pos = np.concatenate([rr, t_idx])
    order_a = np.argsort(pos, kind="stable")
    answers = pa.table(
        {
            "response_source_record_id": pa.array(
                np.concatenate([ans_resp, all_rid[t_idx]])[order_a], pa.string()
            ),
            "item_code": pa.array(
                np.concatenate([ans_code, np.full(t_idx.size, "comment", object)])[order_a],
                pa.string(),
            ),
            "scale": pa.array(
                np.concatenate([ans_scale, np.full(t_idx.size, "single", object)])[order_a],
                pa.string(),
            ),
            "value_num": pa.array(
                np.concatenate([ans_val, np.full(t_idx.size, np.nan)])[order_a],
                pa.float64(),
                from_pandas=True,
            ),
            "value_text": pa.array(
                np.concatenate([np.full(rr.size, None, object), text[rows][t_idx]])[order_a],
                pa.string(),
            ),
        }
    )
    truth_cols: dict[str, pa.Array] = {
        "source_record_id": pa.array(all_rid, pa.string()),
        "person_id": pa.array(person_id[rows], pa.int64()),
        "segment": pa.array(seg_names[rows], pa.string()),
        "market": pa.array(market[rows], pa.string()),
        "sq": pa.array(sq[rows], pa.float64()),
    }
    for j, d in enumerate(DIMENSIONS):
        truth_cols[f"sq_{d}"] = pa.array(eta_sq[rows, j], pa.float64())
    truth_cols["rq"] = pa.array(rq[rows], pa.float64())
    for j, d in enumerate(RQ_DIMENSIONS):
        truth_cols[f"rq_{d}"] = pa.array(eta_rq[rows, j], pa.float64())
    truth_cols["loyalty"] = pa.array(loy[rows], pa.float64())
    truth_cols["is_straight_liner"] = pa.array(straight[rows], pa.bool_())
    truth_cols["is_speeder"] = pa.array(speeder[rows], pa.bool_())
    truth_cols["is_duplicate"] = pa.array(is_dup, pa.bool_())
    truth_cols["duplicate_of"] = pa.array(dup_source, pa.string())
    truth_cols["is_breakoff"] = pa.array(breakoff[rows], pa.bool_())
    truth_cols["is_bad"] = pa.array(straight[rows] | speeder[rows] | is_dup, pa.bool_())
    truth_cols["items_missing"] = pa.array(k_items - mask.sum(axis=1), pa.int16())
    truth_cols["duration_s"] = pa.array(duration[rows], pa.float64())
    survey_truth = pa.table(truth_cols)

    v_rows = np.flatnonzero(has_text)
    lat = rows[v_rows]
    verbatim_truth = pa.table(
        {
            "source_record_id": pa.array(all_rid[v_rows], pa.string()),
            "text": pa.array(text[lat], pa.string()),
            "language": pa.array(lang[lat], pa.string()),
            "sentiment": pa.array(
                np.array(verbatims.SENTIMENTS, dtype=object)[sentiment[lat]], pa.string()
            ),
            "sentiment_score": pa.array(np.tanh(score[lat]), pa.float64()),
            "dimension": pa.array(np.array(DIMENSIONS, dtype=object)[v_dim[lat]], pa.string()),
        }
    )
    out = {
        "survey_responses": responses,
        "survey_answers": answers,
        "truth/survey_truth": survey_truth,
        "truth/verbatims": verbatim_truth,
    }
    if ctx.chunk_index == 0:  # constant over the world: written once
        out["truth/segment_priorities"] = segment_priorities(params)
    return out
