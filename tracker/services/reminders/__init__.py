"""Reminders (SPEC §4, §9): who is reminded, settings, runs with claims, inbox, exports."""
