"""What a run prints and draws: plain output when stdout is not a terminal, one summary block, curves.png."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from keras_resfamily.training.curves import draw_curves, read_history
from keras_resfamily.training.run_dir import RunPaths
from keras_resfamily.training.summary import format_duration, format_summary
from keras_resfamily.training.train import fit_verbose

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COLUMNS = ["epoch", "loss", "top1", "top5", "val_loss", "val_top1", "val_top5"]


def _write_metrics(path, epochs, best_epoch=None):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for epoch in range(epochs):
            val_top1 = 0.98 if epoch == best_epoch else 0.5 + 0.01 * epoch
            writer.writerow([epoch, 2.0 / (epoch + 1), 0.3 + 0.1 * epoch, 0.9, 1.0, val_top1, 0.99])


class _Stream(io.StringIO):
    def __init__(self, terminal):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


def test_progress_bar_only_on_a_terminal():
    assert fit_verbose(1, _Stream(terminal=True)) == 1
    assert fit_verbose(1, _Stream(terminal=False)) == 2  # one plain line per epoch
    assert fit_verbose(0, _Stream(terminal=False)) == 0 and fit_verbose(2, _Stream(terminal=True)) == 2


def test_durations_read_like_a_person_would_say_them():
    assert [format_duration(s) for s in (7.4, 92.4, 3725)] == ["7 s", "1 min 32 s", "1 h 2 min 5 s"]


def test_summary_block_names_accuracy_wall_time_and_the_run_files(tmp_path):
    paths = RunPaths(str(tmp_path))
    _write_metrics(paths.metrics, epochs=4, best_epoch=2)
    report = dict(model="ResNet18", data="digits", replicas=1, precision="float32", epochs=4, epochs_run_now=4,
                  val_loss=0.0812, val_top1=0.97183, val_top5=1.0, wall_seconds=92.4, curves=paths.curves)
    text = format_summary(report, paths)
    assert "top-1 97.2%, top-5 100.0%" in text and "wall time: 1 min 32 s" in text
    for path in (paths.report, paths.best, paths.curves):
        assert path in text
    assert f"{paths.best} (epoch 3, top-1 98.0%)" in text
    assert "TensorBoard logs: none" in text  # no logs written in this directory
    report.update(curves=None, curves_error="RuntimeError: no display")
    assert "curves:           not drawn: RuntimeError: no display" in format_summary(report, paths)


def test_curves_plot_every_epoch_of_a_resumed_run(tmp_path):
    metrics, png = str(tmp_path / "metrics.csv"), str(tmp_path / "curves.png")
    _write_metrics(metrics, epochs=5)  # metrics.csv of a run resumed after its epoch 3 holds all 5
    history = read_history(metrics)
    assert history["epoch"] == [1, 2, 3, 4, 5] and len(history["val_top1"]) == 5
    assert draw_curves(metrics, png) == (png, None)
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "metrics.csv"]  # no temporary file left


def test_curves_that_cannot_be_drawn_say_why_instead_of_failing(tmp_path, monkeypatch):
    metrics, png = str(tmp_path / "metrics.csv"), str(tmp_path / "curves.png")
    path, error = draw_curves(metrics, png)
    assert path is None and error.startswith("FileNotFoundError")
    _write_metrics(metrics, epochs=2)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if not installed
    assert draw_curves(metrics, png) == (None, "matplotlib is not installed (pip install matplotlib)")
    assert not os.path.exists(png)


def test_piped_command_line_prints_plain_lines_and_one_summary(tmp_path):
    run_dir = str(tmp_path / "run")
    command = [sys.executable, "-m", "keras_resfamily.training.train", "--model", "ResNet18", "--data", "digits",
               "--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "8", "--validation-steps", "1",
               "--run-dir", run_dir]  # default --verbose 1: Keras' progress bar on a terminal
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for control in ("\x1b", "\b", "\r"):
        assert control not in out, (control, out)
    assert out.count("Epoch ") == 2 and out.count("Finished: ResNet18 on digits") == 1
    assert "final evaluation" not in out
    paths = RunPaths(run_dir)
    with open(paths.report) as f:
        report = json.load(f)
    assert report["curves"] == paths.curves and os.path.getsize(paths.curves) > 10_000
    summary = out[out.index("Finished: "):]
    assert f"top-1 {100 * report['val_top1']:.1f}%" in summary
    for path in (paths.report, paths.best, paths.curves):
        assert path in summary
