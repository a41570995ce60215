"""The portable analytics seam: one pipeline in Ibis, run on DuckDB (default), PostgreSQL or Spark.

- :mod:`cxo.engines.pipeline`: the pipeline as pure Ibis expressions, and ``run_pipeline``;
- :mod:`cxo.engines.backends`: how each engine is reached and gets its inputs (all dialect
  differences live there);
- :mod:`cxo.engines.models`: the tables the pipeline writes;
- :mod:`cxo.engines.cli`: ``cxo pipeline run --engine duckdb|postgres|spark``.
"""
