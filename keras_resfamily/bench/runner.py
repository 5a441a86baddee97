"""Benchmark rows: one dict per model, with every column of the tables (None where not measured)."""

import dataclasses
import gc
from typing import Optional, Tuple

import numpy as np

from keras_resfamily.bench import reference, timing
from keras_resfamily.bench.macs import count_macs

BASELINE = "ResNet50"
KERAS_APPS_NAME = "keras.applications.ResNet50"
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
COLUMNS = (
    "model", "family", "reference", "input", "params_m", "gmacs", "timm_gmacs", "gmacs_vs_timm",
    "infer_img_s", "speed_vs_resnet50", "peak_mem_mib", "memory_kind", "timm_img_s", "speed_vs_timm",
    "timm_speed_vs_resnet50", "train_img_s", "train_xla_img_s",
)


@dataclasses.dataclass
class BenchConfig:
    models: Tuple[str, ...]
    batch: int = 4
    size: Optional[int] = None  # None: each model's default resolution
    precision: str = "float32"
    warmup: int = 1
    runs: int = 3
    threads: int = 0  # 0: TensorFlow / torch defaults (all cores)
    speed: bool = True
    xla_inference: bool = False
    train: Tuple[str, ...] = ()  # subset of ("graph", "xla")
    timm: bool = False
    keras_applications: bool = False

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}; received {self.precision!r}.")
        if self.batch < 1 or self.runs < 1 or self.warmup < 0 or self.threads < 0:
            raise ValueError(f"batch and runs must be >= 1, warmup and threads >= 0; received batch={self.batch}, "
                             f"runs={self.runs}, warmup={self.warmup}, threads={self.threads}.")
        if self.size is not None and self.size < 32:
            raise ValueError(f"size must be >= 32 or None (default resolution); received {self.size}.")
        if self.timm and self.precision != "float32":
            raise ValueError(f"timm comparisons run in float32; received precision={self.precision!r}.")
        unknown = set(self.train) - {"graph", "xla"}
        if unknown:
            raise ValueError(f"train modes are 'graph' and 'xla'; received {sorted(unknown)}.")


def _gmacs(model, size):
    """GMACs from the traced graph; None on other backends (the count needs a TensorFlow graph)."""
    import keras

    return count_macs(model, size) / 1e9 if keras.backend.backend() == "tensorflow" else None


def trainable_parameters(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


def _measure_keras(model, size, config, row):
    images = timing.synthetic_batch(config.batch, size)
    if config.speed:
        row["infer_img_s"], peak, row["memory_kind"] = timing.inference(
            model, images, config.warmup, config.runs, jit_compile=config.xla_inference)
        row["peak_mem_mib"] = None if peak is None else peak / 2**20
    for mode in config.train:
        column = "train_img_s" if mode == "graph" else "train_xla_img_s"
        row[column] = timing.train_step(model, images, config.warmup, config.runs, jit_compile=mode == "xla")


def _timm_results(config):
    """timm GMACs (and speed) of every benchmarked model with a timm reference, from one worker process.

    Measured before the Keras models: right after TensorFlow has worked, its idle thread pools
    still spin for a while and would slow the worker's first model (timm ResNet50: 9.3 vs 18.5 img/s).
    """
    import keras_resfamily as kr

    specs = [kr.get_spec(name) for name in config.models]
    wanted = [(s.reference, config.size or s.default_size) for s in specs if s.reference]
    threads = config.threads or _default_threads()
    return reference.timm_measurements(wanted, config.batch, config.warmup, config.runs, threads, config.speed)


def _add_timm_columns(rows, results):
    for row in rows:
        result = results.get(row["reference"])
        if result is None:
            continue
        row["timm_gmacs"] = result["gmacs"]
        row["gmacs_vs_timm"] = row["gmacs"] / result["gmacs"] if row["gmacs"] else None
        if result["img_s"] and row["infer_img_s"]:
            row["timm_img_s"] = result["img_s"]
            row["speed_vs_timm"] = row["infer_img_s"] / result["img_s"]


def _default_threads():
    import os

    return len(os.sched_getaffinity(0))


def _measured_row(keras_model, size, config, **identity):
    """One table row: identity columns, params, GMACs and the timings."""
    row = dict.fromkeys(COLUMNS)
    row.update(identity, input=size, params_m=trainable_parameters(keras_model) / 1e6, gmacs=_gmacs(keras_model, size))
    _measure_keras(keras_model, size, config, row)
    return row


def benchmark_model(name, config):
    import keras_resfamily as kr

    spec = kr.get_spec(name)
    size = config.size or spec.default_size
    model = kr.create_model(spec.name, input_shape=(size, size, 3))
    return _measured_row(model, size, config, model=spec.name, family=spec.family, reference=spec.reference)


def benchmark_keras_applications(config):
    size = config.size or 224
    model = reference.keras_applications_resnet50(size)
    return _measured_row(model, size, config, model=KERAS_APPS_NAME, family="ResNet", reference="keras.applications")


def add_ratios(rows):
    """Relative speed against our ResNet50 of the same run (ours and timm's), where it was measured."""
    base = next((r for r in rows if r["model"] == BASELINE), None)
    for row in rows:
        row["speed_vs_resnet50"] = row["timm_speed_vs_resnet50"] = None
        if base and base["infer_img_s"] and row["infer_img_s"]:
            row["speed_vs_resnet50"] = row["infer_img_s"] / base["infer_img_s"]
        if base and base["timm_img_s"] and row["timm_img_s"]:
            row["timm_speed_vs_resnet50"] = row["timm_img_s"] / base["timm_img_s"]
    return rows


def run(config, progress=print):
    """Benchmark every model of `config` (and the keras.applications baseline); returns the rows."""
    import keras

    if config.threads and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.threading.get_intra_op_parallelism_threads() != config.threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(config.threads)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError as error:  # TensorFlow fixes its thread pools when it first runs an op
                raise ValueError(f"threads={config.threads} must be set before TensorFlow runs anything in "
                                 "this process; run the benchmark in a fresh process.") from error
    timm_results = {}
    if config.timm:
        progress("timm (PyTorch) measurements in a worker process ...")
        timm_results = _timm_results(config)
    keras.mixed_precision.set_global_policy(config.precision)
    rows = []
    try:
        for name in config.models:
            rows.append(benchmark_model(name, config))
            _release_models(progress, rows[-1])
        if config.keras_applications:
            rows.append(benchmark_keras_applications(config))
            _release_models(progress, rows[-1])
    finally:
        keras.mixed_precision.set_global_policy("float32")
    _add_timm_columns(rows, timm_results)
    return add_ratios(rows)


def _release_models(progress, row):
    """Report the row, then free the model just measured before the next one is built."""
    import keras

    progress(_progress_line(row))
    keras.backend.clear_session()
    gc.collect()


def _progress_line(row):
    gmacs = "-" if row["gmacs"] is None else f"{row['gmacs']:.3f}"
    parts = [f"{row['model']}: {row['params_m']:.2f}M params, {gmacs} GMACs @ {row['input']}"]
    if row["timm_gmacs"]:
        parts.append(f"timm {row['timm_gmacs']:.3f} GMACs")
    if row["infer_img_s"]:
        parts.append(f"{row['infer_img_s']:.1f} img/s")
    if row["timm_img_s"]:
        parts.append(f"timm {row['timm_img_s']:.1f} img/s")
    for column in ("train_img_s", "train_xla_img_s"):
        if row[column]:
            parts.append(f"{column} {row[column]:.1f}")
    return ", ".join(parts)
