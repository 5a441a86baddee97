"""Throughput and peak memory of a Keras model: inference and (optionally) one training step.

Every timing is the median of `runs` timed calls after `warmup` untimed ones (tracing and XLA
compilation happen in the warm-up), on synthetic inputs already in memory.
"""

import threading

import numpy as np

from keras_resfamily.bench.stopwatch import median_seconds


def _rss_bytes():
    with open("/proc/self/statm") as statm:
        import os

        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak memory while the `with` body runs, in bytes.

    On a GPU the framework allocator's own peak (TensorFlow's get_memory_info, JAX's memory_stats);
    on CPU the process resident set size sampled every 2 ms (whole process: weights, graph and
    framework included), so CPU figures compare models only roughly.
    """

    def __init__(self):
        import keras

        self.backend = keras.backend.backend()
        self.kind = "rss"
        self.peak = None
        if self.backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_logical_devices("GPU"):
                self.kind = "tf_gpu"
        elif self.backend == "jax":
            import jax

            if jax.default_backend() != "cpu":
                self.kind = "jax_process_peak"

    def __enter__(self):
        if self.kind == "tf_gpu":
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats("GPU:0")
        elif self.kind == "rss":
            self._stop = threading.Event()
            self._samples = [_rss_bytes()]
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self._samples.append(_rss_bytes())

    def __exit__(self, *exc):
        if self.kind == "tf_gpu":
            import tensorflow as tf

            self.peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        elif self.kind == "jax_process_peak":
            import jax

            # JAX keeps no resettable peak: this is the peak since the process started.
            self.peak = jax.local_devices()[0].memory_stats().get("peak_bytes_in_use")
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self._samples + [_rss_bytes()])
        return False


def synthetic_batch(batch, size, channels=3, seed=0):
    if batch < 1 or size < 1:
        raise ValueError(f"batch and size must be positive; received batch={batch}, size={size}.")
    return np.random.default_rng(seed).uniform(0, 1, size=(batch, size, size, channels)).astype("float32")


def inference(model, images, warmup, runs, jit_compile=False):
    """(images per second, peak memory bytes, memory kind) of `model.predict_on_batch(images)`."""
    model.compile(jit_compile=jit_compile)
    memory = PeakMemory()
    with memory:
        seconds = median_seconds(lambda: model.predict_on_batch(images), warmup, runs)
    return len(images) / seconds, memory.peak, memory.kind


def train_step(model, images, warmup, runs, jit_compile=False):
    """Images per second of one SGD step (softmax cross-entropy on random labels)."""
    import keras

    classes = model.outputs[0].shape[-1]
    labels = np.random.default_rng(1).integers(0, classes, size=(len(images),))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit_compile)
    seconds = median_seconds(lambda: model.train_on_batch(images, labels), warmup, runs)
    return len(images) / seconds
