"""Benchmarks of the model zoo: parameters, GMACs counted from the graph, speed and memory.

    python -m keras_resfamily.bench --help
"""

from keras_resfamily.bench.macs import count_macs
from keras_resfamily.bench.runner import COLUMNS, BenchConfig, run

__all__ = ["COLUMNS", "BenchConfig", "count_macs", "run"]
