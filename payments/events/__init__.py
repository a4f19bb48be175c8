"""Example events for the payment handlers, as Lambda delivers them (see docs/handlers.md).

Placeholders such as ``${payment_id}`` stand for values only known at run time;
:func:`load_event` fills them in:

```python
from payments.events import load_event

event = load_event("process_capture", payment_id=created["payment"]["payment_id"])
```
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["EVENT_NAMES", "load_event"]

_HERE = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")

EVENT_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in _HERE.glob("*.json")))
"""Every example event's name (its file name without ``.json``)."""


def load_event(name: str, **values: str) -> dict[str, Any]:
    """The example event ``name`` with its ``${...}`` placeholders replaced by ``values``.

    Raises:
        KeyError: ``name`` is not an example event, or a placeholder it has is not given.
    """
    if name not in EVENT_NAMES:
        raise KeyError(f"no example event {name!r} (known: {', '.join(EVENT_NAMES)})")
    text = (_HERE / f"{name}.json").read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"event {name!r} needs {key}=...")
        return json.dumps(values[key])[1:-1]  # escaped for a JSON string (also inside "body")

    event: dict[str, Any] = json.loads(_PLACEHOLDER.sub(fill, text))
    return event
