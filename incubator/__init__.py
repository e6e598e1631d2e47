"""Organisations, incubation stays, support activities, capacity assessments (SPEC §3)."""
