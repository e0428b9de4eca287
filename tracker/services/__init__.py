"""Use cases. Each write opens and commits its own transaction and writes the audit log."""
