"""Print a Markdown table of a pytest-benchmark JSON file: per group, every benchmark's median
and how many times slower it is than the group's featforge reference.

    pytest bench/ --benchmark-only --benchmark-json=bench.json
    python bench/report.py bench.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def reference(benches: list[dict]) -> dict:
    featforge = [b for b in benches if "featforge" in b["name"]]
    preferred = [b for b in featforge if "xxh3" in b["name"] and "thread" not in b["name"]]
    return (preferred or featforge or benches)[0]


def main(path: str) -> None:
    with open(path) as f:
        data = json.load(f)
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"] or ""].append(bench)
    machine = data["machine_info"]
    cpu = machine.get("cpu", {})
    print(
        f"Machine: {cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} cores; "
        f"Python {machine['python_version']}; {data['datetime'][:10]}"
    )
    for group, benches in sorted(groups.items()):
        ref = reference(benches)
        base = ref["stats"]["median"]
        print(
            f"\n**{group}** (ratio = time / `{ref['name']}`; above 1 means featforge is faster)\n"
        )
        print("| benchmark | median | ratio | notes |")
        print("|---|---:|---:|---|")
        for b in sorted(benches, key=lambda b: b["stats"]["median"]):
            med = b["stats"]["median"]
            extra = ", ".join(
                f"{k} {v:,.3g}" if isinstance(v, float) else f"{k} {v:,}"
                for k, v in b.get("extra_info", {}).items()
            )
            unit = f"{med * 1e3:,.1f} ms" if med < 10 else f"{med:,.2f} s"
            print(f"| `{b['name']}` | {unit} | {med / base:.2f}x | {extra} |")


if __name__ == "__main__":
    main(sys.argv[1])
