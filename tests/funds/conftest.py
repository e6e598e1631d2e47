"""The report fixtures (one PDF renderer pool, a store per test) for the fund statement tests."""

from tests.reports.conftest import output, renderer

__all__ = ["output", "renderer"]
