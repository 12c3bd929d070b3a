"""The caseworkers' web console, served by the API's application under /console.

A layer beside api/ and the CLI: pages call the same service layer as the API (api/case_service,
api/deps' checks, the repositories), never the API over HTTP.

Contract for form pages (console/forms/*.py, each with a module-level `router`):

    from console.render import render
    from console.session import ConsoleFormDep, ConsoleUserDep
    from console.errors import field_errors

    @router.get("/cases/{case_id}/act/survey")
    async def survey_form(request: Request, case_id: str, user: ConsoleUserDep) -> Response:
        return await render(request, "console/forms/survey.html", case_id=case_id)

    @router.post("/cases/{case_id}/act/survey")
    async def survey(request: Request, case_id: str, form: ConsoleFormDep) -> Response:
        # form.actor is the signed-in Actor; form.request_id the page's UUID (use it as the
        # Idempotency-Key / request ID of the service call so a double click acts once);
        # form.get("field") / form.data.getlist("field") read the form.
        try:
            ...  # the service layer call, e.g. api.case_service.run_update(...)
        except HTTPException as exc:
            if exc.status_code != 422:
                raise  # becomes the console's error page with the same status
            return await render(request, "console/forms/survey.html", status_code=422,
                                case_id=case_id, errors=field_errors(exc), values=form.data)
        return RedirectResponse(f"/console/cases/{case_id}", status_code=303)

- `console_user` / `ConsoleUserDep` (GET pages): the signed-in user, else a 303 to the sign-in
  page; `console_actor` / `ConsoleActorDep`: the same as an Actor.
- `console_form` / `ConsoleFormDep` (every POST): signed in, and the hidden `csrf` field
  checked (403 page otherwise, nothing done).
- In a template: `{% import "console/macros.html" as m with context %}`, then inside the
  <form method="post"> `{{ m.hidden() }}` (csrf + request_id) and `{{ m.field("members.0.name",
  "姓名", required=true) }}`; the macro shows `errors[name]` beside the input and refills it
  from `values[name]`. See templates/console/macros.html for select, checkbox and textarea.
- Any HTTPException the service layer raises under /console is shown as an error page in
  Chinese with the same status (console/errors.py); `field_errors(exc)` turns a 422 into
  `{dotted.path: message}`.
- `console.actions.offered_actions(...)` is the one place that decides which actions a user
  is offered on a case; the case page links them to /console/cases/{id}/act/{action}.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI

from console import errors, forms, golive, ops, pages, policy, session, static, supervision

router = APIRouter(prefix="/console", include_in_schema=False)
# Forms first: their fixed paths (/cases/new) before the pages' /cases/{case_id}.
for _info in sorted(pkgutil.iter_modules(forms.__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"console.forms.{_info.name}")
    if isinstance(getattr(_module, "router", None), APIRouter):
        router.include_router(_module.router)
router.include_router(session.router)
router.include_router(static.router)
router.include_router(supervision.router)
router.include_router(ops.router)
router.include_router(policy.router)
router.include_router(golive.router)
router.include_router(pages.router)
router.add_api_route("", pages.inbox, methods=["GET"], include_in_schema=False)


def install(app: FastAPI) -> None:
    """Mount the console on the app and let it answer its own errors as pages."""
    app.include_router(router)
    errors.install(app)
