"""A run killed with SIGKILL resumes from its backup in a new process and finishes."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EPOCHS, STEPS = 6, 3


def _command(run_dir, *extra):
    return [sys.executable, "-m", "keras_resfamily.training.train", "--model", "ResNet18", "--data", "digits",
            "--epochs", str(EPOCHS), "--steps-per-epoch", str(STEPS), "--batch-size", "16",
            "--validation-steps", "2", "--run-dir", run_dir, "--verbose", "0", *extra]


def _backed_up_epoch(run_dir):
    try:
        with open(os.path.join(run_dir, "backup", "training_metadata.json")) as f:
            return json.load(f)["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_sigkilled_run_resumes_and_continues_optimizer_iterations(tmp_path):
    run_dir = str(tmp_path / "run")
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    first = subprocess.Popen(_command(run_dir), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while _backed_up_epoch(run_dir) < 2 and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, f"first run ended before it could be killed:\n{first.stderr.read()[-3000:]}"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _backed_up_epoch(run_dir)
    assert 2 <= killed_at < EPOCHS

    # Without --resume the existing run is refused and left untouched.
    refused = subprocess.run(_command(run_dir), cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    assert _backed_up_epoch(run_dir) == killed_at

    resumed = subprocess.run(_command(run_dir, "--resume"), cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(os.path.join(run_dir, "report.json")) as f:
        report = json.load(f)
    # The optimizer continued from the backup: iterations count every epoch once.
    assert report["optimizer_iterations"] == EPOCHS * STEPS
    assert report["epochs_run_now"] == EPOCHS - killed_at
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        epochs = [int(row["epoch"]) for row in csv.DictReader(f)]
    assert epochs[-1] == EPOCHS - 1 and epochs[-(EPOCHS - killed_at):] == list(range(killed_at, EPOCHS))
