"""The `keras-resfamily` command: dispatch, quiet start-up, list / info from the registry, predict on real image files."""

import argparse
import csv
import io
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import keras_resfamily as kr
import keras_resfamily_cli
from keras_resfamily.cli import COMMANDS, main
from keras_resfamily.images import preprocessing_for
from keras_resfamily.cli.zoo import info_text
from keras_resfamily.model_stats import model_stats

TABBY = 281  # ImageNet class "tabby, tabby cat"


def run_cli(*args, env=None):
    """The installed console script in a fresh process: (exit code, stdout, stderr)."""
    script = shutil.which("keras-resfamily")
    assert script, "the console script is not installed: pip install -e ."
    result = subprocess.run([script, *args], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, **(env or {})))
    return result.returncode, result.stdout, result.stderr


def test_list_prints_every_model_and_nothing_on_stderr():
    code, out, err = run_cli("list", "--format", "csv")
    assert code == 0 and err == "", err  # TensorFlow's start-up log lines are hidden
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["Model"] for row in rows] == kr.list_models()
    assert all(row["Params (M)"] != "?" and float(row["GMACs"]) > 0 for row in rows)
    resnet50 = next(row for row in rows if row["Model"] == "ResNet50")
    assert resnet50["Reference"] == "timm resnet50" and resnet50["Weights"].startswith("*a1_in1k ")


def test_quiet_start_up_drops_log_lines_and_passes_the_rest(capfd):
    def start_up():
        for line in (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                     b"I0000 00:00:1796391702.413033   12309 port.cc:153] oneDNN custom operations are on.",
                     b"I0000 00:00:1796393380.045672   22955 cpu_feature_guard.cc:227] This TensorFlow binary is",
                     b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild",
                     b"/x/keras/src/a.py:3: UserWarning: a Python warning",
                     b"  warnings.warn(",
                     b"W0000 00:00:1796391702.413033   12309 gpu.cc:12] no GPU",
                     b"E0000 00:00:1796393195.939553   22308 cuda_platform.cc:52] failed call to cuInit",
                     b"F0000 00:00:1796393195.939553   22308 a.cc:1] a fatal error",
                     b"Traceback (most recent call last):"):
            os.write(2, line + b"\n")

    keras_resfamily_cli.quietly(start_up)
    assert capfd.readouterr().err.splitlines() == [
        "/x/keras/src/a.py:3: UserWarning: a Python warning", "  warnings.warn(",
        "F0000 00:00:1796393195.939553   22308 a.cc:1] a fatal error", "Traceback (most recent call last):"]


def _exit_code(argv):
    """main's exit code, whether the command returns it or argparse raises it (--help, bad arguments)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_dispatch_help_and_unknown_command(capsys):
    assert main([]) == 2 and main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    assert main(["trian"]) == 2
    assert "unknown command 'trian'; choose from list, info, predict" in capsys.readouterr().err
    assert _exit_code(["list", "nosuchmodel*"]) == 2
    assert "no registered model matches 'nosuchmodel*'" in capsys.readouterr().err
    assert _exit_code(["predict", "ResNet18", "cat.jpg", "--top-k", "0"]) == 2  # before any file or download
    assert "--top-k must be at least 1; received 0" in capsys.readouterr().err


def test_every_subcommand_help_names_the_command(capsys):
    for name in COMMANDS:
        assert _exit_code([name, "--help"]) == 0, name
        assert f"usage: keras-resfamily {name}" in capsys.readouterr().out, name


def test_model_stats_cover_the_registry():
    assert list(model_stats()) == kr.list_models()
    assert model_stats()["ResNet50"] == {"params": 25557032, "gmacs": 4.089, "input_size": 224}


def test_info_names_reference_and_weights_preprocessing():
    text = info_text("resnet50")
    assert text.startswith("ResNet50: bottleneck blocks [3, 4, 6, 3]")
    assert "timm resnet50" in text and "25,557,032 trainable; 4.089 GMACs at 224x224" in text
    assert " * a1_in1k " in text and "crop 0.95 " in text and "bicubic" in text
    assert "minimalistic=False" in info_text("MobileNetV3Small")
    assert "none published" in info_text("DenseNet264d")


def test_predict_preprocessing_is_the_weights_own():
    assert preprocessing_for("ResNet50") == preprocessing_for("resnet50", "a1_in1k")
    config = preprocessing_for("ResNet50", "a1_in1k")
    assert (config.size, config.crop_pct, config.interpolation) == (224, 0.95, "bicubic")
    assert preprocessing_for("ResNet50", None, size=96).size == 96
    with pytest.raises(ValueError, match="No pretrained weights 'nope' for ResNet50"):
        preprocessing_for("ResNet50", "nope")
    with pytest.raises(ValueError, match="needs at least one image path; received none"):
        kr.load_images([], model="ResNet50")


def _image_files(folder):
    image = np.zeros((90, 120, 3), np.uint8)
    image[20:70, 30:90] = (200, 120, 40)
    paths = {"cat.png": tf.io.encode_png(image), "cat.jpg": tf.io.encode_jpeg(image)}
    for name, encoded in paths.items():
        (folder / name).write_bytes(encoded.numpy())
    (folder / "broken.jpg").write_bytes(b"not an image")
    return [str(folder / name) for name in paths]


def test_predict_classifies_image_files_with_local_weights(tmp_path):
    """A ResNet18 whose classifier bias favours 'tabby': both files come out tabby, through the real command."""
    model = kr.ResNet18(input_shape=(64, 64, 3))
    bias = model.get_layer("fc").bias
    bias.assign(np.where(np.arange(1000) == TABBY, 50.0, 0.0).astype("float32"))
    weights = tmp_path / "tabby.weights.h5"
    model.save_weights(weights)
    images = _image_files(tmp_path)
    code, out, err = run_cli("predict", "ResNet18", *images, "--weights", str(weights), "--size", "64",
                             "--top-k", "2", "--json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["image"] for r in results] == images
    for result in results:
        best, second = result["top_k"]
        assert (best["index"], best["label"]) == (TABBY, "tabby") and best["score"] > 0.99 > second["score"]

    code, out, err = run_cli("predict", "ResNet18", images[0], "--weights", str(weights), "--size", "64",
                             "--top-k", "1001")
    assert code == 2 and "--top-k must be between 1 and 1000; received 1001" in err

    code, out, err = run_cli("predict", "ResNet18", str(tmp_path / "broken.jpg"), "--weights", "none")
    assert code == 2 and "Cannot decode image" in err and "broken.jpg" in err and "Traceback" not in err


def test_predict_offline_without_cached_weights_says_what_to_do(tmp_path):
    image = _image_files(tmp_path)[0]
    cache = tmp_path / "cache"
    code, out, err = run_cli("predict", "ResNet18", image, env={"KERAS_RESFAMILY_HOME": str(cache),
                                                                "KERAS_RESFAMILY_OFFLINE": "1"})
    assert code == 1 and "Traceback" not in err, err
    assert "keras_resfamily.hub download ResNet18" in err and str(cache) in err


def _parsers(parser):
    """The parser and every sub-command parser below it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_option_of_every_command_states_its_default(monkeypatch):
    """--help: each option says what it does and its default (or that it is required); booleans are
    --flag/--no-flag; options with a fixed set of values list them (choices)."""
    seen = {}
    parse_known_args = argparse.ArgumentParser.parse_known_args

    def spy(self, *args, **kwargs):
        seen.setdefault(self.prog, self)
        return parse_known_args(self, *args, **kwargs)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", spy)
    for name in COMMANDS:
        _exit_code([name, "--help"])
    assert {f"keras-resfamily {name}" for name in COMMANDS} <= set(seen)
    for top in seen.values():
        for parser in _parsers(top):
            for action in parser._actions:
                if not action.option_strings or isinstance(action, argparse._HelpAction):
                    continue
                where = f"{parser.prog} {'/'.join(action.option_strings)}"
                assert not isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)), \
                    f"{where}: a boolean is --flag/--no-flag (argparse.BooleanOptionalAction)"
                text = (action.help or "").lower()
                assert len(text) > 20 and ("default" in text or (action.required and "required" in text)), where
