"""TF Serving export of every family representative, reloaded in a fresh process without Keras.

All models are exported once (module fixture) and reloaded in ONE subprocess to keep CI short.
Each classifier head is designed so that each test image maps to a known, distinct class: a
wrong decode / crop / normalisation changes the class or the scores.
"""

import io
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import keras_resfamily as kr
from keras_resfamily import hub
from keras_resfamily.export import serving
from keras_resfamily.export.__main__ import main as export_cli
from keras_resfamily.export.serving_module import resize_and_center_crop
from keras_resfamily.preprocessing import imagenet_classes

pytestmark = pytest.mark.xdist_group("export_serving")  # one worker exports the representatives once

SIZE = 64  # crop; timm's eval transform resizes the short side to floor(64 / 0.875) = 73 first
RESIZED = 73
TOLERANCE = 1e-5

# name -> export options. The full list on purpose: a model missing from the registry fails.
REPRESENTATIVES = {
    "ResNet50": {},
    "ResNeXt50_32x4d": {},
    "SEResNet50": {"via_cli": True},
    "ResNeSt50": {},
    "SKResNet18": {"classes": 10, "logits": True, "labels": [f"label_{i}" for i in range(10)]},
    "Res2Net50_26w_4s": {},
    "RepVGG_A0": {"fold": True},
    # The depthwise family: TF padding, hard-swish and a hard-sigmoid SE, the pooled head conv
    # (MobileNetV3); swish + SE, folded (EfficientNet); mixed kernels (MixNet).
    "MobileNetV3Small": {},
    # Folded, on an AVX-512 machine with oneDNN on: one probability in 5000 differed by 1.22e-3 relative
    # (2.7e-6 absolute) from Keras eager in a suite run (AMD EPYC Zen 4, 2026-12-04).
    "EfficientNetB0": {"fold": True, "rtol": 3e-3},
    "MixNetS": {},
    # Ceil-mode pools and the in-model `transform_input` Rescaling (GoogLeNet), aligned Xception's
    # separable blocks, and a convolutional classifier (SqueezeNet: 1x1 conv, ReLU, average pool).
    "GoogLeNet": {},
    # Its 39 separable convs with random weights amplify float32 rounding (Keras eager vs the SavedModel's
    # fused graph): one probability in 5000 differed by 1.07e-3 relative (6e-7 absolute) in a suite run.
    "Xception41": {"rtol": 3e-3},
    "SqueezeNet1_1": {},
    # Composite custom layers with side-effect-free BN units (DenseNetLayer, DualPathBlock), and the
    # channel shuffle in both references' orders.
    "DenseNet121": {},
    "DPN48b": {},
    "ShuffleNetV2_x0_5": {},
    "ShuffleNetV1_g3_x0_5": {},
}

# `import tensorflow` itself imports keras when it is installed; None entries make keras and
# keras_resfamily unimportable (as on a TF Serving host), and TF then treats keras as absent.
RELOAD_SCRIPT = r"""
import json, sys
sys.modules["keras"] = sys.modules["keras_resfamily"] = None
import numpy as np
import tensorflow as tf

for line in sys.stdin:  # one job per exported model, sent while the next one is exported
    job = json.loads(line)
    loaded = tf.saved_model.load(job["dir"])
    pixels = np.load(job["pixels"])
    probabilities = loaded.signatures["serving_default"](images=tf.constant(pixels))["probabilities"]
    blobs = [open(path, "rb").read() for path in job["encoded"]]
    top = loaded.signatures["predict_images"](image_bytes=tf.constant(blobs))
    labels = np.array([[label.decode() for label in row] for row in top["labels"].numpy()])
    np.savez(job["result"], probabilities=probabilities.numpy(), class_ids=top["class_ids"].numpy(),
             scores=top["scores"].numpy(), labels=labels, variables=len(loaded.model_variables))
imported = sorted(m for m, module in sys.modules.items()
                  if m.split(".")[0] in ("keras", "keras_resfamily") and module is not None)
assert not imported, f"the reload imported {imported}"
"""


def _pattern(height, width, seed):
    """Smooth colour pattern: distinct per seed, little aliasing when resized."""
    y, x = np.mgrid[0:height, 0:width].astype("float32")
    rng = np.random.default_rng(seed)
    channels = [
        127 + 120 * np.sin(x / rng.uniform(3, 12) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(3, 12) + c)
        for c in range(3)
    ]
    return np.stack(channels, -1).clip(0, 255).astype("uint8")


def _encode(image, fmt):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _test_images():
    """(encoded bytes, expected crop float32 in [0, 255]) computed without the SavedModel."""
    offset = int(round((RESIZED - SIZE) / 2))
    cases = []
    for seed in range(3):  # already at the resize target: the crop is plain slicing
        image = _pattern(RESIZED, RESIZED, seed)
        cases.append((_encode(image, "PNG"), image[offset:offset + SIZE, offset:offset + SIZE]))
    for seed, (height, width, fmt) in enumerate([(90, 130, "PNG"), (150, 100, "JPEG")], start=3):
        data = _encode(_pattern(height, width, seed), fmt)
        decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # PIL, as timm decodes
        cases.append((data, resize_and_center_crop(decoded, SIZE, 0.875, "bilinear").numpy()))
    return [c[0] for c in cases], np.stack([c[1] for c in cases]).astype("float32")


def _randomize_batch_norm(model, rng):
    """Non-trivial statistics, so BN folding and normalisation errors show up."""
    # _flatten_layers: also the BatchNorms inside composite layers (RepVGGBlock).
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.2, c), rng.normal(0, 0.2, c),
                               rng.uniform(0.5, 2.0, c)])


def _design_head(model, name, normalised, classes_for_images, rng):
    """Classifier whose logit for class c_i is the cosine of the features with image i's.

    Random-weight features share a large common part; centring and dividing by their spread
    amplifies float32 noise by |features| / spread (up to ~250x), so the scale stays at 1: a logit
    margin of ~0.5 between classes, noise below 1e-4.

    The classifier is the spec's `classifier_name` layer (with or without a bias): a Dense on pooled features, or a 1x1
    Conv2D (SqueezeNet) on the last map, followed by a ReLU and the average pool. There a bias
    shift, common to all classes (softmax ignores it), makes every position's pre-activation >= 1
    on the test images: the ReLU is then the identity, and the pooled logits are the pooled
    features' as for a Dense.
    """
    head = model.get_layer(kr.get_spec(name).classifier_name)
    inputs = keras.Model(model.inputs[0], head.input)(normalised).numpy().astype("float64")
    channels, classes = head.kernel.shape[-2:]
    assert tuple(head.kernel.shape) in [(channels, classes), (1, 1, channels, classes)], head.kernel.shape
    features = inputs.reshape(len(inputs), -1, channels).mean(1)  # (batch, C): a conv head's pooled map
    centre = features.mean(0)
    radius = np.linalg.norm(features - centre, axis=1).mean()
    kernel = rng.normal(0, 0.1 / np.sqrt(channels), (channels, classes))
    for feature, cls in zip(features, classes_for_images):
        kernel[:, cls] = (feature - centre) / np.linalg.norm(feature - centre)
    kernel /= radius
    if not head.use_bias:
        # A bias-free classifier (ShuffleNet V1's): columns orthogonal to the centre, so that the bias
        # the design would need (-centre @ kernel) is zero.
        kernel -= np.outer(centre, centre @ kernel) / (centre @ centre)
    bias = -centre @ kernel
    if len(head.kernel.shape) == 4:
        bias += 1.0 - min((inputs @ kernel + bias).min(), 0.0)
    kernel = kernel.reshape(head.kernel.shape).astype("float32")
    head.set_weights([kernel, bias.astype("float32")] if head.use_bias else [kernel])


def _probabilities(model, normalised, logits):
    outputs = np.asarray(model(normalised, training=False), dtype="float64")
    if logits:
        outputs = np.exp(outputs - outputs.max(1, keepdims=True))
        outputs /= outputs.sum(1, keepdims=True)
    return outputs


def _export_one(name, options, base, encoded, crops, seed):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    classes = options.get("classes", 1000)
    model = kr.create_model(name, input_shape=(SIZE, SIZE, 3), classes=classes,
                            classifier_activation=None if options.get("logits") else "softmax")
    _randomize_batch_norm(model, rng)
    normalised = kr.preprocess_input(crops, name)
    expected_classes = [(i * 211 + 7) % classes for i in range(len(crops))]
    _design_head(model, name, normalised, expected_classes, rng)
    path = os.path.join(base, name.lower(), "1")
    if options.get("via_cli"):
        weights = os.path.join(base, f"{name}.weights.h5")
        model.save_weights(weights)
        export_cli(["--model", name, "--weights", weights, "--image-size", str(SIZE), "--out", path,
                    "--crop-pct", "0.875", "--interpolation", "bilinear"])
    else:
        kr.export_serving(model, path, labels=options.get("labels"), fold=options.get("fold", False),
                          crop_pct=0.875, interpolation="bilinear")
    np.save(os.path.join(base, f"{name}_pixels.npy"), crops)
    files = []
    for i, data in enumerate(encoded):
        files.append(os.path.join(base, f"{name}_{i}.img"))
        with open(files[-1], "wb") as f:
            f.write(data)
    job = {"dir": path, "pixels": os.path.join(base, f"{name}_pixels.npy"), "encoded": files,
           "result": os.path.join(base, f"{name}_result.npz")}
    expected = {"probabilities": _probabilities(model, normalised, options.get("logits")),
                "classes": expected_classes, "labels": options.get("labels"), "variables": len(model.variables),
                "batch_norms": sum(isinstance(layer, keras.layers.BatchNormalization)
                                   for layer in model._flatten_layers(include_self=False)),
                "fold": options.get("fold", False), "rtol": options.get("rtol", 1e-3)}
    return job, expected


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """(name -> (expected, reloaded outputs), name -> failure, saved_model_cli result)."""
    base = str(tmp_path_factory.mktemp("serving"))
    encoded, crops = _test_images()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    logs = open(os.path.join(base, "reload.log"), "w+")
    # -I: isolated mode, neither the working directory nor PYTHONPATH is importable. The fresh
    # process reloads each model while the next one is exported.
    reload = subprocess.Popen([sys.executable, "-I", "-c", RELOAD_SCRIPT], stdin=subprocess.PIPE,
                              stdout=logs, stderr=subprocess.STDOUT, text=True, env=env)
    jobs, expected, failures, cli = {}, {}, {}, None
    registered = set(kr.list_models())
    for seed, (name, options) in enumerate(REPRESENTATIVES.items()):
        if name not in registered:
            failures[name] = f"{name} is not registered: the export test needs every family representative."
            continue
        try:
            jobs[name], expected[name] = _export_one(name, options, base, encoded, crops, seed)
        except Exception as error:  # reported by that model's tests; the others still run
            failures[name] = f"export of {name} failed: {type(error).__name__}: {error}"
            continue
        if reload.poll() is None:
            reload.stdin.write(json.dumps(jobs[name]) + "\n")
            reload.stdin.flush()
        if name == "ResNet50":
            # The running interpreter's TensorFlow, not whatever `saved_model_cli` PATH holds (if any).
            cli = subprocess.Popen([sys.executable, "-m", "tensorflow.python.tools.saved_model_cli",
                                    "show", "--all", "--dir", jobs[name]["dir"]],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**env, "PATH": os.defpath})  # as when a venv's bin is not on PATH
    reload.stdin.close()
    reload.wait(timeout=600)
    logs.seek(0)
    assert reload.returncode == 0, logs.read()[-3000:]
    cli_result = None
    if cli is not None:
        stdout, stderr = cli.communicate(timeout=600)
        cli_result = (cli.returncode, stdout, stderr)
    results = {name: (expected[name], dict(np.load(jobs[name]["result"]))) for name in expected}
    return results, failures, cli_result


def _case(exports, name):
    results, failures, _ = exports
    if name in failures:
        pytest.fail(failures[name])
    return results[name]


@pytest.mark.parametrize("name", list(REPRESENTATIVES))
def test_reloaded_serving_default_matches_keras(exports, name):
    expected, reloaded = _case(exports, name)
    np.testing.assert_allclose(reloaded["probabilities"], expected["probabilities"], rtol=0, atol=TOLERANCE)
    # Most probabilities are ~1e-3: a relative bound too, so that small shifts still count
    # (measured: <= 1.3e-7 absolute, ~5e-5 relative).
    np.testing.assert_allclose(reloaded["probabilities"], expected["probabilities"], rtol=expected["rtol"], atol=0)


@pytest.mark.parametrize("name", list(REPRESENTATIVES))
def test_reloaded_variables_are_the_deploy_form_when_folded(exports, name):
    expected, reloaded = _case(exports, name)
    if expected["fold"]:  # every BatchNorm folded (4 variables gone, at most a conv bias added); RepVGG: more
        assert reloaded["variables"] <= expected["variables"] - 3 * expected["batch_norms"]
    else:
        assert reloaded["variables"] == expected["variables"]


@pytest.mark.parametrize("name", list(REPRESENTATIVES))
def test_reloaded_predict_images_returns_known_classes(exports, name):
    expected, reloaded = _case(exports, name)
    probabilities = expected["probabilities"]
    # The designed head works: each image's Keras top-1 is its assigned class.
    assert list(probabilities.argmax(1)) == expected["classes"]
    # ... by a clear margin (measured >= 0.2 in log-probability; the float32 noise is < 1e-4).
    top_two = np.sort(np.log(probabilities), axis=1)[:, -2:]
    assert (top_two[:, 1] - top_two[:, 0]).min() > 0.1
    assert list(reloaded["class_ids"][:, 0]) == expected["classes"]
    k = reloaded["class_ids"].shape[1]
    assert k == 5
    # Each score is its class's probability and they are the k largest (lower ranks may swap
    # near-ties, so the ids are not compared rank by rank).
    rows = np.arange(len(probabilities))[:, None]
    scores_of_ids = probabilities[rows, reloaded["class_ids"]]
    np.testing.assert_allclose(reloaded["scores"], scores_of_ids, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(reloaded["scores"], scores_of_ids, rtol=expected["rtol"], atol=0)
    np.testing.assert_allclose(reloaded["scores"], np.sort(probabilities, axis=1)[:, ::-1][:, :k],
                               rtol=0, atol=TOLERANCE)
    names = expected["labels"] or [name for _, name in imagenet_classes()]
    assert reloaded["labels"].tolist() == [[names[i] for i in row] for row in reloaded["class_ids"]]


def test_saved_model_cli_lists_documented_signatures(exports):
    _case(exports, "ResNet50")
    returncode, stdout, stderr = exports[2]
    assert returncode == 0, stderr[-3000:]
    shown = " ".join(stdout.split())
    for signature, tensors in {
        "serving_default": [("inputs['images']", "DT_FLOAT", f"(-1, {SIZE}, {SIZE}, 3)"),
                            ("outputs['probabilities']", "DT_FLOAT", "(-1, 1000)")],
        "predict_images": [("inputs['image_bytes']", "DT_STRING", "(-1)"),
                           ("outputs['class_ids']", "DT_INT64", "(-1, 5)"),
                           ("outputs['labels']", "DT_STRING", "(-1, 5)"),
                           ("outputs['scores']", "DT_FLOAT", "(-1, 5)")],
    }.items():
        section = shown.split(f"signature_def['{signature}']:")[1].split("signature_def[")[0]
        assert "Method name is: tensorflow/serving/predict" in section
        for tensor, dtype, shape in tensors:
            assert f"{tensor} tensor_info: dtype: {dtype} shape: {shape}" in section, (tensor, section)


@pytest.mark.parametrize("name, tag, crop_pct", [("InceptionV3", "tv_in1k", 0.875), ("Xception", "tf_in1k", 0.8975)])
def test_299_pixel_models_export_with_their_pretrained_config(name, tag, crop_pct, tmp_path, monkeypatch):
    """Without image_size / crop_pct / interpolation, predict_images uses the default checkpoint's
    eval config (timm's inception_v3.tv_in1k, legacy_xception.tf_in1k), not 224 / bilinear.

    The SavedModel write is skipped (a few seconds per model): the module it would save holds the
    config. The models take any size, so the crop size is the config's too."""
    saved = []
    monkeypatch.setattr(serving.tf.saved_model, "save", lambda module, path, signatures: saved.append(module))
    entry = hub.get_weights_entry(name)
    assert entry.tag == tag
    model = kr.create_model(name, input_shape=(None, None, 3))
    kr.export_serving(model, str(tmp_path / name / "1"))
    config = saved[0]._config
    assert (config.input_size, config.crop_size, config.crop_pct, config.interpolation) == ((None, None), 299, crop_pct,
                                                                                          "bicubic")
    assert config.mean == config.std == (0.5, 0.5, 0.5)
    assert (config.crop_size, config.crop_pct, config.interpolation, config.mean, config.std) == (
        entry.input_size[1], entry.crop_pct, entry.interpolation, entry.mean, entry.std)
    assert config.include_preprocessing and not config.model_normalises and not config.apply_softmax
