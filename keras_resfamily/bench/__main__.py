"""Benchmark the model zoo: params, GMACs (counted from the graph), speed, memory; tables and a plot.

    python -m keras_resfamily.bench [--models 'ResNet5*' ResNeSt50 ...] [--batch 4] [--size 224]
        [--precision float32|mixed_bfloat16|mixed_float16] [--runs 3] [--warmup 1] [--threads N]
        [--no-speed] [--xla] [--train graph xla] [--timm] [--keras-applications] [--out bench_results]

Writes OUT/bench.md (all measured columns), OUT/bench.csv (every column), OUT/zoo.md (the README
model-zoo table) and OUT/bench.png (img/s vs params; skipped with a message without matplotlib).
Speed and memory depend on the machine and its load: compare ratios taken in the same run.
"""

import argparse
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_args(argv=None, prog="python -m keras_resfamily.bench"):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["*"], metavar="PATTERN",
                        help="Models to measure: names or case-insensitive shell-style patterns ('ResNe*t50'). "
                             "Default: every registered model.")
    parser.add_argument("--batch", type=int, default=4, help="Images per timed batch. Default: 4.")
    parser.add_argument("--size", type=int, default=None,
                        help="Input size in pixels. Default: each model's default size.")
    parser.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                        help="Keras dtype policy of the measured models. Default: float32.")
    parser.add_argument("--runs", type=int, default=3, help="Timed batches per model; the median is reported. Default: 3.")
    parser.add_argument("--warmup", type=int, default=1,
                        help="Untimed batches before timing (tracing, compilation). Default: 1.")
    parser.add_argument("--threads", type=int, default=0,
                        help="Intra-op threads for TensorFlow and torch; 0 leaves each framework's default (all "
                             "cores). Default: 0.")
    parser.add_argument("--speed", action=argparse.BooleanOptionalAction, default=True,
                        help="Time inference (and memory); --no-speed counts params and GMACs only. Default: on.")
    parser.add_argument("--xla", action=argparse.BooleanOptionalAction, default=False,
                        help="Run inference with jit_compile=True. Default: off (graph mode).")
    parser.add_argument("--train", nargs="*", default=[], choices=["graph", "xla"],
                        help="Also time a training step, in graph mode and/or under XLA. Default: none.")
    parser.add_argument("--timm", action=argparse.BooleanOptionalAction, default=False,
                        help="Measure timm's same models side by side in a separate process (needs torch and "
                             "timm). Default: off.")
    parser.add_argument("--keras-applications", action=argparse.BooleanOptionalAction, default=False,
                        help="Add keras.applications.ResNet50 as a row. Default: off.")
    parser.add_argument("--out", default="bench_results",
                        help="Folder for bench.md, bench.csv, zoo.md and bench.png. Default: bench_results.")
    return parser.parse_args(argv)


def resolve_models(patterns):
    import keras_resfamily as kr

    names = []
    for pattern in patterns:
        matched = kr.list_models(pattern) or ([kr.get_spec(pattern).name] if "*" not in pattern else [])
        if not matched:
            raise ValueError(f"--models pattern {pattern!r} matches no registered model.")
        names += [n for n in matched if n not in names]
    return tuple(names)


def describe(config):
    import keras

    return (f"{platform.machine()} {os.cpu_count()} cores, keras {keras.__version__} ({keras.backend.backend()}), "
            f"batch {config.batch}, {config.precision}, median of {config.runs} runs after {config.warmup} warm-up, "
            f"threads {config.threads or 'default'}, inference XLA {'on' if config.xla_inference else 'off'}")


def main(argv=None, prog="python -m keras_resfamily.bench"):
    from keras_resfamily.bench import reference, report
    from keras_resfamily.bench.runner import BenchConfig, run

    args = parse_args(argv, prog)
    config = BenchConfig(
        models=resolve_models(args.models), batch=args.batch, size=args.size, precision=args.precision,
        warmup=args.warmup, runs=args.runs, threads=args.threads, speed=args.speed, xla_inference=args.xla,
        train=tuple(args.train), timm=args.timm, keras_applications=args.keras_applications,
    )
    if config.timm and not reference.timm_available():
        raise ValueError("--timm needs torch and timm installed (pip install torch timm).")
    rows = run(config)
    os.makedirs(args.out, exist_ok=True)
    setup = describe(config)
    with open(os.path.join(args.out, "bench.md"), "w") as handle:
        handle.write(f"Measured on: {setup}.\n\n" + report.markdown(rows))
    report.write_csv(rows, os.path.join(args.out, "bench.csv"))
    with open(os.path.join(args.out, "zoo.md"), "w") as handle:
        handle.write(report.zoo_markdown(rows))
    print(report.markdown(rows))
    if config.speed:
        if report.plot(rows, os.path.join(args.out, "bench.png"), setup):
            print(f"Plot: {os.path.join(args.out, 'bench.png')}")
        else:
            print("matplotlib is not installed: no plot written (pip install matplotlib).")
    print(f"Wrote {args.out}/bench.md, bench.csv, zoo.md")


if __name__ == "__main__":
    main()
