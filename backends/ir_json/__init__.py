"""The `ir` backend: the compiled IR as versioned JSON, plus its JSON Schema, for editors and other tools."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pydantic import BaseModel

import streamc
from streamc.backend_api import Backend
from streamc.features import FEATURES
from streamc.ir import IR_VERSION, Spec


class IrJsonOptions(BaseModel):
    indent: int = 2


class IrJsonBackend(Backend):
    name = "ir"
    description = "the compiled IR as JSON (ir.json) and its JSON Schema"
    options_model = IrJsonOptions
    features = FEATURES  # the IR JSON carries every feature of the spec

    def emit(self, ir: Spec, options: IrJsonOptions) -> dict[str, str]:
        data = ir.model_dump(mode="json", by_alias=True)
        return {
            "ir/ir.json": json.dumps(data, indent=options.indent, sort_keys=True, ensure_ascii=False) + "\n",
            "ir/ir.schema.json": shipped_schema_text(),
        }


SHIPPED_SCHEMA = Path(streamc.__file__).resolve().parent / "schema" / "ir.schema.json"


@functools.cache
def shipped_schema_text() -> str:
    """The JSON Schema shipped in the package (a test keeps it equal to `schema_text()`); reading it is 100x
    cheaper than asking pydantic to generate it on every build."""
    return SHIPPED_SCHEMA.read_text(encoding="utf-8")


def schema_text() -> str:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$id"] = f"https://streamc.dev/schema/ir-{IR_VERSION}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"

