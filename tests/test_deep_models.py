"""The deepest registered model, in fresh processes at Python's default recursion limit, called from a
stack 200 frames deep (a notebook, a test runner): build, convert weights, save, export, reload.

Keras walks a functional graph recursively (one frame per node on its path); ResNetRS270/350/420
used to raise RecursionError here. Every other model is built and deserialized at that stack depth
in test_models.py.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras_resfamily as kr

pytestmark = pytest.mark.xdist_group("deep_models")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The most blocks = the longest path through the graph.
DEEPEST = max(kr.specs.all_specs(), key=lambda spec: spec.num_blocks()).name
SIZE = 64

# Python's default recursion limit, set after the imports: with IPython installed, importing
# TensorFlow imports jedi, which raises the limit to 3000 and would hide the fault.
PRELUDE = f"""
    import sys, time
    import numpy as np
    import keras_resfamily as kr
    sys.setrecursionlimit(1000)
    start = time.time()

    def at_depth(frames, call):
        return call() if frames == 0 else at_depth(frames - 1, call)

    def step(what, frames, call):
        result = at_depth(frames, call)
        print(f"{{what}}: {{time.time() - start:.1f}} s", flush=True)
        return result

    x = np.random.default_rng(0).normal(size=(1, {SIZE}, {SIZE}, 3)).astype("float32")
"""

# Process 1: build, load (convert) a reference-named safetensors checkpoint, save .keras, export SavedModel.
BUILD = PRELUDE + f"""
    from keras_resfamily.convert import torch_key
    from keras_resfamily.export import export_serving
    from keras_resfamily.hub.convert import load_safetensors
    from safetensors.numpy import save_file

    model_spec = kr.get_spec({DEEPEST!r})
    model = step("build", 200, lambda: kr.create_model(model_spec, input_shape=({SIZE}, {SIZE}, 3)))
    # The reference (PyTorch) layout of every variable: OIHW kernels, (out, in) dense kernels.
    layouts = {{4: (3, 2, 0, 1), 2: (1, 0)}}
    tensors = {{}}
    for variable in model.weights:
        value = np.asarray(variable)
        if variable.path.endswith("/kernel"):
            value = value.transpose(layouts[value.ndim])
        tensors[torch_key(variable)] = np.ascontiguousarray(value)
    save_file(tensors, "reference.safetensors")
    expected = np.asarray(model(x, training=False))
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    step("convert", 200, lambda: load_safetensors(model, "reference.safetensors", model_spec))
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), expected)
    np.save("expected.npy", expected)
    step("save", 200, lambda: model.save("model.keras"))
    step("export", 200, lambda: export_serving(model, "serving/1", include_preprocessing=False))
    print("built", model.name, len(model.layers), "layers")
"""

# Process 2: reload the .keras file and the SavedModel.
RELOAD = PRELUDE + """
    import keras
    import tensorflow as tf

    expected = np.load("expected.npy")
    model = step("load", 200, lambda: keras.models.load_model("model.keras"))
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), expected)
    served = step("load SavedModel", 200, lambda: tf.saved_model.load("serving/1"))
    probabilities = served.signatures["serving_default"](images=tf.constant(x))["probabilities"].numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)
    print("reloaded", model.name)
"""


def _run(code, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_deepest_model_builds_converts_saves_exports_and_reloads_at_default_recursion_limit(tmp_path):
    for script, done in ((BUILD, "built"), (RELOAD, "reloaded")):
        output = _run(script, tmp_path)
        print(output)  # the time of each step
        assert done in output
