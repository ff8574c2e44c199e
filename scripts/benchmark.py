"""Benchmark: streamc build to all backends at N = 10..10,000 nodes vs the stack's import floor and `dbt parse`.

Writes the results table into docs/performance.md (between the BENCHMARK markers). Ratios matter more
than seconds on these noisy machines: each figure is the median of --repeat runs, measured in the same run.

    python scripts/benchmark.py                 # N = 10, 100, 1000, 10000
    python scripts/benchmark.py --sizes 10 100  # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "realtools"))

from generate_spec import generate  # noqa: E402

MEASURE = r"""
import resource, subprocess, sys, time, json
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_kb": usage.ru_maxrss,
                  "rc": proc.returncode, "stderr": proc.stderr[-4000:]}))
"""
LARGE = 10_000
PROFILE_LINE = re.compile(r"^profile: (.+?)\s+([0-9.]+) ms$")


def measure(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True,
                         env=env or os.environ.copy())
    data = json.loads(out.stdout)
    data["phases"] = {m.group(1).strip(): float(m.group(2)) for line in data["stderr"].splitlines()
                      if (m := PROFILE_LINE.match(line))}
    return data


def compile_bytecode() -> None:
    """Compile the environment's modules to bytecode first, as `pip install` does: where
    PYTHONDONTWRITEBYTECODE is set (as on CI machines), every import would otherwise compile source again,
    which inflates the floor and streamc alike."""
    import compileall
    import site
    import streamc

    for folder in [*site.getsitepackages(), str(Path(streamc.__file__).parent)]:
        compileall.compile_dir(folder, quiet=2, workers=0)


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def cache_env(folder: Path) -> dict:
    return dict(os.environ, STREAMC_CACHE_DIR=str(folder))


def checked(run: dict, n: int) -> dict:
    if run["rc"] != 0:
        print(run["stderr"], file=sys.stderr)
        raise SystemExit(f"build of N={n} failed")
    return run


def streamc_exe() -> str:
    exe = Path(sys.executable).parent / "streamc"
    return str(exe) if exe.exists() else "streamc"


def dbt_python() -> Path | None:
    try:
        from toolenv import ensure_env

        sys.path.insert(0, str(ROOT / "tests" / "realtools" / "batch"))
        from requirements import DBT  # type: ignore

        return ensure_env("batch-dbt", list(DBT))
    except Exception as e:  # noqa: BLE001 - the comparison is optional; report why it is missing
        print(f"dbt comparison unavailable: {e}", file=sys.stderr)
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-dbt", action="store_true", help="skip the dbt parse comparison")
    ap.add_argument("--dbt-sizes", type=int, nargs="+", default=[100, 1000, 10000],
                    help="sizes at which `dbt parse` is measured")
    ap.add_argument("--no-write", action="store_true", help="print the table, do not update docs/performance.md")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="streamc-bench-"))
    compile_bytecode()
    floor = [measure([sys.executable, "-c", "import lark, pydantic, networkx, jinja2"]) for _ in range(args.repeat)]
    floor_wall = median_of(floor, "wall")
    typical = []
    for spec in sorted((ROOT / "specs").glob("*.stream")):
        cmd = [streamc_exe(), "build", str(spec), "-o", str(work / "typical" / spec.stem)]
        cold = [measure(cmd, cache_env(work / f"cold-{spec.stem}-{i}")) for i in range(args.repeat)]
        warm = [measure(cmd, cache_env(work / "warm")) for _ in range(args.repeat)]
        typical.append((spec.name, median_of(cold, "wall"), median_of(warm, "wall")))
    dbt_py = None if args.no_dbt else dbt_python()

    rows = []
    for n in args.sizes:
        spec = work / f"bench_{n}.stream"
        spec.write_text(generate(n), encoding="utf-8")
        out = work / f"out_{n}"
        cmd = [streamc_exe(), "build", str(spec), "-o", str(out), "--profile"]
        # cold: an empty black cache (the first build, or any change to a generated module); then warm runs
        cold = checked(measure(cmd, cache_env(work / f"cold-{n}")), n)
        reps = args.repeat if n < LARGE else 1  # a 10,000-node build takes minutes: measured once
        runs = [checked(measure(cmd, cache_env(work / f"cold-{n}")), n) for _ in range(reps)]
        phases: dict[str, float] = {}
        for name in runs[0]["phases"]:
            phases[name] = statistics.median(r["phases"].get(name, 0.0) for r in runs)
        row = {"n": n, "wall": median_of(runs, "wall"), "cpu": median_of(runs, "cpu"), "cold": cold["wall"],
               "cold_black": cold["phases"].get("formatting (black)", 0.0) / 1000,
               "rss_mb": max(r["max_rss_kb"] for r in runs) / 1024, "cold_rss_mb": cold["max_rss_kb"] / 1024,
               "phases": phases, "dbt_parse": None}
        # dbt parses the same project built for DuckDB (the adapter installed in the dbt env); streamc's side of
        # that comparison is building exactly that project
        duck = work / f"out_{n}_duckdb"
        dbt_cmd = [streamc_exe(), "build", str(spec), "-o", str(duck), "--target", "dbt", "--opt",
                   "dbt.target_warehouse=duckdb"]
        row["dbt_build"] = median_of([checked(measure(dbt_cmd), n) for _ in range(reps)], "wall")
        dbt_dir = next(duck.glob("*/dbt"), None)
        if dbt_py is not None and dbt_dir is not None and n in args.dbt_sizes:
            dbt_runs = []
            for _ in range(reps):
                env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="False", DO_NOT_TRACK="1")
                dbt_runs.append(measure([str(dbt_py.parent / "dbt"), "parse", "--no-partial-parse",
                                         "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir)], env=env))
            row["dbt_rc"] = dbt_runs[0]["rc"]
            row["dbt_parse"] = median_of(dbt_runs, "wall") if row["dbt_rc"] == 0 else None
            if row["dbt_rc"] != 0:
                print(f"dbt parse failed for N={n}: {dbt_runs[0]['stderr'][-800:]}", file=sys.stderr)
        rows.append(row)
        print(f"N={n}: cold {row['cold']:.2f}s, warm {row['wall']:.2f}s wall, {row['rss_mb']:.0f} MB", file=sys.stderr)

    table = render(rows, floor_wall, typical)
    print(table)
    if not args.no_write:
        doc = ROOT / "docs" / "performance.md"
        text = doc.read_text(encoding="utf-8")
        start, end = "<!-- BENCHMARK:START -->", "<!-- BENCHMARK:END -->"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        doc.write_text(f"{before}{start}\n{table}{end}{after}", encoding="utf-8")
    return 0


def render(rows: list[dict], floor: float, typical: list[tuple[str, float, float]]) -> str:
    stamp = time.strftime("%Y-%m-%d")
    lines = [f"Measured {stamp} on this project's machine kind ({os.cpu_count()} cores), median of runs; python "
             f"{sys.version.split()[0]}; modules compiled to bytecode first, as `pip install` leaves them.",
             "*Cold*: an empty black cache (first build, or a changed generated module); *warm*: the same build again.",
             "", f"Import floor (`python -c \"import lark, pydantic, networkx, jinja2\"`): {floor:.2f} s", "",
             "| spec (all backends) | cold s | x import floor | warm s | x import floor |", "|---|---:|---:|---:|---:|"]
    for name, cold, warm in typical:
        lines.append(f"| {name} | {cold:.2f} | {cold / floor:.2f} | {warm:.2f} | {warm / floor:.2f} |")
    lines += ["", "| N nodes | cold s (black s) | cold peak MB | warm s | warm cpu s | warm peak MB | warm x previous N "
              "| build dbt only s | dbt parse s | dbt parse / build dbt | dbt parse / warm all |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    prev = None
    for r in rows:
        growth = f"{r['wall'] / prev:.1f}" if prev else "-"
        dbt = f"{r['dbt_parse']:.2f}" if r.get("dbt_parse") else "-"
        ratio = f"{r['dbt_parse'] / r['dbt_build']:.1f}" if r.get("dbt_parse") else "-"
        ratio_all = f"{r['dbt_parse'] / r['wall']:.1f}" if r.get("dbt_parse") else "-"
        lines.append(f"| {r['n']:,} | {r['cold']:.2f} ({r['cold_black']:.2f}) | {r['cold_rss_mb']:.0f} | "
                     f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.0f} | {growth} | {r['dbt_build']:.2f} | {dbt} | "
                     f"{ratio} | {ratio_all} |")
        prev = r["wall"]
    lines += ["", "Phases of the warm build (ms, median), from `streamc build --profile`:", ""]
    names = sorted({p for r in rows for p in r["phases"]})
    lines.append("| phase | " + " | ".join(f"N={r['n']:,}" for r in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    for p in names:
        lines.append(f"| {p} | " + " | ".join(f"{r['phases'].get(p, 0):.0f}" for r in rows) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
