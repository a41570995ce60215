"""Which touchpoint systems know each person, and the record id each system gave them.

Four systems, each with its own records for an overlapping subset of persons:

======== ============================= =====================================================
system   what it is                    who is in it
======== ============================= =====================================================
crm      core banking CRM              every customer (the bank account lives here)
web      web and app accounts          likelier with high tech affinity and youth
cti      call-centre telephony (CTI)   anyone who called and was identified
branch   branch and loyalty programme  likelier with age, affluence and relationship focus
======== ============================= =====================================================

Record ids are opaque (a keyed hash of seed, system and person), so they reveal nothing of the
truth; :func:`record_id` is the one place that makes them, so every generator refers to a person's
record the same way. The core banking system also gives each of its records a customer number
(:func:`customer_number`), which customers quote and the call centre verifies callers against.
"""

from __future__ import annotations

import binascii
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from cxo.synth.contacts import fixed_width_strings
from cxo.synth.context import ChunkContext, Stream, rate

SYSTEMS: Final = ("crm", "web", "cti", "branch")
PREFIX: Final = {"crm": "CB", "web": "WA", "cti": "CC", "branch": "BL"}


class SystemsParams(BaseModel):
    """Coverage of each touchpoint system."""

    web_base: float = rate(0.35, "P(web/app account) at zero tech affinity")
    web_tech: float = rate(0.60, "Added P(web/app) per unit of tech affinity")
    cti_rate: float = rate(0.55, "P(identified in the CTI system)")
    branch_base: float = rate(0.25, "P(branch/loyalty record), base")
    branch_relation: float = rate(
        0.45,
        "Added P(branch/loyalty) per unit of relationship orientation",
    )


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection on uint64 that scatters neighbouring inputs."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_HEX: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_strings(prefix: str, values: np.ndarray, digits: int = 16) -> pa.Array:
    """``prefix`` + the low ``digits`` hex digits of each uint64, as Arrow strings (no Python loop)."""
    v = np.asarray(values, dtype=np.uint64)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    width = head.size + digits
    out = np.empty((v.size, width), dtype=np.uint8)
    out[:, : head.size] = head
    if 0 < digits <= 16:
        # Big-endian bytes, hexlified in C: 16 lower-case hex digits per value; keep the low ones.
        h = binascii.hexlify(v.astype(">u8").tobytes())
        out[:, head.size :] = np.frombuffer(h, dtype=np.uint8).reshape(v.size, 16)[:, 16 - digits :]
    else:
        shifts = np.arange(4 * (digits - 1), -1, -4, dtype=np.uint64)
        out[:, head.size :] = _HEX[(v[:, None] >> shifts) & np.uint64(15)]
    return fixed_width_strings(out.view(f"S{width}").ravel())


def record_id(seed: int, system: str, person_ids: np.ndarray, k: int = 0) -> pa.Array:
    """Opaque, stable record ids: ``CB-1a2b3c4d5e6f7a8b`` (system prefix + 16 hex digits).

    A keyed bijection of the person id, so ids never collide within a (seed, system, k) and reveal
    nothing of the person without the seed.
    """
    salt = np.array([seed, SYSTEMS.index(system), k], dtype=np.uint64)
    key = _mix64(_mix64(_mix64(salt[0:1]) ^ salt[1:2]) ^ salt[2:3])
    with np.errstate(over="ignore"):
        hashed = _mix64(np.asarray(person_ids, dtype=np.uint64) + key)
    return hex_strings(f"{PREFIX[system]}-", hashed)


_CIF_SPACE: Final = 10**9
_LUHN_DOUBLED: Final = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint32)


def customer_number(seed: int, person_ids: np.ndarray, k: np.ndarray | int = 0) -> pa.Array:
    """The core banking customer number (CIF) of a person's ``k``-th CRM record (k = 0 or 1).

    Ten digits: nine from a keyed bijection of ``2 × person_id + k`` on [0, 10⁹) — distinct for
    every record of a world (up to 500 million persons), without a Python loop — and a Luhn check
    digit, as on many banks' customer and account numbers (``0471932865``).
    """
    key = _mix64(np.array([seed, 0x43494621], dtype=np.uint64))
    a = int(key[0] % np.uint64(_CIF_SPACE)) | 1  # odd …
    if a % 5 == 0:  # … and not a multiple of 5: coprime to 10⁹, so x → a·x + b is a bijection
        a += 2
    b = int(key[1] % np.uint64(_CIF_SPACE))
    x = 2 * np.asarray(person_ids, dtype=np.uint64) + np.asarray(k, dtype=np.uint64)
    if x.size and int(x.max()) >= _CIF_SPACE:
        raise ValueError("customer numbers need person ids under 500 million")
    body = (np.uint64(a) * x + np.uint64(b)) % np.uint64(_CIF_SPACE)  # < 10¹⁸: no overflow
    rest = body.astype(np.uint32)  # < 10⁹
    out = np.empty((rest.size, 10), dtype=np.uint8)
    total = np.zeros(rest.size, dtype=np.uint32)
    # Luhn: from the rightmost payload digit leftwards, double every other one (digit sum)
    for j in range(8, -1, -1):  # digits right to left
        d = (rest % np.uint32(10)).astype(np.uint8)
        rest //= np.uint32(10)
        out[:, j] = d + np.uint8(48)
        total += _LUHN_DOUBLED[d] if (8 - j) % 2 == 0 else d
    out[:, 9] = ((10 - total % 10) % 10).astype(np.uint8) + np.uint8(48)
    return fixed_width_strings(out.view("S10").ravel())


def assign(persons: pa.Table, ctx: ChunkContext, params: SystemsParams) -> pa.Table:
    """Add ``crm_id``, ``web_id``, ``cti_id`` and ``branch_id`` (null where the system lacks the person)."""
    rng = ctx.rng(Stream.SYSTEMS)
    n = persons.num_rows
    pid = persons["person_id"].to_numpy()
    tech = persons["tech_affinity"].to_numpy()
    relation = persons["relationship_orientation"].to_numpy()
    p_in = {
        "crm": np.ones(n),
        "web": np.clip(params.web_base + params.web_tech * tech, 0, 1),
        "cti": np.full(n, params.cti_rate),
        "branch": np.clip(params.branch_base + params.branch_relation * relation, 0, 1),
    }
    out = persons
    for system in SYSTEMS:
        member = rng.random(n) < p_in[system]
        ids = record_id(ctx.seed, system, pid)
        out = out.append_column(f"{system}_id", pc.if_else(member, ids, None))
    return out
