"""Other Keras backends and fresh-process reloading, in subprocesses (a backend is fixed per process)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras_resfamily as kr

pytestmark = pytest.mark.xdist_group("backends")  # one worker builds the TensorFlow reference once

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("ResNet50D", "SEResNeXt50_32x4d")


def _run(code, backend, cwd):
    # The fresh process computes with this process's intra-op thread count: with oneDNN on, a
    # convolution's summation order (its last bits) depends on it, and reloads are compared exactly.
    threads = str(tf.config.threading.get_intra_op_parallelism_threads())
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3",
               TF_NUM_INTRAOP_THREADS=threads)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tensorflow_reference(tmp_path_factory):
    """Weights and outputs of the TensorFlow-backend models, for the other backends to reproduce."""
    folder = tmp_path_factory.mktemp("backends")
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    np.save(folder / "x.npy", x)
    for name in MODELS:
        model = kr.create_model(name, classifier_activation=None)
        model.save_weights(folder / f"{name}.weights.h5")
        np.save(folder / f"{name}.npy", np.asarray(model(x, training=False)))
    return folder


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_match_tensorflow(backend, tensorflow_reference):
    pytest.importorskip(backend)
    code = f"""
        import numpy as np, keras, keras_resfamily as kr
        assert keras.backend.backend() == {backend!r}
        x = np.load("x.npy")
        for name in {MODELS!r}:
            model = kr.create_model(name, classifier_activation=None, weights=name + ".weights.h5")
            out = keras.ops.convert_to_numpy(model(x, training=False))
            ref = np.load(name + ".npy")
            rel = np.abs(out - ref).max() / np.abs(ref).max()
            assert rel < 1e-4, (name, rel)
            print(name, rel)
    """
    out = _run(code, backend, tensorflow_reference)
    assert all(name in out for name in MODELS)


def test_saved_model_reloads_in_fresh_process(tmp_path):
    model = kr.SEResNet18(input_shape=(64, 64, 3), drop_path_rate=0.1)
    x = np.random.default_rng(1).normal(size=(1, 64, 64, 3)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.asarray(model(x, training=False)))
    model.save(tmp_path / "m.keras")
    code = """
        import numpy as np, keras
        import keras_resfamily  # registers the custom layers; nothing else is needed
        model = keras.models.load_model("m.keras")
        np.testing.assert_array_equal(np.asarray(model(np.load("x.npy"), training=False)), np.load("y.npy"))
        print("reloaded", model.name)
    """
    assert "reloaded seresnet18" in _run(code, "tensorflow", tmp_path)
