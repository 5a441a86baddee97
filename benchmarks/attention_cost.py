"""Inference cost of attention-style ResNets relative to ResNet-50, ours (Keras) and timm (PyTorch).

For every model: images/second at batch 8, float32, CPU, with the same thread count for TensorFlow
and PyTorch, as the median over `--runs` interleaved rounds (each round times one batch of every model,
ours and timm's, in turn, after `--warmup` untimed calls of each); then the cost ratio time(model) /
time(ResNet50) on each side and ours / timm's cost, each the median (and quartiles) of its per-round ratios: calls
made seconds apart share the machine's load of the moment. A name may end in ":deploy" for the inference
form (keras_resfamily.deploy.reparameterize / timm's reparameterize_model).

    python3 benchmarks/attention_cost.py [--models ResNeSt50 SKResNeXt50_32x4d ...] [--size 160]
        [--batch 8] [--runs 5] [--threads N] [--no-timm]

Not a test: numbers depend on the machine and its load.
"""

import argparse
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

# The attention variants, then plain ResNet-D models with the same stems and depths (what the attention adds).
DEFAULT_MODELS = ["ResNeSt50", "SKResNeXt50_32x4d", "Res2Net50_26w_4s", "SEResNet50", "SKResNet50", "ECAResNet50D",
                  "ECAResNet101D", "GCResNet50T", "ResNet50D", "ResNet101D", "RepVGG_B1", "RepVGG_B1:deploy"]
BASELINE = "ResNet50"


def _split(entry):
    name, _, form = entry.partition(":")
    if form not in ("", "deploy"):
        raise ValueError(f"Model entries are NAME or NAME:deploy; received {entry!r}")
    return name, form == "deploy"


def keras_timer(entry, images):
    """A function timing one `predict_on_batch` of our model (or its deploy form)."""
    import keras_resfamily as kr
    from keras_resfamily.bench.stopwatch import median_seconds

    name, deploy = _split(entry)
    model = kr.create_model(name, input_shape=images.shape[1:])
    if deploy:
        model = kr.reparameterize(model)
    return lambda: median_seconds(lambda: model.predict_on_batch(images), 0, 1)


def timm_timer(entry, images):
    """A function timing one eval-mode forward of timm's model (or its deploy form); None without a reference."""
    import timm
    import torch

    import keras_resfamily as kr
    from keras_resfamily.bench.stopwatch import median_seconds

    name, deploy = _split(entry)
    reference = kr.get_spec(name).reference
    if reference is None:
        return None
    model = timm.create_model(reference, pretrained=False).eval()
    if deploy:
        from timm.utils.model import reparameterize_model

        model = reparameterize_model(model)
    batch = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())

    def run():
        with torch.inference_mode():
            model(batch)

    return lambda: median_seconds(run, 0, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up calls of each model first (default 2)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-timm", action="store_true", help="time only the Keras models")
    args = parser.parse_args()
    models = list(dict.fromkeys([BASELINE] + args.models))  # the baseline first, no duplicates

    use_timm = not args.no_timm
    if use_timm:  # torch and timm must be imported before TensorFlow (conflicting bundled runtimes)
        import timm  # noqa: F401
        import torch

        torch.set_num_threads(args.threads)
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from keras_resfamily.bench.stopwatch import interleaved_rounds

    images = np.random.default_rng(0).normal(size=(args.batch, args.size, args.size, 3)).astype("float32")
    print(f"backend={keras.backend.backend()} batch={args.batch} size={args.size} threads={args.threads} "
          f"rounds={args.runs} (median of interleaved rounds, {args.warmup} warm-up calls each excluded)")
    timers = {}
    for entry in models:
        timers[entry, "ours"] = keras_timer(entry, images)
        theirs = timm_timer(entry, images) if use_timm else None
        if theirs is not None:
            timers[entry, "timm"] = theirs
    times = interleaved_rounds(timers, args.runs, args.warmup)
    print(f"{'model':26s} {'keras img/s':>11s} {'x ResNet50 [quartiles]':>23s} {'timm img/s':>11s} "
          f"{'x ResNet50 [quartiles]':>23s} {'ours / timm cost':>23s}")
    for entry in models:
        ours = _side(times, entry, "ours", args.batch)
        if (entry, "timm") in times and (BASELINE, "timm") in times:
            theirs = _side(times, entry, "timm", args.batch)
            relative = _paired(*(_costs(times, entry, side) for side in ("ours", "timm")))
        else:
            theirs, relative = f"{'-':>11s} {'-':>23s}", "-"
        print(f"{entry:26s} {ours} {theirs} {relative:>23s}")


def _costs(times, entry, side):
    """time(entry) / time(ResNet50) in each round."""
    return [t / base for t, base in zip(times[entry, side], times[BASELINE, side])]


def _paired(numerators, denominators):
    """Per-round ratios: median [quartiles]."""
    from keras_resfamily.bench.stopwatch import paired_ratios  # after TensorFlow's import: see main

    median, q1, q3 = paired_ratios(numerators, denominators)
    return f"{median:.3f} [{q1:.3f}-{q3:.3f}]"


def _side(times, entry, side, batch):
    """img/s (median round) and the per-round cost against ResNet50: median [quartiles]."""
    img_s = batch / statistics.median(times[entry, side])
    return f"{img_s:11.1f} {_paired(times[entry, side], times[BASELINE, side]):>23s}"


if __name__ == "__main__":
    main()
