"""Benchmark: CSV export of results with many distinct outcomes (issue 14, item 13).

Run with ``python benchmarks/bench_export.py [--outcomes 10000 100000 1000000]``. Prints only (no assertion):

* the counts of a 24-qubit H circuit (every outcome equally likely), drawn with numpy for ``shots`` =
  the number of outcomes asked for, so that almost every shot is a distinct outcome;
* per size: ``entities_csv`` of the counts and of the distribution, against ``entities_json`` of the same
  entities (the baseline: ``json.dumps``, linear) -- a constant ratio across sizes means linear;
* the column collection the CSV export had before (a list, ``k not in columns``) at the small sizes, against
  the dict it uses now, with its extrapolation to the largest size (quadratic);
* the whole output folder (``Result.export``) at the largest size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUBITS = 24


def result_with_outcomes(n: int, seed: int = 14):
    """The x-gate result with its counts replaced by ``n`` shots of a 24-qubit uniform distribution."""
    import workbench
    from workbench.results.result import Result

    base = workbench.run("x-gate", shots=1, seed=seed)
    values = np.random.default_rng(seed).integers(0, 2**QUBITS, size=n)
    unique, counts = np.unique(values, return_counts=True)
    outcomes = [format(int(v), f"0{QUBITS}b") for v in unique]
    ds = base.dataset.drop_vars(["counts", "outcome", "memory"], errors="ignore")
    ds = ds.assign_coords(outcome=np.array(outcomes, dtype=str))
    ds["counts"] = (("experiment", "outcome"), counts.reshape(1, -1).astype(np.int64))
    return Result(ds)


def quadratic_columns(rows):
    """The column collection of the CSV export before item 13 (for comparison only)."""
    columns = ["ID"]
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def linear_columns(rows):
    columns = dict.fromkeys(["ID"])
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    from workbench.results.exports import count_entities, distribution_entities, entities_csv, entities_json

    print(f"{'outcomes':>10} {'distinct':>9} {'csv counts':>11} {'csv dist':>9} {'json counts':>12} "
          f"{'csv/json':>9} {'csv us/outcome':>15}")
    largest = None
    for n in sorted(args.outcomes):
        result = result_with_outcomes(n)
        counts = count_entities(result)
        dist = distribution_entities(result)
        distinct = len(counts[0]) - 1
        t_csv, _ = timed(entities_csv, counts)
        t_dist, _ = timed(entities_csv, dist)
        t_json, _ = timed(entities_json, counts)
        print(f"{n:>10} {distinct:>9} {t_csv:>10.3f}s {t_dist:>8.3f}s {t_json:>11.3f}s {t_csv / t_json:>9.2f} "
              f"{1e6 * t_csv / distinct:>15.2f}")
        largest = (n, distinct, result)

    print("\ncolumn collection, before (list) and now (dict):")
    for n in (5_000, 10_000, 20_000):
        rows = count_entities(result_with_outcomes(n))
        t_old, old = timed(quadratic_columns, rows)
        t_new, new = timed(linear_columns, rows)
        assert old == new
        print(f"{n:>10} outcomes: before {t_old:8.3f}s  now {t_new:8.5f}s  ratio {t_old / t_new:10.0f}")
    if largest is not None:
        k = len(rows[0]) - 1
        print(f"before, extrapolated (quadratic) to {largest[1]} outcomes: "
              f"{t_old * (largest[1] / k) ** 2:,.0f} s")

        with tempfile.TemporaryDirectory() as tmp:
            t_folder, _ = timed(largest[2].export, Path(tmp) / "out")
        print(f"whole output folder at {largest[1]} outcomes: {t_folder:.2f} s")


if __name__ == "__main__":
    main()
