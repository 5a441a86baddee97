"""Training for keras_resfamily models: tf.distribute strategies, mixed precision, data pipelines, recipes.

Library entry points (imported lazily so `python -m keras_resfamily.training.train` loads its module only once):
`make_config(**fields)`, `prepare(cfg) -> Run` (strategy, datasets, compiled model for your own
`model.fit`), `run_training(cfg) -> report` (what the command line does).
"""

import importlib

from .config import TrainConfig, resolve
from .recipes import RECIPES

_LAZY = {"Run": "Run", "make_config": "make_config", "prepare": "prepare", "run_training": "train"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(".train", __name__), _LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RECIPES", "TrainConfig", "resolve", *_LAZY]
