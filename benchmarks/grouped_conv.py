"""Grouped 3x3 convolution on the current Keras backend: Conv2D(groups=G) vs equivalent formulations.

ResNeXt-like shape by default: batch 8, 56x56, 128 -> 128 channels, 32 groups. Every
formulation uses the same kernel (Conv2D's (kh, kw, C/G, O) layout) and is checked against
Conv2D(groups=G) before it is timed. Prints the median milliseconds of the forward pass and of
forward + backward (gradient w.r.t. input and kernel).

    python3 benchmarks/grouped_conv.py [--batch 8 --size 56 --channels 128 --groups 32 --runs 10]
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

import keras  # noqa: E402
from keras import ops  # noqa: E402

from keras_resfamily.bench.stopwatch import median_seconds  # noqa: E402


def keras_grouped(x, kernel, groups):
    """What keras.layers.Conv2D(groups=G) runs (ops.conv with a (kh, kw, C/G, O) kernel)."""
    return ops.conv(x, kernel, padding="same")


def tf_grouped(x, kernel, groups):
    """TensorFlow's own grouped convolution op, called directly (Keras wraps it in XLA on CPU)."""
    import tensorflow as tf

    return tf.nn.convolution(x, kernel, padding="SAME")


def per_group_concat(x, kernel, groups):
    """G ordinary convolutions on channel slices, concatenated."""
    xs = ops.split(x, groups, axis=-1)
    ks = ops.split(kernel, groups, axis=-1)
    return ops.concatenate([ops.conv(xi, ki, padding="same") for xi, ki in zip(xs, ks)], axis=-1)


def depthwise_sum(x, kernel, groups):
    """Depthwise conv with multiplier O/G, then a sum over each group's C/G inputs."""
    kh, kw, group_in, out = kernel.shape
    group_out = out // groups
    # (kh, kw, group_in, G, group_out) -> (kh, kw, G, group_in, group_out) -> (kh, kw, C, group_out)
    dw = ops.reshape(kernel, (kh, kw, group_in, groups, group_out))
    dw = ops.reshape(ops.transpose(dw, (0, 1, 3, 2, 4)), (kh, kw, groups * group_in, group_out))
    y = ops.depthwise_conv(x, dw, padding="same")  # channel c * group_out + j
    b, h, w = ops.shape(y)[0], y.shape[1], y.shape[2]
    y = ops.reshape(y, (b, h, w, groups, group_in, group_out))
    return ops.reshape(ops.sum(y, axis=4), (b, h, w, out))


def block_diagonal_dense(x, kernel, groups):
    """One ordinary convolution with a block-diagonal (kh, kw, C, O) kernel (G times the FLOPs)."""
    kh, kw, group_in, out = kernel.shape
    group_out = out // groups
    mask = np.kron(np.eye(groups, dtype="float32"), np.ones((group_in, group_out), dtype="float32"))
    full = ops.tile(kernel, (1, 1, groups, 1)) * mask  # row c holds kernel row c % group_in
    return ops.conv(x, full, padding="same")


FORMULATIONS = {
    "Conv2D(groups)": keras_grouped,
    "tf.nn.convolution(grouped)": tf_grouped,
    "per-group convs + concat": per_group_concat,
    "depthwise + group sum": depthwise_sum,
    "block-diagonal dense conv": block_diagonal_dense,
}


def _median_ms(fn, runs):
    return median_seconds(fn, warmup=2, runs=runs) * 1000  # warm-up: tracing / XLA compilation


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--groups", type=int, default=32)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if args.channels % args.groups:
        raise ValueError(f"--groups must divide --channels; received {args.groups} and {args.channels}")

    rng = np.random.default_rng(0)
    x = ops.convert_to_tensor(rng.standard_normal((args.batch, args.size, args.size, args.channels),
                                                  dtype="float32"))
    kernel = ops.convert_to_tensor(rng.standard_normal((3, 3, args.channels // args.groups, args.channels),
                                                       dtype="float32") * 0.1)
    reference = ops.convert_to_numpy(keras_grouped(x, kernel, args.groups))
    print(f"backend={keras.backend.backend()} batch={args.batch} {args.size}x{args.size} "
          f"C={args.channels} groups={args.groups} {_runtime_note()}")
    print(f"{'formulation':28s} {'max abs err':>12s} {'forward ms':>11s} {'fwd+bwd ms':>11s}")
    for label, fn in FORMULATIONS.items():
        if fn is tf_grouped and keras.backend.backend() != "tensorflow":
            continue
        forward, forward_backward = _compiled(lambda x, kernel, fn=fn: fn(x, kernel, args.groups))
        try:
            err = float(np.max(np.abs(ops.convert_to_numpy(forward(x, kernel)) - reference)))
            fwd = _median_ms(lambda: ops.convert_to_numpy(forward(x, kernel)), args.runs)
            bwd = _median_ms(lambda: [ops.convert_to_numpy(g) for g in forward_backward(x, kernel)], args.runs)
        except Exception as error:  # e.g. TensorFlow without oneDNN has no CPU gradient for grouped convs
            # TensorFlow's message ends with the failing op's reason, after the traceback's indented lines
            reason = [line for line in str(error).splitlines() if line and not line[0].isspace()][-1]
            print(f"{label:28s} failed: {type(error).__name__}: {reason[:100]}")
            continue
        print(f"{label:28s} {err:12.2e} {fwd:11.2f} {bwd:11.2f}")


def _compiled(fn):
    """(forward, gradient w.r.t. input and kernel of sum(output)) as graph / jit functions."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn), jax.jit(jax.grad(lambda x, kernel: ops.sum(fn(x, kernel)), argnums=(0, 1)))
    import tensorflow as tf

    @tf.function
    def forward_backward(x, kernel):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            loss = tf.reduce_sum(fn(x, kernel))
        return tape.gradient(loss, [x, kernel])

    return tf.function(fn), forward_backward


def _runtime_note():
    if keras.backend.backend() != "tensorflow":
        return ""
    import tensorflow as tf

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
    return f"threads={tf.config.threading.get_intra_op_parallelism_threads()} TF_ENABLE_ONEDNN_OPTS={onednn}"


if __name__ == "__main__":
    main()
