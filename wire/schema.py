"""The protocol's tables as plain JSON: what ``tests/data/schema.json`` holds.

``webui/protocol.js`` must describe exactly the same tables (a node test builds the same
document from the JS side and compares); a pytest checks that the file is current.

    python -m wire.schema > tests/data/schema.json
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

from . import protocol as p


def describe_spec(spec: p.Spec) -> dict[str, Any]:
    """One field's check, as data."""
    if isinstance(spec, p.Str):
        out: dict[str, Any] = {"kind": "str", "max_len": spec.max_len, "min_len": spec.min_len}
        if spec.pattern is not None:
            out["pattern"] = spec.pattern
        if spec.choices is not None:
            out["choices"] = list(spec.choices)
        return out
    if isinstance(spec, p.Int):
        return {"kind": "int", "min": spec.minimum, "max": spec.maximum}
    if isinstance(spec, p.Num):
        return {"kind": "num", "min": spec.minimum, "max": spec.maximum}
    if isinstance(spec, p.Bool):
        return {"kind": "bool"}
    if isinstance(spec, p.Seq):
        return {
            "kind": "seq",
            "item": describe_spec(spec.item),
            "max_items": spec.max_items,
            "unique": spec.unique,
        }
    if isinstance(spec, p.Record):
        return {"kind": "record", "fields": describe_fields(spec.cls)}
    raise TypeError(f"no description for {type(spec).__name__}")


def describe_fields(cls: type[Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        s: p.Spec = f.metadata["spec"]
        optional = isinstance(s, p.Optional)
        inner = s.inner if isinstance(s, p.Optional) else s
        fields[f.name] = {"spec": describe_spec(inner), "optional": optional}
    return fields


def describe_registry(registry: p.Registry) -> dict[str, Any]:
    return {
        "name": registry.name,
        "max_bytes": registry.max_bytes,
        "messages": {name: describe_fields(cls) for name, cls in registry.items()},
    }


def schema() -> dict[str, Any]:
    """Every table of the protocol, in a form both languages can produce."""
    return {
        "protocol_version": p.PROTOCOL_VERSION,
        "modes": list(p.MODES),
        "consent_kinds": list(p.CONSENT_KINDS),
        "capabilities": [
            {
                "name": c.name,
                "modes": list(c.modes),
                "channels": list(c.channels),
                "tracks": list(c.tracks),
                "receives": list(c.receives),
                "consent": c.consent,
                "question": c.question,
                "may_now": c.may_now,
                "operator_name": c.operator_name,
            }
            for c in p.CAPABILITY_TABLE
        ],
        "channels": [
            {
                "label": c.label,
                "ordered": c.ordered,
                "max_retransmits": c.max_retransmits,
                "binary": c.binary,
                "registry": c.registry.name,
                "from_operator": sorted(c.from_operator),
                "from_peer": sorted(c.from_peer),
            }
            for c in p.CHANNELS
        ],
        "registries": [
            describe_registry(r)
            for r in (p.SIGNALING, p.CONTROL, p.INPUT, p.CHAT, p.FILES, p.ANNOTATE)
        ],
        "signaling_from_operator": sorted(p.FROM_OPERATOR),
        "signaling_from_peer": sorted(p.FROM_PEER),
        "error_codes": dict(p.ERROR_CODES),
        "bye_reasons": dict(p.BYE_REASONS),
        "limits": {
            "max_json_depth": p.MAX_JSON_DEPTH,
            "max_clipboard_chars": p.MAX_CLIPBOARD_CHARS,
            "max_chat_chars": p.MAX_CHAT_CHARS,
            "max_chat_codepoints": p.MAX_CHAT_CODEPOINTS,
            "max_capabilities": p.MAX_CAPABILITIES,
        },
    }


def render() -> str:
    return json.dumps(schema(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
