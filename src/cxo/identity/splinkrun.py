"""One Splink linker over the prepared feature table, on DuckDB or Spark.

The model dict cxo keeps is always the DuckDB rendering of the settings with trained m/u and λ;
on Spark the same comparisons are rendered in Spark SQL and the trained parameters copied over
level by level (:func:`with_parameters`), so one model serves both engines.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any, Final

import duckdb
import pyarrow as pa

from cxo.identity import cluster as cl
from cxo.identity import model as mdl

_PARAMETER_KEYS: Final = ("m_probability", "u_probability", "tf_minimum_u_value")


def with_parameters(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """``target`` settings with λ and every level's m and u taken from ``source``."""
    out = copy.deepcopy(target)
    out["probability_two_random_records_match"] = source["probability_two_random_records_match"]
    src = {c["output_column_name"]: c for c in source["comparisons"]}
    for comparison in out["comparisons"]:
        levels = src[comparison["output_column_name"]]["comparison_levels"]
        if len(levels) != len(comparison["comparison_levels"]):
            raise ValueError("the model's comparisons do not match this version's settings")
        for mine, theirs in zip(comparison["comparison_levels"], levels, strict=True):
            for key in _PARAMETER_KEYS:
                if key in theirs:
                    mine[key] = theirs[key]
    return out


def _spark_session(spark: Any) -> Any:
    if spark is not None:
        return spark
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    from cxo.engines.backends import spark_session
    from cxo.settings import get_settings

    return spark_session(get_settings())


def _ensure_similarity_jar(spark: Any) -> None:
    """Put Splink's string-similarity UDF jar (jaro_winkler …) on a running session's classpath.

    Splink expects the jar in ``spark.jars`` when the session is built; cxo's session (or the
    caller's) may predate that, so add it to the executors and to the driver's class loader.
    """
    from splink.backends.spark import similarity_jar_location

    jar = similarity_jar_location()
    conf = spark.sparkContext.getConf().get("spark.jars", "") or ""
    if jar in conf:
        return
    spark.sparkContext._jsc.addJar(jar)
    jvm = spark.sparkContext._jvm
    loader = jvm.Thread.currentThread().getContextClassLoader()
    with contextlib.suppress(Exception):  # a cluster's loader may refuse: Splink then warns
        loader.addURL(jvm.java.io.File(jar).toURI().toURL())


class SplinkRun:
    """Splink on the table ``table`` of ``con`` (columns: record_pk + model + blocking)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        *,
        engine: str,
        spark: Any = None,
        link_only: bool = False,
    ) -> None:
        self.con = con
        self.table = table
        self.engine = engine
        self.link_only = link_only
        self.model: dict[str, Any] = {}
        self._linker: Any = None
        self._tables: dict[str, Any] = {}
        columns = ["record_pk", *mdl.MODEL_COLUMNS, *mdl.BLOCKING_COLUMNS]
        extra = [c for c in self._columns(table) if c.startswith("tf_")]
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW splink_in AS SELECT {', '.join(columns + extra)} "  # noqa: S608
            f"FROM {table}"
        )
        if engine == "duckdb":
            from splink import DuckDBAPI

            self.db_api: Any = DuckDBAPI(connection=con)
        else:
            from splink import SparkAPI

            self.spark = _spark_session(spark)
            _ensure_similarity_jar(self.spark)
            self.db_api = SparkAPI(
                spark_session=self.spark,
                num_partitions_on_repartition=4,
                break_lineage_method="persist",
            )

    def _columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.sql(f"DESCRIBE {table}").fetchall()]

    def _register(self, view: str) -> Any:
        if view in self._tables:
            return self._tables[view]
        if self.engine == "duckdb":
            sdf = self.db_api.register(view)
        else:
            arrow = self.con.sql(f"SELECT * FROM {view}").to_arrow_table()  # noqa: S608
            frame = self.spark.createDataFrame(arrow)
            sdf = self.db_api.register(frame)
        self._tables[view] = sdf
        return sdf

    def _settings(self, threshold: float) -> dict[str, Any]:
        return mdl.base_settings(threshold, dialect=self.engine, link_only=self.link_only)

    def _linker_for(self, settings: dict[str, Any]) -> Any:
        from splink import Linker

        logging.getLogger("splink").setLevel(mdl.LOG_LEVEL)
        return Linker(
            self._register("splink_in"), mdl.splink_settings(settings), log_level=mdl.LOG_LEVEL
        )

    def train(
        self,
        *,
        records: int,
        pairs_by_rule: dict[str, int],
        deterministic_pairs: int,
        exact_pairs: int,
        threshold: float,
        total_pairs: int | None = None,
    ) -> dict[str, Any]:
        """Train a new model on the table; returns what was done."""
        settings = self._settings(threshold)
        settings["probability_two_random_records_match"] = mdl.prior(
            records, deterministic_pairs, exact_pairs, total_pairs
        )
        linker = self._linker_for(settings)
        done = mdl.train(
            linker, records=records, pairs_by_rule=pairs_by_rule, link_only=self.link_only
        )
        trained = mdl.smoothed(linker.misc.save_model_to_json(), done["u_pairs"])
        canonical = mdl.base_settings(threshold, dialect="duckdb", link_only=self.link_only)
        self.model = mdl.rounded(with_parameters(canonical, trained))
        self.model["cxo"] = canonical["cxo"]
        self._linker = self._linker_for(with_parameters(settings, self.model))
        return done | {"lambda": self.model["probability_two_random_records_match"]}

    def use(self, model: dict[str, Any]) -> dict[str, Any]:
        """Use a trained model (from an earlier run) as it is."""
        entry = mdl.cxo_entry(model)
        threshold = float(entry["threshold_match_probability"])
        self.link_only = bool(entry.get("link_only", False))
        self.model = copy.deepcopy(model)
        self._linker = self._linker_for(with_parameters(self._settings(threshold), model))
        return {"lambda": model.get("probability_two_random_records_match"), "reused": True}

    def register_tf(self, tables: dict[str, str]) -> None:
        """Use precomputed term-frequency lookups (column → table of value, tf_<column>)."""
        for column, table in tables.items():
            sdf = self._register(table)
            self._linker.table_management.register_term_frequency_lookup(sdf, column)

    def _edges(self, predictions: Any) -> pa.Table:
        """Scored pairs as (a < b, rank, weight, match_probability, gamma_*/mw_* columns)."""
        if self.engine == "duckdb":
            # only the columns kept below: the records' own values (lists among them) stay in DuckDB
            name = predictions.physical_name
            wanted = [
                c
                for c in self._columns(name)
                if c.startswith(("gamma_", "mw_"))
                or c in ("record_pk_l", "record_pk_r", "match_weight", "match_probability")
            ]
            raw = self.con.sql(f"SELECT {', '.join(wanted)} FROM {name}").to_arrow_table()  # noqa: S608
        else:
            raw = pa.Table.from_pandas(predictions.as_pandas_dataframe(), preserve_index=False)
        keep = [c for c in raw.column_names if c.startswith(("gamma_", "mw_"))]
        self.con.register(
            "cxo_pred",
            raw.select(["record_pk_l", "record_pk_r", "match_weight", "match_probability", *keep]),
        )
        table = self.con.sql(
            "SELECT least(record_pk_l, record_pk_r) AS a, greatest(record_pk_l, record_pk_r) AS b, "  # noqa: S608
            f"CAST({cl.RANK_PROBABILISTIC} AS TINYINT) AS rank, "
            "CAST(match_weight AS DOUBLE) AS weight, CAST(match_probability AS DOUBLE) AS "
            "match_probability, " + ", ".join(keep or ["NULL AS none"]) + " FROM cxo_pred "
            "ORDER BY a, b"
        ).to_arrow_table()
        self.con.unregister("cxo_pred")
        return table

    def predict(self, threshold: float) -> pa.Table:
        """All blocked pairs scored, those at or above ``threshold`` returned."""
        predictions = self._linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        return self._edges(predictions)

    def predict_between(self, new_view: str, existing_view: str, threshold: float) -> pa.Table:
        """New × existing and new × new pairs (no existing × existing), scored."""
        new = self._register(new_view)
        existing = self._register(existing_view)
        inference = self._linker.inference
        between = inference.predict_between(
            new, existing, threshold_match_probability=threshold, warning_mode="never"
        )
        within = inference.predict_within(
            new, threshold_match_probability=threshold, warning_mode="never"
        )
        parts = [self._edges(between), self._edges(within)]
        return pa.concat_tables(parts, promote_options="permissive")

    def close(self) -> None:
        self._linker = None
        self._tables.clear()
