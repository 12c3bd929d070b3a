"""Temporal workflows. They only orchestrate: no I/O, no settings, no database, no templates."""
