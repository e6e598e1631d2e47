"""Report builders, PDF rendering, schedules, the report archive (SPEC §6)."""
