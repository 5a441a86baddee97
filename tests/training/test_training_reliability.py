"""Faults injected into runs and data: each gives a clear error (or a fallback), never a lost user
file, and the next correct call succeeds.

Only three short trainings run (ResNet18, 32x32 digits, 1 step per epoch); the rest injects faults
into the run-directory checks, the callbacks (with a tiny model) and the image-folder reader.
"""

import csv
import hashlib
import json
import os
import shutil
import time

import keras
import numpy as np
import pytest
from PIL import Image

import keras_resfamily
from keras_resfamily.training import make_config
from keras_resfamily.training.callbacks import ChiefBackupAndRestore, make_callbacks
from keras_resfamily.training.data import load_source, make_pipelines
from keras_resfamily.training.run_dir import RunPaths, check_run_dir
from keras_resfamily.training.train import main

EPOCHS = 2
FAST = ["--model", "ResNet18", "--data", "digits", "--steps-per-epoch", "1", "--batch-size", "8",
        "--validation-steps", "1", "--verbose", "0"]


def _run(run_dir, *extra, epochs=EPOCHS):
    return main([*FAST, "--epochs", str(epochs), "--run-dir", str(run_dir), *extra])


def _tree(root):
    """{relative path: sha256} of every file under root."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return found


def _epochs_logged(run_dir):
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A run of EPOCHS epochs that completed; tests work on copies."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    assert _run(run_dir) == 0
    return run_dir


def _copy(run_dir, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(run_dir, target)
    return target


# --- --overwrite and --run-dir ---------------------------------------------------------------------


def test_overwrite_removes_only_what_a_run_wrote(finished_run, tmp_path, capsys):
    run_dir = _copy(finished_run, tmp_path)
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / "checkpoints" / "epoch5-keep.weights.h5").write_bytes(b"my own checkpoint")
    before = _tree(run_dir)
    assert _run(run_dir, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "epoch5-keep.weights.h5" in err and "error:" in err
    assert _tree(run_dir) == before  # nothing deleted or rewritten

    # The user moves their files away; --overwrite now replaces the run, and only the run.
    for name in ("notes.txt", "checkpoints/epoch5-keep.weights.h5"):
        os.replace(run_dir / name, tmp_path / os.path.basename(name))
    assert _run(run_dir, "--overwrite", epochs=1) == 0
    assert _epochs_logged(run_dir) == [0]
    with open(run_dir / "report.json") as f:
        assert json.load(f)["epochs_run_now"] == 1
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_run_dir_holding_user_files_is_refused_with_every_flag(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    (home / "src").mkdir(parents=True)
    (home / "thesis.tex").write_text("years of work")
    (home / "src" / "main.py").write_text("print('hi')")
    before = _tree(home)
    monkeypatch.chdir(home)
    for run_dir in (".", str(home)):
        for flags in (["--overwrite"], ["--resume"], []):
            assert _run(run_dir, *flags) == 2, (run_dir, flags)
            err = capsys.readouterr().err
            assert "error:" in err and "thesis.tex" in err, err
            assert _tree(home) == before, (run_dir, flags)
    # The correct call, a run directory of its own, passes the check.
    check_run_dir(make_config(run_dir="./run"))


def test_resume_of_a_directory_that_is_not_a_run_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(empty, "--resume") == 2
    assert "not a run directory" in capsys.readouterr().err
    assert os.listdir(empty) == []
    assert _run(tmp_path / "missing", "--resume") == 2
    assert not (tmp_path / "missing").exists()
    check_run_dir(make_config(run_dir=str(empty)))  # without --resume it is a fine new run directory


# --- --resume of a finished run -----------------------------------------------------------------


def test_finished_run_resumes_only_with_more_epochs_and_keeps_its_best(finished_run, tmp_path, capsys):
    run_dir = _copy(finished_run, tmp_path)
    before = _tree(run_dir)
    assert _run(run_dir, "--resume") == 2
    err = capsys.readouterr().err
    assert "already complete" in err and "--epochs" in err
    assert _tree(run_dir) == before

    # The earlier best is unbeatable, so the resumed epoch must not replace best.weights.h5.
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["val_top1"] = "1.0"
    with open(run_dir / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    best = _tree(run_dir)["checkpoints/best.weights.h5"]

    assert _run(run_dir, "--resume", epochs=EPOCHS + 1) == 0
    with open(run_dir / "report.json") as f:
        report = json.load(f)
    assert report["epochs_run_now"] == 1 and report["optimizer_iterations"] == EPOCHS + 1
    assert _epochs_logged(run_dir) == list(range(EPOCHS + 1))  # no duplicated epochs
    after = _tree(run_dir)
    assert after["checkpoints/best.weights.h5"] == best
    assert after["checkpoints/last.weights.h5"] != before["checkpoints/last.weights.h5"]


# --- checkpoints written while the process dies -------------------------------------------------


def _tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def _dies_mid_write(filepath, *args, **kwargs):
    with open(filepath, "wb") as f:
        f.write(b"\x89HDF\r\n half a file")
    raise OSError("killed while writing")


def _current_backup_file(backup_dir):
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        return os.path.join(backup_dir, json.load(f).get("weights", "latest.weights.h5"))


def test_backup_killed_mid_write_keeps_the_previous_backup(tmp_path, monkeypatch):
    backup_dir = str(tmp_path / "backup")
    model = _tiny_model()
    saver = ChiefBackupAndRestore(backup_dir, True)
    saver.set_model(model)
    saver._current_epoch = 1
    saver._save_model()
    saved = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1 for w in saved])
    monkeypatch.setattr(model, "save_weights", _dies_mid_write)
    saver._current_epoch = 2
    with pytest.raises(OSError, match="killed"):
        saver._save_model()
    monkeypatch.undo()

    restored = _tiny_model()
    loader = ChiefBackupAndRestore(backup_dir, True)
    loader.set_model(restored)
    loader.on_train_begin()
    assert restored._initial_epoch == 1
    for got, want in zip(restored.get_weights(), saved):
        np.testing.assert_array_equal(got, want)
    saver._save_model()  # the next write succeeds
    loader.on_train_begin()
    assert restored._initial_epoch == 2


def test_damaged_backup_falls_back_to_the_previous_one_or_names_the_file(tmp_path):
    backup_dir = str(tmp_path / "backup")
    model = _tiny_model()
    saver = ChiefBackupAndRestore(backup_dir, True)
    saver.set_model(model)
    for epoch in (1, 2):
        saver._current_epoch = epoch
        saver._save_model()
    damaged = _current_backup_file(backup_dir)
    with open(damaged, "r+b") as f:
        f.truncate(100)  # what a kill during the write leaves behind
    loader = ChiefBackupAndRestore(backup_dir, True)
    loader.set_model(_tiny_model())
    with pytest.warns(UserWarning, match=os.path.basename(damaged)):
        loader.on_train_begin()
    assert loader.model._initial_epoch == 1

    for name in os.listdir(backup_dir):
        if name.endswith(".weights.h5"):
            with open(os.path.join(backup_dir, name), "r+b") as f:
                f.truncate(100)
    with pytest.raises(ValueError, match=os.path.basename(damaged)):
        loader.on_train_begin()


def test_best_and_last_checkpoints_survive_a_kill_mid_write(tmp_path, monkeypatch):
    paths = RunPaths(str(tmp_path))
    os.makedirs(paths.checkpoints)
    model = _tiny_model()
    cfg = make_config(run_dir=str(tmp_path))
    checkpoints = [c for c in make_callbacks(cfg, paths, True) if isinstance(c, keras.callbacks.ModelCheckpoint)]
    assert {c.filepath for c in checkpoints} == {paths.best, paths.last}
    for callback in checkpoints:
        callback.set_model(model)
        callback.on_epoch_end(0, {"val_top1": 0.5})
    saved = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1 for w in saved])
    # The checkpoints' writer (model weights without the optimizer) dies half way.
    monkeypatch.setattr("keras_resfamily.training.callbacks.saving_lib.save_weights_only",
                        lambda model, filepath, **kwargs: _dies_mid_write(filepath))
    for callback in checkpoints:
        with pytest.raises(OSError, match="killed"):
            callback.on_epoch_end(1, {"val_top1": 0.9})
    monkeypatch.undo()
    for path in (paths.best, paths.last):
        check = _tiny_model()
        check.load_weights(path)
        for got, want in zip(check.get_weights(), saved):
            np.testing.assert_array_equal(got, want)
    for callback in checkpoints:  # the next write succeeds
        callback.on_epoch_end(2, {"val_top1": 0.95})
    check = _tiny_model()
    check.load_weights(paths.best)
    np.testing.assert_array_equal(check.get_weights()[0], saved[0] + 1)


# --- image folders ------------------------------------------------------------------------------


def _folder(root, bad=0, good=2, classes=("cat", "dog")):
    for split in ("train", "val"):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for index in range(good):
                Image.fromarray(np.full((12, 12, 3), 40 + 100 * label, np.uint8)).save(folder / f"{index}.jpg")
            for index in range(bad):
                (folder / f"bad{index}.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return root


def test_image_folder_where_nothing_decodes_fails_fast(tmp_path):
    root = _folder(tmp_path / "data", bad=3, good=0)
    start = time.time()
    with pytest.raises(ValueError, match=r"None of the 6 images .*train.* decode.*bad0\.jpg"):
        load_source(make_config(data=str(root), image_size=32))
    assert time.time() - start < 30
    for name in ("cat", "dog"):  # the next correct call: the images are fixed
        Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(root / "train" / name / "bad0.jpg")
        Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(root / "val" / name / "bad0.jpg")
    with pytest.warns(UserWarning, match="Skipping 4 of 6 images"):
        source = load_source(make_config(data=str(root), image_size=32))
    assert source.train.num_examples == 2


def test_partly_corrupt_image_folder_reports_the_bad_files_once(tmp_path):
    root = _folder(tmp_path / "data", bad=1, good=3)
    cfg = make_config(data=str(root), image_size=32, crop_pct=1.0, shuffle_buffer=1)
    with pytest.warns(UserWarning) as record:
        source = load_source(cfg)
        pipelines = make_pipelines(cfg, source, keras_resfamily.get_spec("ResNet18"))
        train = iter(pipelines.train_dataset(4))
        for _ in range(5):  # several passes over the 6 good training images
            images, _ = next(train)
    messages = [str(w.message) for w in record if "decode" in str(w.message)]
    assert len(messages) == 2, messages  # one per split
    assert "Skipping 2 of 8 images" in messages[0] and "bad0.jpg" in messages[0]
    assert source.train.num_examples == 6 and source.validation.num_examples == 6
    assert images.shape == (4, 32, 32, 3)


def test_empty_class_folder_is_a_clear_error(tmp_path):
    root = _folder(tmp_path / "data")
    (root / "train" / "empty_class").mkdir()
    with pytest.raises(ValueError, match=r"empty_class.* no images"):
        load_source(make_config(data=str(root), image_size=32))
    (root / "train" / "empty_class").rmdir()  # the next correct call
    assert load_source(make_config(data=str(root), image_size=32)).num_classes == 2


# --- checkpoint contents ---------------------------------------------------------------------------


def test_best_and_last_checkpoints_hold_model_weights_only(finished_run):
    """The optimizer state belongs in the resume backup; the checkpoints are the model's weights
    (ResNet18: 45 MB instead of 90 MB with SGD momentum slots) and load into a fresh model."""
    import h5py

    paths = RunPaths(str(finished_run))
    model = keras_resfamily.create_model("ResNet18", classes=10, input_shape=(32, 32, 3))
    weight_bytes = sum(int(np.prod(v.shape)) * 4 for v in model.weights)
    for path in (paths.best, paths.last):
        with h5py.File(path) as f:
            assert "optimizer" not in f, f"{path} carries the optimizer state"
        assert os.path.getsize(path) < 1.1 * weight_bytes
        keras_resfamily.create_model("ResNet18", classes=10, input_shape=(32, 32, 3), weights=path)
    with h5py.File(os.path.join(paths.final_state, "state-0.weights.h5")) as f:
        assert "optimizer" in f  # resuming needs it
