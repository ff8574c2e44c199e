"""The `ir` backend: the compiled IR as versioned JSON, plus its JSON Schema, for editors and other tools."""

from __future__ import annotations

import json

from pydantic import BaseModel

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
            "ir/ir.schema.json": schema_text(),
        }


def schema_text() -> str:
    schema = Spec.model_json_schema(by_alias=True)
    schema["$id"] = f"https://streamc.dev/schema/ir-{IR_VERSION}.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"

