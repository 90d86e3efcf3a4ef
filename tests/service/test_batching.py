"""The coalescer on its own: concurrent calls share batches, keys never mix, errors reach every caller."""

from __future__ import annotations

import threading

import pytest

from verirank.service.batching import Coalescer


def _hammer(coalescer, items, keys=None):
    results, errors = {}, {}

    def call(i):
        try:
            results[i] = coalescer(items[i], key=keys[i] if keys else None)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            errors[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(items))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results, errors


def test_concurrent_calls_run_in_few_batches_with_their_own_results():
    batches = []

    def run(key, items):
        batches.append((key, list(items)))
        return [(key, x * 2) for x in items]

    coalescer = Coalescer(run, "test", max_batch=8, window_ms=30)
    keys = ["a" if i % 3 else "b" for i in range(20)]
    results, errors = _hammer(coalescer, list(range(20)), keys)
    assert not errors and results == {i: (keys[i], 2 * i) for i in range(20)}
    assert len(batches) < 20 and all(len(items) <= 8 for _, items in batches)
    assert all({keys[i] for i in items} == {key} for key, items in batches)


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_runs():
    calls = []

    def run(key, items):
        calls.append(items)
        if len(calls) == 1:
            raise ValueError("model fell over")
        return items

    coalescer = Coalescer(run, "test", max_batch=64, window_ms=50)
    results, errors = _hammer(coalescer, list(range(6)))
    assert errors and all(isinstance(e, ValueError) for e in errors.values())
    assert set(results) | set(errors) == set(range(6))
    assert coalescer(7) == 7


def test_observe_sees_each_batch():
    seen = []
    coalescer = Coalescer(lambda key, items: items, "encode", observe=lambda *a: seen.append(a))
    assert coalescer("x") == "x"
    assert seen[0][:2] == ("encode", 1) and seen[0][2] >= 0


def test_result_count_must_match():
    coalescer = Coalescer(lambda key, items: [], "test")
    with pytest.raises(ValueError):
        coalescer(1)
