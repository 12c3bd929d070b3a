"""The `dibao` command: the office's terminal client, on top of the API (and, for the few
office commands that write PostgreSQL or Temporal directly, on the same sign-in and roles)."""
