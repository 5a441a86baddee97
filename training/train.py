"""Training entry points: `python -m keras_resfamily.training.train ...` and the library functions
`prepare` / `train`.

Library use, with your own `model.fit`:

    from keras_resfamily.training import make_config, prepare
    run = prepare(make_config(model="ResNet18", data="digits", epochs=5))
    run.model.fit(run.train_data, epochs=5, steps_per_epoch=run.steps_per_epoch,
                  validation_data=run.val_data)
"""

import dataclasses
import sys
import time

import keras
import tensorflow as tf

import keras_resfamily
from .callbacks import make_callbacks
from .cli import PROG, parse_args
from .config import TrainConfig, resolve, write_config
from .curves import draw_curves
from .data import load_source, make_pipelines
from .keras_compat import patch_for_multi_worker
from .evaluate import evaluation_report, write_report
from .model_setup import build_model, compile_model
from .run_dir import RunPaths, check_run_dir, create_run_dir, write_marker
from .strategy import check_global_batch, env_is_chief, is_chief, make_strategy, split_cpu
from .summary import format_summary


@dataclasses.dataclass
class Run:
    """Everything `model.fit` needs, built under the strategy."""

    cfg: TrainConfig
    strategy: tf.distribute.Strategy
    model: keras.Model
    train_data: object  # distributed dataset of (images, one-hot labels), infinite
    val_data: tf.data.Dataset
    steps_per_epoch: int
    image_size: int
    num_classes: int
    chief: bool


def make_config(config_file=None, **values) -> TrainConfig:
    """TrainConfig from a recipe (values["recipe"]), an optional YAML/JSON file and keyword values."""
    return resolve(values, config_file)


def _configure_process(cfg):
    split_cpu(cfg.cpu_devices)
    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.config.set_dtype_policy(cfg.precision)


def prepare(cfg: TrainConfig) -> Run:
    """Strategy, data pipelines and the compiled model (built inside strategy.scope())."""
    spec = keras_resfamily.get_spec(cfg.model)  # unknown model -> ValueError before any work
    _configure_process(cfg)
    strategy = make_strategy(cfg.strategy, cfg.tpu)
    check_global_batch(cfg.batch_size, strategy)
    source = load_source(cfg)
    pipelines = make_pipelines(cfg, source, spec)
    steps_per_epoch = cfg.steps_per_epoch or source.train.num_examples // cfg.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size={cfg.batch_size} exceeds the {source.train.num_examples} training examples "
                         "of one epoch; lower batch_size or set steps_per_epoch.")
    # One input pipeline per worker, each batching its replicas' share of the global batch.
    train_data = strategy.distribute_datasets_from_function(
        lambda ctx: pipelines.train_dataset(ctx.get_per_replica_batch_size(cfg.batch_size), ctx))
    val_data = pipelines.eval_dataset(cfg.batch_size)
    with strategy.scope():
        model = build_model(cfg, source.num_classes, pipelines.image_size)
        compile_model(model, cfg, steps_per_epoch)
    patch_for_multi_worker(model, strategy)
    return Run(cfg, strategy, model, train_data, val_data, steps_per_epoch, pipelines.image_size,
               source.num_classes, is_chief(strategy))


def fit_verbose(verbose, stream=None):
    """Keras' progress bar redraws its line with backspaces, carriage returns and colour codes even when
    stdout is a pipe or a file; there, verbose 1 becomes one plain line per epoch (verbose 2)."""
    stream = sys.stdout if stream is None else stream
    is_terminal = getattr(stream, "isatty", lambda: False)()
    return 2 if verbose == 1 and not is_terminal else verbose


def train(cfg: TrainConfig) -> dict:
    """Train in cfg.run_dir (resuming from its backup when cfg.resume), evaluate, return the report."""
    # Workers other than the chief never write the run directory, so they skip the check
    # (the chief may already have created it).
    paths = check_run_dir(cfg, enforce=env_is_chief())
    start = time.time()
    run = prepare(cfg)
    create_run_dir(cfg, paths, run.chief)
    if run.chief:
        write_config(cfg, paths.config)
    verbose = fit_verbose(cfg.verbose) if run.chief else 0
    callbacks = make_callbacks(cfg, paths, run.chief)
    history = run.model.fit(
        run.train_data, shuffle=False, epochs=cfg.epochs, steps_per_epoch=run.steps_per_epoch, validation_data=run.val_data,
        validation_steps=cfg.validation_steps, callbacks=callbacks, verbose=verbose,
    )
    report = evaluation_report(run.model, run.val_data, cfg.validation_steps)
    report.update(
        model=cfg.model, data=cfg.data, image_size=run.image_size, replicas=run.strategy.num_replicas_in_sync,
        precision=cfg.precision, epochs=cfg.epochs, epochs_run_now=len(history.epoch),
        optimizer_iterations=int(run.model.optimizer.iterations.numpy()),
        wall_seconds=round(time.time() - start, 2),
    )
    if run.chief:
        report["curves"], error = draw_curves(paths.metrics, paths.curves)  # from metrics.csv: every epoch
        if error:
            report["curves_error"] = error
        write_report(report, paths.report)
        # Last: a later --resume with the same --epochs is told the run is complete.
        write_marker(paths, completed_epochs=callbacks[0].saved_epoch)
    return report


def main(argv=None, prog=PROG):
    """The command line; returns the exit status (2: bad input, with one `error:` line on stderr)."""
    values, config_file = parse_args(argv, prog)
    try:
        cfg = resolve(values, config_file)
        report = train(cfg)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_summary(report, RunPaths(cfg.run_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
