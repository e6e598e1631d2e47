"""Aggregation of scores: means, spread, per-evaluator normalisation, agreement.

Scores are not money: these functions work in float and the callers round what they
store or answer (two decimals for scores, three for agreement figures).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

TRIM_FROM = 5
"""With at least this many sheets, the trimmed mean drops one highest and one lowest."""


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def trimmed_mean(values: Sequence[float]) -> float:
    """Drop the single highest and lowest score when there are at least five; else the mean."""
    if len(values) < TRIM_FROM:
        return mean(values)
    ordered = sorted(values)
    return mean(ordered[1:-1])


def stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n − 1); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    centre = mean(values)
    return math.sqrt(math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1))


def spread(values: Sequence[float]) -> float:
    """Highest minus lowest score: what "evaluators disagree by N points" means to staff."""
    return max(values) - min(values) if values else 0.0


def z_scores(
    sheets: Sequence[tuple[int, int, float]],
) -> dict[tuple[int, int], float]:
    """Per-evaluator z-scores: ``{(evaluator, subject): z}`` from ``(evaluator, subject, total)``.

    z = (score − the evaluator's mean over the round) / the evaluator's sample sd. An
    evaluator with a single sheet or identical scores has no spread to normalise by:
    their sheets get z = 0 (they neither lift nor sink anyone relative to their peers).
    """
    by_evaluator: dict[int, list[float]] = {}
    for evaluator, _subject, total in sheets:
        by_evaluator.setdefault(evaluator, []).append(total)
    moments = {e: (mean(v), stdev(v)) for e, v in by_evaluator.items()}
    result: dict[tuple[int, int], float] = {}
    for evaluator, subject, total in sheets:
        centre, sd = moments[evaluator]
        result[(evaluator, subject)] = (total - centre) / sd if sd > 0 else 0.0
    return result


def normalised_scores(sheets: Sequence[tuple[int, int, float]]) -> dict[int, float]:
    """Per subject, the mean z-score mapped back onto the panel's scale.

    normalised = mean of all totals + (mean z of the subject) · sd of all totals, so a
    subject scored by a harsh evaluator is not ranked below one scored by a lenient one,
    while the number still reads like a score out of 100.
    """
    if not sheets:
        return {}
    totals = [total for _e, _s, total in sheets]
    overall_mean, overall_sd = mean(totals), stdev(totals)
    z = z_scores(sheets)
    per_subject: dict[int, list[float]] = {}
    for (_evaluator, subject), value in z.items():
        per_subject.setdefault(subject, []).append(value)
    return {subject: overall_mean + mean(values) * overall_sd for subject, values in per_subject.items()}


def icc1(groups: Sequence[Sequence[float]]) -> float | None:
    """ICC(1): one-way random effects, single rater, for unbalanced panels.

    Subjects are the groups, each sheet one rating. With unequal group sizes the
    average group size is replaced by k0 = (N − Σnᵢ²/N)/(g − 1) (Snedecor & Cochran):
    ICC(1) = (MSB − MSW) / (MSB + (k0 − 1)·MSW). ``None`` when it is undefined (fewer than
    two subjects with at least two ratings, or no variation at all).
    """
    usable = [list(g) for g in groups if len(g) >= 2]
    g = len(usable)
    n_total = sum(len(x) for x in usable)
    if g < 2 or n_total <= g:
        return None
    grand = mean([v for x in usable for v in x])
    ssb = math.fsum(len(x) * (mean(x) - grand) ** 2 for x in usable)
    ssw = math.fsum((v - mean(x)) ** 2 for x in usable for v in x)
    msb = ssb / (g - 1)
    msw = ssw / (n_total - g)
    k0 = (n_total - math.fsum(len(x) ** 2 for x in usable) / n_total) / (g - 1)
    denominator = msb + (k0 - 1) * msw
    if denominator == 0:
        return None
    return (msb - msw) / denominator


def krippendorff_alpha_interval(units: Sequence[Sequence[float]]) -> float | None:
    """Krippendorff's alpha with the interval metric; units may have missing values.

    Each unit lists the values it received (any number of coders). Only units with at
    least two values are pairable. alpha = 1 − Do/De with the squared-difference metric.
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    if n < 2:
        return None
    observed = 0.0
    for unit in pairable:
        within = math.fsum((a - b) ** 2 for i, a in enumerate(unit) for j, b in enumerate(unit) if i != j)
        observed += within / (len(unit) - 1)
    observed /= n
    # Σ over ordered pairs of (a−b)² = 2·(n·Σv² − (Σv)²), computed without an n² loop.
    total, squares = math.fsum(values), math.fsum(v * v for v in values)
    expected = 2 * (n * squares - total * total) / (n * (n - 1))
    if expected <= 0:
        return None
    return 1 - observed / expected


def group_by_subject(sheets: Sequence[tuple[int, int, float]]) -> Mapping[int, list[float]]:
    groups: dict[int, list[float]] = {}
    for _evaluator, subject, total in sheets:
        groups.setdefault(subject, []).append(total)
    return groups
