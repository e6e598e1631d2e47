"""Programmes (公益创投 calls): budgets by category, caps, the tranche plan, needs and topics,
and the official calendar that publicity counts on."""
