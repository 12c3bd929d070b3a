"""Rendering of notices, postings and letters from the Jinja2 templates in `templates/`."""
