"""RepVGG training form vs deploy form (keras_resfamily.reparameterize): inference latency and parameters.

Checks the two forms agree, then prints the median milliseconds of a jit-compiled forward pass.

    python3 benchmarks/repvgg_deploy.py [--model RepVGG_B1 --batch 32 --size 224 --runs 20]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import keras  # noqa: E402
import keras_resfamily as kr  # noqa: E402


def median_ms(fn, runs):
    fn()  # warm-up: tracing / compilation
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="RepVGG_B1")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dtype-policy", default="float32")
    args = parser.parse_args()
    keras.config.set_dtype_policy(args.dtype_policy)

    model = kr.create_model(args.model, input_shape=(args.size, args.size, 3))
    deployed = kr.reparameterize(model)
    images = np.random.default_rng(0).normal(size=(args.batch, args.size, args.size, 3)).astype("float32")
    train_out = np.asarray(model.predict_on_batch(images), "float32")
    deploy_out = np.asarray(deployed.predict_on_batch(images), "float32")
    print(f"backend={keras.backend.backend()} model={args.model} batch={args.batch} size={args.size} "
          f"policy={args.dtype_policy} max |train - deploy| = {np.max(np.abs(train_out - deploy_out)):.2e}")
    for label, m in (("training form", model), ("deploy form", deployed)):
        params = sum(int(np.prod(v.shape)) for v in m.weights)
        ms = median_ms(lambda m=m: m.predict_on_batch(images), args.runs)
        print(f"{label:14s} layers={len(m.layers):4d} params={params:>11,d} forward={ms:8.2f} ms "
              f"({args.batch * 1000 / ms:8.1f} img/s)")


if __name__ == "__main__":
    main()
