"""Print a Markdown table of a pytest-benchmark JSON file, as ratios within each group.

    pytest bench --benchmark-only --benchmark-json=bench.json
    python bench/report.py bench.json [--baseline test_polars_int64 ...]

The ratio column is (the group's featforge xxh3 1-thread median) / (this row's median) inverted
so that "x faster than this peer" reads naturally: speedup = peer_median / featforge_median.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    data = json.load(open(path))
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in data["benchmarks"]:
        groups[bench["group"] or ""].append(bench)
    machine = data["machine_info"]
    print(
        f"Machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
        f"{machine.get('cpu', {}).get('count', '?')} cores; Python {machine['python_version']}"
    )
    for group, benches in sorted(groups.items()):
        reference = next(
            (b for b in benches if b["name"].startswith("test_featforge") and "xxh3" in b["name"]),
            None,
        ) or next((b for b in benches if b["name"].startswith("test_featforge")), benches[0])
        ref = reference["stats"]["median"]
        print(f"\n**{group}** (reference: `{reference['name']}`)\n")
        print("| benchmark | median ms | featforge speedup vs this |")
        print("|---|---:|---:|")
        for b in sorted(benches, key=lambda b: b["stats"]["median"]):
            med = b["stats"]["median"]
            print(f"| `{b['name']}` | {med * 1e3:,.1f} | {med / ref:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1])
