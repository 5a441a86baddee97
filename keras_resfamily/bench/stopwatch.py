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


def interleaved(timers, rounds, warmup, settle=0.0):
    """{key: median seconds} of `interleaved_rounds`."""
    rounds_of = interleaved_rounds(timers, rounds, warmup, settle)
    return {key: statistics.median(values) for key, values in rounds_of.items()}


def interleaved_rounds(timers, rounds, warmup, settle=0.0):
    """{key: [seconds of each round]} of `rounds` rounds, each calling every timer once, in turn (drift on a shared
    machine then spreads over all of them instead of favouring whoever ran first).

    A timer times its own call and returns its seconds; `warmup` untimed calls of each timer come first
    (tracing, compilation). `settle`: a pause before each call, so thread pools still spinning from the previous
    call (TF's Eigen pool, torch's OpenMP threads) are idle again when the next one starts.
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f"rounds must be >= 1 and warmup >= 0; received rounds={rounds}, warmup={warmup}.")
    for timer in timers.values():
        for _ in range(warmup):
            timer()
    times = {key: [] for key in timers}
    for _ in range(rounds):
        for key, timer in timers.items():
            time.sleep(settle)
            times[key].append(timer())
    return times


def paired_ratios(numerators, denominators):
    """(median, first quartile, third quartile) of the per-round ratios of two timers' `interleaved_rounds`.

    A ratio within one round compares calls made seconds apart, so load that drifts over the run cancels; the
    ratio of the two medians does not pair them.
    """
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError(f"Paired ratios need two equally long, non-empty series; received {len(numerators)} and "
                         f"{len(denominators)} values.")
    ratios = sorted(n / d for n, d in zip(numerators, denominators))
    if len(ratios) == 1:
        return ratios[0], ratios[0], ratios[0]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return median, q1, q3
