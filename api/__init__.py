"""Seedbed's HTTP face: app factory, JSON routers (/api/v1), HTML pages, auth, CLI.

This is the composition root: it alone knows every domain and wires them together.
"""
