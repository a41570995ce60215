"""The demo world: a deterministic generator of a realistic retail bank with known ground truth.

``cxo synth`` writes Parquet (and optionally CSV) in chunks with bounded memory; ``truth/`` holds the
ground truth and ``truth.json`` every parameter used. See ``docs/demo-world.md``.
"""

MAX_CUSTOMERS = 10_000_000
