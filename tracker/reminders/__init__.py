"""Reminder templates, channels and delivery: what a message says, how and when it goes out."""
