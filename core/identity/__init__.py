"""Centres (tenants), users, roles, tokens and the principal every request acts as."""
