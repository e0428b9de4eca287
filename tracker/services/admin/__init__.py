"""Administration use cases: the unit tree, members, period locks (each audited)."""
