"""GPU: ResNet50 training and inference img/s, ours vs keras.applications vs timm, in one process.

Keras models (ours and keras.applications', weights=None, classifier_activation=None) run on Keras's
JAX backend, i.e. compiled by XLA, under the `mixed_bfloat16` policy: one jitted step over the
model's `stateless_call` (SGD with momentum 0.9, sparse cross-entropy; the batch stays on the GPU,
so the input pipeline is not timed). timm's `resnet50` runs with channels_last and
`torch.autocast("cuda", bfloat16)`, eagerly and under `torch.compile` (default mode). JAX backend
because the GPU machine this was measured on has JAX and torch but no TensorFlow; the Keras graph is
the same one TensorFlow's `jit_compile=True` hands to XLA.

Every row is timed in interleaved rounds (each round times `--steps` steps of every row, in turn) and
reported as the median over rounds, with the spread and the ratio to our model.

    python3 benchmarks/gpu_speed.py [--batch 256] [--size 224] [--rounds 7] [--steps 10]
        [--modes train infer] [--rows ours keras.applications timm timm-compile] [--out FILE.json]

Not a test: it needs a GPU (it runs on CPU too, for a smoke check at small sizes).
"""

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = "jax"  # see the docstring: the GPU machine has no TensorFlow
# JAX takes 75% of the GPU by default; torch shares the GPU in this process.
os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.45")

import numpy as np  # noqa: E402
import torch  # noqa: E402  (before JAX and Keras: both load CUDA libraries)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def keras_step(build, batch, size, train):
    """A function(steps) that runs `steps` jitted steps of a Keras model and waits for the GPU."""
    import jax
    import keras

    model = build()
    x = jax.device_put(np.random.default_rng(0).random((batch, size, size, 3), dtype=np.float32))
    y = jax.device_put(np.random.default_rng(1).integers(0, 1000, batch).astype(np.int32))
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    if not train:
        forward = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])

        def run(steps):
            for _ in range(steps):
                out = forward(trainable, non_trainable, x)
            out.block_until_ready()
        return run

    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_variables)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss(tv, ntv, x, y):
        logits, ntv = model.stateless_call(tv, ntv, x, training=True)
        return cross_entropy(y, logits), ntv

    gradients = jax.value_and_grad(loss, has_aux=True)

    @functools.partial(jax.jit, donate_argnums=0)
    def step(state, x, y):
        tv, ntv, ov = state
        (value, ntv), grads = gradients(tv, ntv, x, y)
        tv, ov = optimizer.stateless_apply(ov, grads, tv)
        return (tv, ntv, ov), value

    state = [(trainable, non_trainable, [v.value for v in optimizer.variables])]

    def run(steps):
        for _ in range(steps):
            state[0], value = step(state[0], x, y)
        value.block_until_ready()
    return run


def timm_step(batch, size, train, compiled):
    """A function(steps) running timm resnet50 (channels_last, bf16 autocast), eager or torch.compile'd."""
    import timm

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = timm.create_model("resnet50").to(device, memory_format=torch.channels_last)
    forward = torch.compile(model) if compiled else model
    x = torch.randn(batch, 3, size, size, device=device).to(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (batch,), device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if train:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def run(steps):
            for _ in range(steps):
                with torch.autocast(device, torch.bfloat16):
                    loss = torch.nn.functional.cross_entropy(forward(x), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            sync()
        return run

    model.eval()

    def run(steps):
        with torch.inference_mode(), torch.autocast(device, torch.bfloat16):
            for _ in range(steps):
                forward(x)
        sync()
    return run


ROWS = {  # --rows key: label
    "ours": "ours ResNet50 (Keras/JAX XLA, mixed_bfloat16)",
    "keras.applications": "keras.applications ResNet50 (same)",
    "timm": "timm resnet50 eager (channels_last, bf16 autocast)",
    "timm-compile": "timm resnet50 torch.compile (channels_last, bf16 autocast)",
}


def rows(keys, batch, size, train):
    """{label: maker} of the chosen rows, in ROWS order (ours first: the ratios' numerator)."""
    import keras

    import keras_resfamily

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    makers = {
        "ours": lambda: keras_step(
            lambda: keras_resfamily.ResNet50(weights=None, classifier_activation=None), batch, size, train),
        "keras.applications": lambda: keras_step(
            lambda: keras.applications.ResNet50(weights=None, classifier_activation=None), batch, size, train),
        "timm": lambda: timm_step(batch, size, train, False),
        "timm-compile": lambda: timm_step(batch, size, train, True),
    }
    return {label: makers[key] for key, label in ROWS.items() if key in keys}


def measure(makers, rounds, steps, batch):
    """{row: {img_s, spread, compile_s}} from interleaved rounds; a row that fails reports its error."""
    runners, results = {}, {}
    for name, make in makers.items():
        start = time.perf_counter()
        try:
            run = make()
            run(2)  # compilation and autotuning, untimed
            runners[name] = run
            results[name] = {"first_steps_s": round(time.perf_counter() - start, 1)}
        except Exception as error:  # report and go on: the other rows still count
            results[name] = {"error": f"{type(error).__name__}: {error}"[:500]}
        print(name, results[name], flush=True)
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        rates = sorted(batch * steps / value for value in values)
        results[name].update(img_s=round(statistics.median(rates), 1), min_img_s=round(rates[0], 1),
                             max_img_s=round(rates[-1], 1))
    return results


def table(results):
    ours = results.get(ROWS["ours"], {}).get("img_s")
    lines = ["| model | img/s (median) | min-max | ours / this |", "|---|---|---|---|"]
    for name, result in results.items():
        if "img_s" not in result:
            lines.append(f"| {name} | failed: {result['error'][:120]} | | |")
            continue
        ratio = f"{ours / result['img_s']:.2f}" if ours else "-"
        lines.append(f"| {name} | {result['img_s']} | {result['min_img_s']}-{result['max_img_s']} | {ratio} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="Images per step (default 256).")
    parser.add_argument("--size", type=int, default=224, help="Input height and width (default 224).")
    parser.add_argument("--rounds", type=int, default=7, help="Interleaved timing rounds (default 7).")
    parser.add_argument("--steps", type=int, default=10, help="Steps per row per round (default 10).")
    parser.add_argument("--modes", nargs="+", choices=("train", "infer"), default=("train", "infer"),
                        help="Training steps, inference steps or both (default both).")
    parser.add_argument("--rows", nargs="+", choices=tuple(ROWS), default=tuple(ROWS),
                        help="Which models to time (default all; the ratios need 'ours').")
    parser.add_argument("--out", help="Also write the results as JSON here.")
    args = parser.parse_args()

    import jax
    import keras
    import timm

    report = {"date": time.strftime("%Y-%m-%d"), "batch": args.batch, "size": args.size, "rounds": args.rounds,
              "steps": args.steps, "python": platform.python_version(), "jax": jax.__version__,
              "jax_devices": [str(d) for d in jax.devices()], "keras": keras.__version__,
              "torch": torch.__version__, "timm": timm.__version__,
              "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else "none (CPU)"}
    print(json.dumps(report), flush=True)
    for mode in args.modes:
        results = measure(rows(args.rows, args.batch, args.size, mode == "train"), args.rounds, args.steps, args.batch)
        report[mode] = results
        print(f"\n{mode}, batch {args.batch}, {args.size} px, {report['gpu']}\n{table(results)}", flush=True)
    if args.out:
        with open(args.out, "w") as file:
            json.dump(report, file, indent=1)


if __name__ == "__main__":
    main()
