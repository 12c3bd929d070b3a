"""HTTP API (FastAPI). Pydantic lives here and only here."""
