"""OpenAPI examples, taken from the walkthrough's sample household so the two never drift."""

from __future__ import annotations

import json
from typing import Any

from dibao.settings import PROJECT_ROOT

_SAMPLE_PATH = PROJECT_ROOT / "examples" / "household.json"

SAMPLE_APPLICATION: dict[str, Any] = {
    "household": {
        "summary": "Rural household of three; two materials still missing",
        "value": json.loads(_SAMPLE_PATH.read_text(encoding="utf-8")),
    }
}
