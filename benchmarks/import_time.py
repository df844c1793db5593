"""``import beatapi_async`` vs ``import aiohttp``, as whole fresh processes.

Each statement runs in a new interpreter (``python -c "import X"``), the runs are
interleaved (pass, aiohttp, beatapi_async, rotating), and the median of the bare
interpreter (``python -c pass``) is subtracted: what is left is the import itself.
The ratio ``beatapi_async / aiohttp`` is the figure (aiohttp is the floor: the SDK
imports it). A second measure comes from ``python -X importtime`` (in-process, no
interpreter start-up), which also says which modules beatapi_async adds on top of
aiohttp and which of its own modules cost most.

Bytecode: the children write and read ``.pyc`` files under a private
``PYTHONPYCACHEPREFIX`` (a temporary directory), so both packages are measured with
warm bytecode caches, as installed packages are, and nothing is written in the tree.

Run: ``python benchmarks/import_time.py`` (``--runs``, ``--quick``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from typing import Any

from _common import emit, median, table

STATEMENTS = {"bare interpreter": "pass", "aiohttp": "import aiohttp", "beatapi_async": "import beatapi_async"}
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def child_env(cache_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    for name in [k for k in env if k.startswith("BEATAPI_")]:
        del env[name]  # e.g. BEATAPI_LOG would add logging set-up to the import
    return env


def run_once(statement: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], env=env, check=True)
    return time.perf_counter() - t0


def importtime(statement: str, env: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Module -> (self µs, cumulative µs) from one ``-X importtime`` run."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], env=env, capture_output=True, text=True, check=True
    )
    out = {}
    for line in done.stderr.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(4)] = (int(m.group(1)), int(m.group(2)))
    return out


def package(module: str) -> str:
    top = module.split(".")[0]
    return module if top == "beatapi_async" else top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (7 runs each)")
    parser.add_argument("--runs", type=int, help="processes per statement (default 21, quick 7)")
    args = parser.parse_args()
    runs = args.runs or (7 if args.quick else 21)

    with tempfile.TemporaryDirectory(prefix="beatapi-bench-pycache-") as cache_dir:
        env = child_env(cache_dir)
        for statement in STATEMENTS.values():  # warm: write the bytecode caches, fill the OS page cache
            run_once(statement, env)
            run_once(statement, env)
        walls: dict[str, list[float]] = defaultdict(list)
        names = list(STATEMENTS)
        for r in range(runs):
            for name in names[r % 3 :] + names[: r % 3]:
                walls[name].append(run_once(STATEMENTS[name], env))
        profiles: dict[str, list[dict[str, tuple[int, int]]]] = defaultdict(list)
        for _ in range(max(3, runs // 3)):
            for name in ("aiohttp", "beatapi_async"):
                profiles[name].append(importtime(STATEMENTS[name], env))

    bare = median(walls["bare interpreter"])
    net = {name: median(walls[name]) - bare for name in ("aiohttp", "beatapi_async")}
    # The headline ratio pairs the three processes of each round (same machine load), then
    # takes the median over rounds; the ratio of minimums (least disturbed runs) is a check.
    paired = [
        (b - p) / (a - p)
        for p, a, b in zip(walls["bare interpreter"], walls["aiohttp"], walls["beatapi_async"], strict=True)
    ]
    ratio = median(paired)
    low = {name: min(walls[name]) for name in names}
    min_ratio = (low["beatapi_async"] - low["bare interpreter"]) / (low["aiohttp"] - low["bare interpreter"])
    cumulative = {
        name: median([p[name][1] for p in profiles[name] if name in p]) / 1000 for name in ("aiohttp", "beatapi_async")
    }
    in_process_ratio = cumulative["beatapi_async"] / cumulative["aiohttp"]

    # What beatapi_async adds on top of aiohttp: modules aiohttp's import does not load.
    aiohttp_modules = set().union(*(p.keys() for p in profiles["aiohttp"]))
    extra_self: dict[str, list[float]] = defaultdict(list)
    for p in profiles["beatapi_async"]:
        per_package: dict[str, float] = defaultdict(float)
        for module, (self_us, _cum) in p.items():
            if module not in aiohttp_modules:
                per_package[package(module)] += self_us / 1000
        for pkg, ms in per_package.items():
            extra_self[pkg].append(ms)
    added = sorted(((pkg, median(v)) for pkg, v in extra_self.items()), key=lambda kv: -kv[1])
    own_total = sum(ms for pkg, ms in added if pkg.startswith("beatapi_async"))
    deps_total = sum(ms for pkg, ms in added if not pkg.startswith("beatapi_async"))

    print(table(
        ["process", "median ms", "import ms (minus bare)", "vs aiohttp"],
        [["python -c pass", bare * 1000, "-", "-"],
         ["python -c 'import aiohttp'", median(walls["aiohttp"]) * 1000, net["aiohttp"] * 1000, "1.00x"],
         ["python -c 'import beatapi_async'", median(walls["beatapi_async"]) * 1000, net["beatapi_async"] * 1000,
          f"{ratio:.2f}x"]],
        title=f"Whole fresh processes, {runs} interleaved runs each (warm bytecode caches); "
              "ratio: median of per-round ratios",
    ))  # fmt: skip
    print(
        f"check: ratio of the fastest runs {min_ratio:.2f}x "
        f"(aiohttp {(low['aiohttp'] - low['bare interpreter']) * 1000:.0f} ms, "
        f"beatapi_async {(low['beatapi_async'] - low['bare interpreter']) * 1000:.0f} ms)"
    )
    print()
    print(f"-X importtime (in-process, cumulative): aiohttp {cumulative['aiohttp']:.1f} ms, "
          f"beatapi_async {cumulative['beatapi_async']:.1f} ms -> {in_process_ratio:.2f}x")  # fmt: skip
    print()
    print(table(
        ["added on top of aiohttp (self time)", "ms"],
        [[pkg, ms] for pkg, ms in added[:14]]
        + [["= beatapi_async's own modules", own_total], ["= its other dependencies", deps_total]],
        title="What `import beatapi_async` adds beyond `import aiohttp` (median self time per module/package)",
    ))  # fmt: skip
    lazy_names = ("beatapi_async.testing", "beatapi_async.cli")
    eager = {m for p in profiles["beatapi_async"] for m in p if m.startswith(lazy_names)}
    heavy = {m for p in profiles["beatapi_async"] for m in p if package(m) in ("rich", "click", "pytest")}
    print()
    print(f"lazy imports: emulator/CLI loaded by `import beatapi_async`: {sorted(eager) or 'none'}; "
          f"rich/click/pytest loaded: {sorted(heavy) or 'none'}")  # fmt: skip
    targets = {"import_le_1.35x_aiohttp": ratio <= 1.35, "import_le_1.2x_aiohttp (aim)": ratio <= 1.2,
               "cli_and_emulator_lazy": not eager and not heavy}  # fmt: skip
    print()
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    result: dict[str, Any] = {
        "runs": runs,
        "bare_ms": round(bare * 1000, 1),
        "aiohttp_ms": round(net["aiohttp"] * 1000, 1),
        "beatapi_async_ms": round(net["beatapi_async"] * 1000, 1),
        "ratio": round(ratio, 3),
        "ratio_of_fastest_runs": round(min_ratio, 3),
        "importtime_ms": {k: round(v, 1) for k, v in cumulative.items()},
        "importtime_ratio": round(in_process_ratio, 3),
        "added_ms": {pkg: round(ms, 2) for pkg, ms in added},
        "own_modules_ms": round(own_total, 1),
        "other_dependencies_ms": round(deps_total, 1),
        "targets": targets,
    }
    emit("import_time", result, quick=args.quick)


if __name__ == "__main__":
    main()
