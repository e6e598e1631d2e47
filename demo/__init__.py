"""The demo street: one centre with organisations, programmes, awards and reports, loaded through the services."""
