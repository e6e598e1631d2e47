"""Seedbed's shared kernel: settings, database, identity, audit, money, errors, i18n, files.

Nothing in here imports a domain package or the HTTP layer.
"""
