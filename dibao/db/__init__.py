"""PostgreSQL: typed models, the engine, and repositories that hold every query."""
