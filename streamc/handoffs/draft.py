"""The spec an imported handoff becomes, built block by block and written as .stream text (then formatted)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Draft:
    name: str
    origin: str  # the handoff file, named in the header comment
    kind: str
    notes: list[str] = field(default_factory=list)
    blocks: list[list[str]] = field(default_factory=list)
    expectations: dict[str, list[str]] = field(default_factory=dict)
    model_columns: dict[str, list[str]] = field(default_factory=dict)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def pipeline(self, tier: str, latency: str, schedule: str | None, notes: list[str] = (),
                 extra: list[str] = ()) -> None:
        lines = [f"pipeline {self.name} {{"]
        lines += [f"  # {n}" for n in notes]
        lines += [f"  tier {tier}", f"  latency < {latency}"]
        if schedule:
            lines.append(f"  schedule {schedule}")
        lines += [f"  {e}" for e in extra]
        lines.append("}")
        self.blocks.append(lines)

    def connection(self, name: str, kind: str, settings: dict[str, str], secret: str | None = None,
                   note: str | None = None, role: str | None = None) -> None:
        body = " ".join(f"{k} {v}" for k, v in settings.items())
        if secret:
            body += f" credentials secret {secret}"
        lines = [f"# {note}"] if note else []
        head = f"connection {name} {kind}" + (f" as {role}" if role else "")
        lines.append(f"{head} {{ {body.strip()} }}" if body.strip() else head)
        self.blocks.append(lines)

    def env(self, name: str, settings: list[str]) -> None:
        self.blocks.append([f"env {name} {{ {' '.join(settings)} }}"])

    def source(self, name: str, connection: str, props: list[str], columns: list[tuple[str, str, list[str]]],
               notes: list[str] = ()) -> None:
        lines = [f"# {n}" for n in notes]
        lines.append(f"source {name} from {connection} {{")
        lines += [f"  {p}" for p in props]
        lines += ["", "  columns {"]
        lines += [f"    {c} {t}" + (" " + " ".join(cons) if cons else "") for c, t, cons in columns]
        lines += ["  }", "}"]
        self.blocks.append(lines)

    def model(self, name: str, reads: str, columns: list[str], props: dict[str, str],
              renames: dict[str, str] | None = None) -> None:
        renames = renames or {}
        select = ", ".join(f"{c} as {renames[c]}" if c in renames else c for c in columns)
        lines = [f"model {name} {{"]
        lines += [f"  {k} {v}" for k, v in props.items()]
        lines += ["  sql \"\"\"", f"    select {select}", f"    from {reads}", "  \"\"\"", "}"]
        self.blocks.append(lines)
        self.model_columns[name] = [renames.get(c, c) for c in columns]

    def raw(self, lines: list[str]) -> None:
        self.blocks.append(lines)

    def sink(self, name: str, connection: str, models: list[str] = (), metrics: list[str] = (),
             sources: list[str] = (), extra: list[str] = ()) -> None:
        parts = []
        if models:
            parts.append("models " + ", ".join(models))
        if metrics:
            parts.append("metrics " + ", ".join(metrics))
        if sources:
            parts.append("sources " + ", ".join(sources))
        parts += list(extra)
        self.blocks.append([f"sink {name} to {connection} {{"] + [f"  {p}" for p in parts] + ["}"])

    def expect(self, node: str, check: str, why: str | None = None) -> None:
        entry = self.expectations.setdefault(node, [])
        if why:
            entry.append(f"# {why}")
        entry.append(check)

    def text(self) -> str:
        head = [f"# Imported by `streamc import` from {self.origin} ({self.kind}_HANDOFF).",
                "# Review the lines marked with a comment: they state what the handoff did not say."]
        head += [f"# {n}" for n in self.notes]
        out = head + [""]
        for block in self.blocks:
            out += block + [""]
        for node, checks in self.expectations.items():
            out += [f"expect {node} {{"] + [f"  {c}" for c in checks] + ["}", ""]
        return "\n".join(out).rstrip("\n") + "\n"
