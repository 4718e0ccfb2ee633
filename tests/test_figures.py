"""The one definition of the case figures (``cityops/figures.py``): its rates, their
denominators, and the old path that re-exports it. The arithmetic itself is tested on
timelines in ``tests/dispatch/test_metrics.py``."""

from __future__ import annotations

from dataclasses import fields

import pytest

from cityops import figures
from services.dispatch import metrics


def test_every_rate_names_two_counts_of_the_figures() -> None:
    names = {f.name for f in fields(figures.Figures)}
    assert set(figures.RATES) <= names
    for rate in figures.RATES.values():
        assert {rate.numerator, rate.denominator} <= names
        assert rate.numerator in figures.COUNT_NAMES
        assert figures.COUNT_NAMES[rate.denominator] == rate.denominator_name


def test_closure_rates_divide_by_due_not_by_registered() -> None:
    for name in ("close_rate", "on_time_rate"):
        assert figures.RATES[name].denominator == "due"
        assert figures.RATES[name].denominator_name == "应结案数"


def test_a_rate_over_many_parts_is_a_ratio_of_sums_not_a_mean_of_rates() -> None:
    towns = [
        {"closed_on_time": 1, "due": 1},  # 100%
        {"closed_on_time": 1, "due": 9},  # 11%
    ]
    assert figures.combined_rate("on_time_rate", towns) == pytest.approx(2 / 10)
    assert figures.combined_rate("on_time_rate", []) is None
    assert figures.combined_rate("return_rate", [{"returned": None, "dispatched": 0}]) is None


def test_every_stage_has_a_name() -> None:
    assert set(figures.STAGE_NAMES) == set(figures.STAGES)


def test_the_old_path_is_the_same_definition() -> None:
    for name in metrics.__all__:
        assert getattr(metrics, name) is getattr(figures, name)


def test_the_public_surface_is_explicit() -> None:
    assert all(hasattr(figures, name) for name in figures.__all__)
    assert {"RATES", "COUNT_NAMES", "STAGE_NAMES", "combined_rate", "compute"} <= set(
        figures.__all__
    )
