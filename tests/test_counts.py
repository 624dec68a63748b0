import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from workbench.results.counts import bitstring_counts, distribution


def test_slot_zero_is_rightmost():
    memory = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1]], dtype=np.int8)  # (shots, slots)
    assert bitstring_counts(memory, 3) == {"001": 2, "100": 1}


def test_no_slots_gives_empty_string_with_all_shots():
    assert bitstring_counts(np.zeros((5, 0), dtype=np.int8), 0) == {"": 5}


def test_unwritten_trailing_slots_are_zero_characters():
    memory = np.array([[1, 0]], dtype=np.int8)
    assert bitstring_counts(memory, 2) == {"01": 1}


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=40))
def test_distribution_sums_to_exactly_one_in_listing_order(values):
    counts = {format(i, "08b"): v for i, v in enumerate(values)}
    dist = distribution(counts)
    naive = 0.0
    for v in dist.values():
        naive += v
    assert naive == 1.0
    assert math.fsum(dist.values()) == 1.0
    assert all(0.0 <= v <= 1.0 for v in dist.values())
    total = sum(values)
    for key, v in dist.items():
        assert abs(v - counts[key] / total) <= 64 * math.ulp(1.0)


def test_distribution_of_thirds():
    dist = distribution({"0": 1, "1": 1, "10": 1})
    assert sum(dist.values()) == 1.0


def test_registers_split_with_last_register_leftmost():
    # slots: c[0], c[1] (register c), d[0] (register d)
    memory = np.array([[1, 0, 1], [1, 0, 0]], dtype=np.int8)
    counts = bitstring_counts(memory, 3, (("c", 2), ("d", 1)))
    assert counts == {"1 01": 1, "0 01": 1}


def test_register_sizes_that_do_not_add_up_are_ignored():
    memory = np.array([[1, 0, 1]], dtype=np.int8)
    assert bitstring_counts(memory, 3, (("c", 2),)) == {"101": 1}


def test_counts_of_a_whole_sweep_are_each_experiments_own(monkeypatch):
    """experiment_counts counts experiments of one shape together; dicts and their order (most frequent
    first, then by value) must be each experiment's own, however they are grouped, for one experiment
    alone (bitstring_counts) and beyond the histogram's 12 slots."""
    import workbench.results.counts as counts_module
    from workbench.results.counts import experiment_counts

    rng = np.random.default_rng(4)
    slots = [3, 3, 0, 1, 13, 3, 2, 3, 8, 8]
    cregs = [(), (("c", 2), ("d", 1)), (), (), (), (), (("c", 2),), (), (), (("a", 4), ("b", 4))]
    memory = np.zeros((len(slots), 500, 13), dtype=np.int8)
    for e, m in enumerate(slots):
        memory[e, :, :m] = rng.random((500, m)) < rng.uniform(0.05, 0.5, m)
    expected = [list(_reference_counts(memory[e], m, c).items())
                for e, (m, c) in enumerate(zip(slots, cregs, strict=True))]
    assert [list(bitstring_counts(memory[e], m, c).items())
            for e, (m, c) in enumerate(zip(slots, cregs, strict=True))] == expected
    assert [list(c.items()) for c in experiment_counts(memory, slots, cregs)] == expected
    monkeypatch.setattr(counts_module, "_HISTOGRAM_CELLS", 16)  # two experiments of 3 slots per histogram
    assert [list(c.items()) for c in experiment_counts(memory, slots, cregs)] == expected


def _reference_counts(shots: np.ndarray, slots: int, cregs) -> dict[str, int]:
    """Counted shot by shot in plain Python."""
    from collections import Counter

    from workbench.results.counts import split_registers

    if slots == 0:
        return {"": len(shots)}
    values = Counter(sum(int(b) << i for i, b in enumerate(row[:slots])) for row in shots)
    ranked = sorted(values.items(), key=lambda vc: (-vc[1], vc[0]))
    return {split_registers(format(v, f"0{slots}b"), cregs): c for v, c in ranked}
