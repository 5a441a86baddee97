"""Peak memory and step time of one training step with and without gradient checkpointing (`remat=True`).

For every model and each setting remat=False / remat=True, a fresh Python process builds the model
(float32, CPU, random weights), compiles it with SGD and runs a warm-up step (which traces the
tf.function train step: `train_on_batch`, the step `model.fit` runs), then one measured step. It reports:

    peak MiB: the peak resident set size during the measured step (Linux VmHWM, reset after the warm-up
        through /proc/self/clear_refs) minus the resident set size before the model was built: the
        memory the model, its optimizer and the step add to the process. Resetting the peak leaves
        the warm-up's one-off tracing memory out; where the reset is refused the peak of the whole
        process is used (then marked "*").
    warm-up peak MiB: the same over the build and the warm-up step.
    step s: the measured step's wall time.

then the saving of remat=True in % of the remat=False peak. One process per setting: freed memory
stays in a process's heap, so two settings in one process would not measure each on its own.

    python3 benchmarks/remat_memory.py [--models DenseNet121 ...] [--batch-size 32] [--size 224]
        [--steps 1] [--threads N]

Any `create_model` name whose constructor takes `remat` can be given. Memory-heavy (DenseNet121 at
batch 32, 224 px: several GiB without remat): run one at a time. Not a test: numbers depend on the
machine, its allocator and its load.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

DEFAULT_MODELS = ["DenseNet121"]
MIB = 2.0 ** 20


def status_kib(field):
    """A field of /proc/self/status in KiB (VmRSS: current resident set, VmHWM: its peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure(name, remat, batch_size, size, steps, threads):
    """Run in the worker process: {"peak_mib", "warmup_peak_mib", "step_s", "loss", "peak_reset"}."""
    import numpy as np
    import tensorflow as tf

    import keras
    import keras_resfamily as kr

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    rng = np.random.default_rng(0)
    images = rng.normal(size=(batch_size, size, size, 3)).astype("float32")
    labels = rng.integers(0, 1000, size=batch_size)
    before = status_kib("VmRSS")
    reset_peak()

    model = kr.create_model(name, input_shape=(size, size, 3), remat=remat)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy", jit_compile=False)
    model.train_on_batch(images, labels)  # warm-up: traces the train step
    warmup_peak = status_kib("VmHWM")
    peak_reset = reset_peak()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = model.train_on_batch(images, labels)
        seconds.append(time.perf_counter() - start)
    peak = status_kib("VmHWM")
    return dict(peak_mib=(peak - before) / 1024, warmup_peak_mib=(warmup_peak - before) / 1024,
                step_s=float(np.median(seconds)), loss=float(np.asarray(loss)), peak_reset=peak_reset)


def run_worker(name, remat, args):
    """`measure` in a fresh process; its result dict."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, "--remat", str(remat),
               "--batch-size", str(args.batch_size), "--size", str(args.size), "--steps", str(args.steps),
               "--threads", str(args.threads)]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    if result.returncode != 0:
        raise RuntimeError(f"{name} remat={remat} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(results):
    """The markdown table of {(name, remat): result}."""
    lines = ["| Model | remat | Peak MiB | Warm-up peak MiB | Step s | Saving % |",
             "|---|---|---:|---:|---:|---:|"]
    for (name, remat), result in results.items():
        mark = "" if result["peak_reset"] else "*"
        saving = ""
        if remat and (name, False) in results:
            saving = f"{100.0 * (1.0 - result['peak_mib'] / results[name, False]['peak_mib']):.1f}"
        lines.append(f"| {name} | {remat} | {result['peak_mib']:.0f}{mark} | {result['warmup_peak_mib']:.0f} | "
                     f"{result['step_s']:.2f} | {saving} |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="create_model names taking `remat`")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", type=int, default=224, help="input height and width")
    parser.add_argument("--steps", type=int, default=1, help="measured steps after the warm-up (median time)")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: its default)")
    parser.add_argument("--worker", metavar="MODEL", help=argparse.SUPPRESS)  # internal: one measurement
    parser.add_argument("--remat", choices=("True", "False"), default="False", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for what in ("batch_size", "size", "steps"):
        if getattr(args, what) < 1:
            parser.error(f"--{what.replace('_', '-')} must be a positive integer; received {getattr(args, what)}")
    if not args.worker:
        import keras_resfamily as kr

        for name in args.models:
            if "remat" not in kr.get_spec(name).variant_arguments():
                parser.error(f"{name} has no `remat` argument; models with one: "
                             + ", ".join(n for n in kr.list_models() if "remat" in kr.get_spec(n).variant_arguments()))
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.remat == "True", args.batch_size, args.size, args.steps,
                                 args.threads)))
        return
    results = {}
    for name in args.models:
        for remat in (False, True):
            results[name, remat] = run_worker(name, remat, args)
    print(f"Training step, float32, CPU, batch {args.batch_size}, {args.size}x{args.size}, SGD; peak memory above "
          "the process's before the model was built.")
    print(table(results))


if __name__ == "__main__":
    main()
