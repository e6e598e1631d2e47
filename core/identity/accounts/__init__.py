"""Account administration: finding accounts, lockouts, one-time password links."""
