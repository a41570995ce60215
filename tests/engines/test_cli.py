"""`cxo pipeline run`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cxo.engines import cli
from cxo.errors import ConfigError
from cxo.settings import Settings
from tests.engines.data import fill_store, random_interactions, reference_stats

runner = CliRunner()


@pytest.fixture
def cli_store(store: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(cli, "get_settings", lambda: store)
    return store


def test_run_prints_a_summary(cli_store: Settings) -> None:
    data = random_interactions(50, customers=4, seed=5)
    fill_store(cli_store, data)

    result = runner.invoke(cli.app, ["run", "--engine", "duckdb"])

    assert result.exit_code == 0, result.output
    assert "customer_stage_stats" in result.output
    assert "in place" in result.output
    assert f"{len(reference_stats(data))}" in result.output


def test_run_defaults_to_duckdb(cli_store: Settings) -> None:
    result = runner.invoke(cli.app, ["run"])
    assert result.exit_code == 0, result.output
    assert "duckdb" in result.output


def test_errors_reach_the_root_cli_as_cxo_errors(cli_store: Settings) -> None:
    result = runner.invoke(cli.app, ["run", "--engine", "postgres"])
    assert isinstance(result.exception, ConfigError)


def test_unknown_engine_is_a_usage_error(cli_store: Settings) -> None:
    result = runner.invoke(cli.app, ["run", "--engine", "oracle"])
    assert result.exit_code == 2
