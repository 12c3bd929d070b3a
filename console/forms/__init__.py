"""The console's forms: filing (新申请) and every action of a case.

Every module of this package that has a module-level `router` (an APIRouter without prefix)
is included by console/__init__.py under /console, before the read pages, so a path such as
/console/cases/new is matched here first.
"""
