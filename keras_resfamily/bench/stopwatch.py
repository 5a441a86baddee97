"""Median wall time of a callable: the one timing rule of every benchmark here.

Standard library only, so the timm worker (run by path, without TensorFlow) imports it too.
"""

import statistics
import time


def median_seconds(run, warmup, runs):
    """Median wall time of `run()` over `runs` calls, after `warmup` untimed calls."""
    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be >= 1 and warmup >= 0; received runs={runs}, warmup={warmup}.")
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
