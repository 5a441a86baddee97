"""Test-session setup shared by every test module."""

import os
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# pytest-xdist workers share the cores: each gets its share of intra-op threads (one per core with
# `-n 2` on 2 cores) instead of every worker starting a thread per core.
THREADS = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))

# torch must be imported before TensorFlow: the other order segfaults when both run kernels
# in one process (conflicting bundled runtime libraries).
try:
    import timm  # noqa: F401
    import torch

    torch.set_num_threads(THREADS)
except ImportError:  # parity tests skip themselves without torch
    torch = None

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(THREADS)


@pytest.fixture(autouse=True)
def _float32_policy():
    """Tests that change the global dtype policy must not leak it."""
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture(autouse=True)
def _seeded(request):
    """Weight initialisers and random draws depend on the test alone, so a failure reproduces."""
    keras.utils.set_random_seed(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(scope="module")
def tiny_model():
    """A small classifier (3 classes, 32x32) for the export tests, built once per module."""
    import keras_resfamily as kr

    return kr.create_model("ResNet18", input_shape=(32, 32, 3), classes=3)
