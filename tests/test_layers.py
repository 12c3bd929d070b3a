"""The layers of README "Layout", enforced by `lint-imports` (pyproject [tool.importlinter]) in
`make lint`: each layer imports only from those below it, the domain from nothing of the
project. An import that runs back up fails the check."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from dibao.settings import PROJECT_ROOT

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ("dibao", "api", "cli", "console", "workflows", "activities")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_of_the_project(target: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_code_keeps_its_layers() -> None:
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_domain_importing_a_repository_breaks_the_layers(tmp_path: Path) -> None:
    root = copy_of_the_project(tmp_path)
    with (root / "dibao" / "domain" / "enums.py").open("a", encoding="utf-8") as module:
        module.write("\nimport dibao.db.cases_repo  # noqa: E402\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "dibao.domain.enums -> dibao.db.cases_repo" in result.stdout


def test_a_repository_importing_the_api_breaks_the_layers(tmp_path: Path) -> None:
    root = copy_of_the_project(tmp_path)
    with (root / "dibao" / "db" / "cases_repo.py").open("a", encoding="utf-8") as module:
        module.write("\nimport api.deps  # noqa: E402\n")
    result = lint_imports(root)
    assert result.returncode != 0
    assert "dibao.db.cases_repo -> api.deps" in result.stdout


def test_nothing_below_the_cli_imports_the_worker() -> None:
    # worker.py is a module outside the packages lint-imports maps: it composes the workflows
    # and activities (`dibao worker` runs it), so an import of it from below would run back up
    # unseen.
    importers = []
    for package in ("dibao", "api", "workflows", "activities"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                if any(name == "worker" or name.startswith("worker.") for name in names):
                    importers.append(str(path.relative_to(PROJECT_ROOT)))
    assert importers == []
