"""Configuration, recipes, CLI flags, schedules and bad-input errors (no training here)."""

import argparse
import dataclasses
import json
import os
import types

import numpy as np
import pytest

from keras_resfamily.training import make_config
from keras_resfamily.training.cli import build_parser, parse_args
from keras_resfamily.training.config import TrainConfig, resolve
from keras_resfamily.training.schedules import WarmupSchedule
from keras_resfamily.training.strategy import check_global_batch, make_strategy
from keras_resfamily.training.train import main, prepare


@pytest.mark.parametrize("field, value, message", [
    ("strategy", "horovod", "Unknown strategy: 'horovod'. Allowed: auto, one-device"),
    ("precision", "float8", "Unknown precision: 'float8'. Allowed: float32, mixed_float16"),
    ("recipe", "magic", "Unknown recipe: 'magic'. Allowed: baseline, resnet-rs"),
    ("batch_size", 0, "`batch_size` must be a number > 0. Received: batch_size=0"),
    ("label_smoothing", 1.5, r"`label_smoothing` must be a float in \[0, 1\)"),
])
def test_bad_values_name_what_was_received_and_what_is_allowed(field, value, message):
    with pytest.raises(ValueError, match=message):
        make_config(**{field: value})


def test_unknown_model_and_unknown_key_fail_before_any_work():
    with pytest.raises(ValueError, match="Unknown model name: 'ResNet9000'"):
        prepare(make_config(model="ResNet9000"))
    with pytest.raises(ValueError, match=r"Unknown keys in arguments: \['epoch'\]"):
        make_config(epoch=3)


def test_global_batch_must_divide_across_replicas():
    with pytest.raises(ValueError, match="batch_size=30 .* divisible by the number of replicas \\(4\\)"):
        check_global_batch(30, types.SimpleNamespace(num_replicas_in_sync=4))
    assert check_global_batch(32, types.SimpleNamespace(num_replicas_in_sync=4)) == 8


def test_multi_worker_without_tf_config_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG environment variable"):
        make_strategy("multi-worker")


def test_precedence_recipe_then_file_then_flags(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("recipe: resnet-rs\nepochs: 7\nweight_decay: 0.001\n")
    values, config_file = parse_args(["--config", str(path), "--epochs", "3", "--sync-batchnorm",
                                      "--step-epochs", "1", "2"])
    cfg = resolve(values, config_file)
    assert cfg.recipe == "resnet-rs" and cfg.ema_decay == 0.9999 and cfg.label_smoothing == 0.1  # recipe
    assert cfg.weight_decay == 0.001  # file over recipe
    assert cfg.epochs == 3 and cfg.sync_batchnorm is True and cfg.step_epochs == [1, 2]  # flags over file
    json_path = tmp_path / "exp.json"
    json_path.write_text(json.dumps({"recipe": "baseline", "batch_size": 512}))
    cfg = resolve({}, str(json_path))
    assert cfg.batch_size == 512 and cfg.weight_decay == 1e-4 and cfg.epochs == 90
    (tmp_path / "bad.yaml").write_text("lerning_rate: 1\n")
    with pytest.raises(ValueError, match=r"Unknown keys in config file .*\['lerning_rate'\]"):
        resolve({}, str(tmp_path / "bad.yaml"))


def test_existing_run_is_never_overwritten_without_a_flag(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "report.json").write_text("precious")
    assert main(["--run-dir", str(run_dir), "--epochs", "1"]) == 2
    assert "--resume to continue it or --overwrite" in capsys.readouterr().err
    assert os.listdir(run_dir) == ["report.json"] and (run_dir / "report.json").read_text() == "precious"
    # Bad data with --overwrite fails validation before anything is deleted.
    assert main(["--run-dir", str(run_dir), "--overwrite", "--data", str(tmp_path / "missing")]) == 2
    assert (run_dir / "report.json").read_text() == "precious"


def test_warmup_cosine_and_step_schedules():
    cosine = WarmupSchedule(0.4, total_steps=100, warmup_steps=10)
    values = [float(cosine(s)) for s in (0, 9, 10, 55, 100)]
    np.testing.assert_allclose(values, [0.04, 0.4, 0.4, 0.2, 0.0], atol=1e-6)
    step = WarmupSchedule(0.1, total_steps=100, kind="step", boundaries=[30, 60])
    np.testing.assert_allclose([float(step(s)) for s in (29, 30, 60)], [0.1, 0.01, 0.001], rtol=1e-5)
    assert WarmupSchedule.from_config(cosine.get_config()).get_config() == cosine.get_config()


def _flags(parser):
    """{TrainConfig field name: its argparse action}."""
    return {action.dest: action for action in parser._actions if action.dest in TrainConfig.__dataclass_fields__}


def test_every_flag_says_what_it_does_its_default_and_its_allowed_values():
    fields = dataclasses.fields(TrainConfig)
    assert [f.name for f in fields if not f.metadata.get("help", "").strip()] == []
    flags = _flags(build_parser())
    assert set(flags) == {f.name for f in fields}
    shown = {None: "unset", True: "on", False: "off"}
    for field in fields:
        default = TrainConfig().to_dict()[field.name]
        if isinstance(default, list):
            text = " ".join(map(str, default))
        else:
            text = shown[default] if default is None or isinstance(default, bool) else str(default)
        help_text = flags[field.name].help
        assert help_text.startswith(field.metadata["help"]) and f"Default: {text}." in help_text, field.name
    for name, allowed in [("precision", ("float32", "mixed_float16", "mixed_bfloat16")), ("verbose", (0, 1, 2)),
                          ("strategy", ("auto", "one-device", "mirrored", "multi-worker", "tpu")),
                          ("optimizer", ("sgd", "adamw")), ("augment", ("auto", "inception", "none")),
                          ("schedule", ("cosine", "step", "constant")), ("recipe", ("baseline", "resnet-rs"))]:
        assert tuple(flags[name].choices) == allowed, name
    booleans = [f.name for f in fields if f.type is bool]
    assert booleans and all(isinstance(flags[n], argparse.BooleanOptionalAction) for n in booleans)
    assert "--no-resume" in build_parser().format_help()


def test_booleans_are_flag_pairs_and_enumerations_refuse_other_values(capsys):
    values, _ = parse_args(["--jit-compile", "--no-deterministic", "--verbose", "2"])
    assert values == {"jit_compile": True, "deterministic": False, "verbose": 2}
    for argv in (["--jit-compile", "true"], ["--precision", "float8"], ["--verbose", "3"]):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(argv)
        assert exit_info.value.code == 2
    assert "invalid choice: 'float8'" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"Unknown verbose: 3. Allowed: 0, 1, 2"):
        make_config(verbose=3)


def test_prog_names_the_command_in_usage_and_help(capsys):
    assert build_parser().prog == "python -m keras_resfamily.training.train"
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"], prog="keras-resfamily train")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: keras-resfamily train [-h]")
