"""JSON lines in, JSON lines out: the shared loop of `relief_assess` and `relief_major_illness`.

Each non-blank input line is one JSON object; each gives exactly one output line, either the
result or `{"error": "<Chinese message>", "line": n}`, and a bad line never stops the run."""

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

AMOUNT_MAX_FEN = 10**12


class Writer(Protocol):
    def write(self, text: str) -> Any: ...

    def flush(self) -> Any: ...


class BadInput(ValueError):
    pass


def field_int(
    row: Mapping[str, Any],
    name: str,
    label: str,
    *,
    minimum: int = 0,
    maximum: int = AMOUNT_MAX_FEN,
    default: int | None = None,
) -> int:
    if name not in row or row[name] is None:
        if default is not None:
            return default
        raise BadInput("缺少字段 %(name)s（%(label)s）" % {"name": name, "label": label})
    value = row[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("%(label)s（%(name)s）必须是整数（单位：分）" % {"name": name, "label": label})
    if value < minimum or value > maximum:
        raise BadInput(
            "%(label)s（%(name)s）必须在 %(lo)s 到 %(hi)s 之间"
            % {"name": name, "label": label, "lo": minimum, "hi": maximum}
        )
    return value


def field_bool(row: Mapping[str, Any], name: str, label: str) -> bool:
    value = row.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadInput("%(label)s（%(name)s）必须是 true 或 false" % {"name": name, "label": label})
    return value


def run_lines(lines: Iterable[str], out: Writer, evaluate: Callable[[Mapping[str, Any]], dict[str, Any]]) -> int:
    """Evaluate every line; returns how many lines were refused."""
    refused = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise BadInput("每一行必须是一个 JSON 对象")
            result = evaluate(row)
        except json.JSONDecodeError:
            result, refused = {"error": "第 %d 行不是有效的 JSON" % number, "line": number}, refused + 1
        except (BadInput, ValueError) as exc:
            result, refused = {"error": str(exc), "line": number}, refused + 1
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return refused
