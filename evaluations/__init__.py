"""Rubrics, assignments, conflict declarations, score sheets, aggregation, grades (SPEC §5)."""
