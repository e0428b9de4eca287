"""Blueprints: thin views that parse requests, call services and render."""
