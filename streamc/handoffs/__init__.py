"""Incoming handoffs (SCHEMA / PULSE / BUILDER_TO_STREAM YAML) read into .stream specs by `streamc import`."""

from . import builder_handoff, pulse_handoff, schema_handoff

__all__ = ["builder_handoff", "pulse_handoff", "schema_handoff"]
