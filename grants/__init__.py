"""Programmes, applications, awards, tranches & disbursements, purchased-service contracts (SPEC §4)."""
