"""A small TOML writer for resolved configs (tomllib reads only).

Handles what a resolved config holds: tables, arrays of tables, strings, numbers, booleans,
lists and inline tables of those. Floats keep their full repr so a round trip is exact.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any


def _value(v: Any, number: Callable[[float], str] = repr) -> str:
    """`v` as TOML; `number` spells a finite float (repr: exact; the docs use fewer digits)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x, number) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x, number)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def dumps(config: dict[str, Any]) -> str:
    """Write a nested dict as TOML; keys starting with '_' are private and skipped."""
    lines: list[str] = []
    for sec, body in config.items():
        if sec.startswith("_"):
            continue
        if isinstance(body, dict):
            lines.append(f"[{_key(sec)}]")
            lines += [f"{_key(k)} = {_value(v)}" for k, v in body.items()]
            lines.append("")
        elif isinstance(body, list) and all(isinstance(x, dict) for x in body):
            for item in body:
                lines.append(f"[[{_key(sec)}]]")
                lines += [f"{_key(k)} = {_value(v)}" for k, v in item.items()]
                lines.append("")
        else:
            lines.insert(0, f"{_key(sec)} = {_value(body)}")
    return "\n".join(lines)
