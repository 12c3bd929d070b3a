"""Pure business rules and value types, shared by workflows, activities and the API.

Nothing in this package does I/O, reads settings or imports Temporal, SQLAlchemy or Jinja.
"""
