"""export_serving: bad input gives clear errors, existing exports survive, overwrite and options work."""

import hashlib
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resfamily as kr
from keras_resfamily import hub
from keras_resfamily.export import checks, serving
from keras_resfamily.export.__main__ import main as export_cli

pytestmark = pytest.mark.xdist_group("export_errors")  # one worker builds and exports the tiny model once


@pytest.fixture(scope="module")
def existing_export(tiny_model, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("base") / "1")
    kr.export_serving(tiny_model, path, top_k=3)
    return path


def _snapshot(folder):
    """Every file below `folder` (names next to it included) with its size, mtime and content hash."""
    parent = os.path.dirname(folder)
    files = {}
    for root, _, names in os.walk(parent):
        for name in names:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                files[os.path.relpath(full, parent)] = (os.path.getsize(full), os.stat(full).st_mtime_ns,
                                                        hashlib.sha256(f.read()).hexdigest())
    return sorted(os.listdir(parent)), files


def test_existing_version_needs_overwrite(tiny_model, existing_export):
    before = _snapshot(existing_export)
    with pytest.raises(ValueError, match=r"already exists and is not empty.*overwrite=True"):
        kr.export_serving(tiny_model, existing_export)
    assert _snapshot(existing_export) == before


def test_failed_overwrite_keeps_previous_export(tiny_model, existing_export, monkeypatch):
    before = _snapshot(existing_export)

    def failing_save(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(serving.tf.saved_model, "save", failing_save)
    with pytest.raises(RuntimeError, match="disk full"):
        kr.export_serving(tiny_model, existing_export, overwrite=True)
    assert _snapshot(existing_export) == before  # no staging folder left behind either


def test_failed_swap_restores_previous_export(tiny_model, existing_export, monkeypatch):
    before = _snapshot(existing_export)
    real_rename = os.rename

    def fake_save(module, directory, signatures):
        with open(os.path.join(directory, "saved_model.pb"), "w") as f:
            f.write("new")

    def rename(source, target):
        if ".staging-" in source:
            raise OSError("rename failed")
        return real_rename(source, target)

    monkeypatch.setattr(serving.tf.saved_model, "save", fake_save)
    monkeypatch.setattr(serving.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        kr.export_serving(tiny_model, existing_export, overwrite=True)
    assert _snapshot(existing_export) == before


@pytest.mark.parametrize("with_saved_model", [False, True])
def test_overwrite_never_deletes_what_is_not_an_export(tiny_model, tmp_path, with_saved_model):
    """A version directory holding the user's own files is refused, even with overwrite=True."""
    version = tmp_path / "models" / "1"
    version.mkdir(parents=True)
    if with_saved_model:  # a SavedModel plus a file that is not part of it
        (version / "saved_model.pb").write_bytes(b"old")
        (version / "variables").mkdir()
    (version / "notes.txt").write_text("my notes")
    before = _snapshot(str(version))
    with pytest.raises(ValueError, match=r"not a SavedModel export.*notes\.txt.*Nothing was deleted"):
        kr.export_serving(tiny_model, str(version), overwrite=True)
    assert _snapshot(str(version)) == before


def test_overwrite_replaces_the_version(tiny_model, existing_export):
    kr.export_serving(tiny_model, existing_export, top_k=2, include_preprocessing=False, overwrite=True)
    assert os.listdir(os.path.dirname(existing_export)) == ["1"]
    loaded = tf.saved_model.load(existing_export)
    assert loaded.signatures["predict_images"].structured_outputs["class_ids"].shape.as_list() == [None, 2]
    # include_preprocessing=False: serving_default takes already-normalised images.
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    served = loaded.signatures["serving_default"](images=tf.constant(x))["probabilities"].numpy()
    np.testing.assert_allclose(served, np.asarray(tiny_model(x, training=False)), rtol=0, atol=1e-5)


def _unbuilt():
    return keras.Sequential([keras.layers.Dense(3)])


@pytest.mark.parametrize("make_model, kwargs, message", [
    (_unbuilt, {}, "is not built"),
    (lambda: "ResNet18", {}, "must be a keras.Model"),
    (lambda: kr.create_model("ResNet18", input_shape=(32, 32, 3), include_top=False), {}, "must be a classifier"),
    (lambda: kr.ResNet18(input_shape=(32, 32, 3), name="mine"), {}, "Pass spec="),
    (None, {"spec": "ResNet999"}, "Unknown model name: 'ResNet999'"),
    (None, {"weights": "no_such_tag"}, "No pretrained weights 'no_such_tag'"),
    (None, {"labels": ["a", "b"]}, "list of 3 strings"),
    (None, {"top_k": 4}, r"top_k` must be an integer in \[1, 3\]"),
    (None, {"crop_pct": 1.5}, r"crop_pct` must be a number in \(0, 1\]"),
    (None, {"interpolation": "nearest"}, "interpolation` must be one of"),
    (None, {"image_size": 48}, "differs from the model's fixed input size 32x32"),
    (None, {"include_preprocessing": "yes"}, "include_preprocessing` must be True or False"),
    (None, {"version": "latest"}, "last component is an integer"),
])
def test_bad_input_raises_before_writing(tiny_model, tmp_path, make_model, kwargs, message):
    model = tiny_model if make_model is None else make_model()
    kwargs = dict(kwargs)
    path = str(tmp_path / "base" / kwargs.pop("version", "1"))
    with pytest.raises(ValueError, match=message):
        kr.export_serving(model, path, **kwargs)
    assert not os.path.exists(tmp_path / "base")


def test_cli_rejects_bad_arguments_before_building(tmp_path, existing_export, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("the CLI built a model before checking its arguments")

    monkeypatch.setattr(kr, "create_model", no_build)
    with pytest.raises(ValueError, match="Unknown model name: 'ResNet999'"):
        export_cli(["--model", "ResNet999", "--out", str(tmp_path / "1")])
    assert os.listdir(tmp_path) == []
    before = _snapshot(existing_export)
    with pytest.raises(ValueError, match="already exists and is not empty"):
        export_cli(["--model", "ResNet18", "--out", existing_export])
    assert _snapshot(existing_export) == before


def test_pretrained_config_follows_the_weights_tag():
    spec = kr.get_spec("ResNet50")
    default, tv = hub.get_weights_entry("ResNet50"), hub.get_weights_entry("ResNet50", "tv_in1k")
    assert (default.crop_pct, default.interpolation) != (tv.crop_pct, tv.interpolation)
    for weights, entry in [(None, default), ("imagenet", default), ("tv_in1k", tv)]:
        config = checks.pretrained_data_config(spec, weights)
        assert config == {"input_size": entry.input_size[1], "crop_pct": entry.crop_pct,
                          "interpolation": entry.interpolation, "mean": entry.mean, "std": entry.std}
    cifar = kr.get_spec("ResNeXt29_8x64d")  # no published weights: the spec and timm's defaults
    assert checks.pretrained_data_config(cifar) == {"input_size": 32, "crop_pct": 0.875, "interpolation": "bilinear",
                                                    "mean": cifar.mean, "std": cifar.std}
