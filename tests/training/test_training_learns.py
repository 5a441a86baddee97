"""It learns: ResNet18 on the embedded digits data reaches >= 90% validation top-1."""

import json
import os

from training import make_config, run_training


def test_resnet18_learns_digits_and_writes_the_run_directory(tmp_path):
    run_dir = str(tmp_path / "run")
    cfg = make_config(model="ResNet18", data="digits", epochs=3, batch_size=64, run_dir=run_dir, verbose=0)
    report = run_training(cfg)

    assert report["val_top1"] >= 0.90, report
    assert report["optimizer_iterations"] == 3 * (1442 // 64)
    with open(os.path.join(run_dir, "report.json")) as f:
        assert json.load(f)["val_top1"] == report["val_top1"]
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["epochs"] == 3
    for name in ("checkpoints/best.weights.h5", "checkpoints/last.weights.h5"):
        assert os.path.getsize(os.path.join(run_dir, name)) > 1_000_000
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        rows = f.read().strip().splitlines()
    assert rows[0].split(",")[:2] == ["epoch", "loss"] and len(rows) == 4
    assert not os.path.exists(os.path.join(run_dir, "backup"))  # removed after a finished run
