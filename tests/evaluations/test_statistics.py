"""Aggregation against hand-computed values and published textbook examples."""

from __future__ import annotations

import math

import pytest

from evaluations import statistics


def test_trimmed_mean_drops_highest_and_lowest_from_five_sheets() -> None:
    scores = [70.0, 80.0, 85.0, 90.0, 99.0]
    assert statistics.mean(scores) == pytest.approx(84.8)
    assert statistics.trimmed_mean(scores) == pytest.approx(85.0)  # (80 + 85 + 90) / 3


def test_trimmed_mean_keeps_everything_below_five_sheets() -> None:
    scores = [60.0, 80.0, 100.0, 100.0]
    assert statistics.trimmed_mean(scores) == pytest.approx(85.0)


def test_stdev_is_the_sample_standard_deviation() -> None:
    assert statistics.stdev([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(2.13809, abs=1e-5)
    assert statistics.stdev([75.0]) == 0.0


def test_z_scores_by_hand() -> None:
    # A scores 80/90/70 (mean 80, sd 10); B scores 60/64/56 (mean 60, sd 4).
    sheets = [(1, 1, 80.0), (1, 2, 90.0), (1, 3, 70.0), (2, 1, 60.0), (2, 2, 64.0), (2, 3, 56.0)]
    z = statistics.z_scores(sheets)
    assert z[(1, 1)] == pytest.approx(0.0)
    assert z[(1, 2)] == pytest.approx(1.0)
    assert z[(2, 3)] == pytest.approx(-1.0)
    # All totals: mean 70, sample sd sqrt(832 / 5) = 12.8996...
    normalised = statistics.normalised_scores(sheets)
    assert normalised[1] == pytest.approx(70.0)
    assert normalised[2] == pytest.approx(70 + math.sqrt(166.4))
    assert normalised[3] == pytest.approx(70 - math.sqrt(166.4))


def test_an_evaluator_without_spread_gets_z_zero() -> None:
    z = statistics.z_scores([(1, 1, 80.0), (1, 2, 80.0), (2, 1, 95.0)])
    assert set(z.values()) == {0.0}


def test_icc1_against_shrout_and_fleiss_1979() -> None:
    """Shrout & Fleiss (1979), Table 2: six targets, four judges; ICC(1,1) = .17."""
    ratings = [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ]
    groups = [[float(v) for v in row] for row in ratings]
    # BMS = 11.24, WMS = 6.26: (11.24 − 6.26) / (11.24 + 3 × 6.26) = 0.1657
    assert statistics.icc1(groups) == pytest.approx(0.1657, abs=1e-4)
    assert round(statistics.icc1(groups) or 0, 2) == 0.17


def test_icc1_unbalanced_uses_k0() -> None:
    # Groups of 2, 3 and 4: N = 9, k0 = (9 − 29/9) / 2 = 2.8889.
    groups = [[10.0, 12.0], [20.0, 22.0, 24.0], [30.0, 31.0, 29.0, 30.0]]
    # Grand mean 23.111; SSB = 2·(11−23.111)² + 3·(22−23.111)² + 4·(30−23.111)² = 486.89
    # SSW = 2 + 8 + 2 = 12; MSB = 243.44, MSW = 2.0
    k0 = (9 - 29 / 9) / 2
    expected = (243.4444 - 2.0) / (243.4444 + (k0 - 1) * 2.0)
    assert statistics.icc1(groups) == pytest.approx(expected, abs=1e-4)


def test_icc1_undefined_without_two_rated_subjects() -> None:
    assert statistics.icc1([[80.0, 85.0]]) is None
    assert statistics.icc1([[80.0], [85.0]]) is None


def test_krippendorff_alpha_interval_against_krippendorff_2011() -> None:
    """Krippendorff, "Computing Krippendorff's alpha-reliability" (2011), the 4-coder,
    12-unit example with missing values: interval alpha = 0.849."""
    units = [
        [1, 1, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [5, 5, 5],
        [1, 1],
        [3],
    ]
    alpha = statistics.krippendorff_alpha_interval([[float(v) for v in u] for u in units])
    assert alpha is not None
    assert round(alpha, 3) == 0.849


def test_perfect_agreement_gives_alpha_one() -> None:
    assert statistics.krippendorff_alpha_interval([[80.0, 80.0], [60.0, 60.0]]) == pytest.approx(1.0)
