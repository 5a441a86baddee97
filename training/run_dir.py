"""Run directory layout and the rule that an existing run is never replaced by accident.

<run_dir>/config.json        effective configuration
<run_dir>/backup/            BackupAndRestore state (weights + optimizer + epoch) for resuming
<run_dir>/checkpoints/       best.weights.h5 (highest val top-1) and last.weights.h5
<run_dir>/logs/              TensorBoard
<run_dir>/metrics.csv        one row per epoch
<run_dir>/report.json        final evaluation (top-1 / top-5)
"""

import dataclasses
import os
import shutil


@dataclasses.dataclass(frozen=True)
class RunPaths:
    root: str

    def __getattr__(self, name):
        names = dict(config="config.json", backup="backup", checkpoints="checkpoints", logs="logs",
                     metrics="metrics.csv", report="report.json")
        if name not in names:
            raise AttributeError(name)
        return os.path.join(self.root, names[name])

    @property
    def best(self):
        return os.path.join(self.checkpoints, "best.weights.h5")

    @property
    def last(self):
        return os.path.join(self.checkpoints, "last.weights.h5")


def check_run_dir(cfg, enforce=True) -> RunPaths:
    """Refuse an existing non-empty run directory unless resume or overwrite is set (writes nothing)."""
    root = cfg.run_dir
    if not enforce:
        return RunPaths(root)
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"run_dir {root!r} exists and is not a directory")
    exists = os.path.isdir(root) and bool(os.listdir(root))
    if exists and not (cfg.resume or cfg.overwrite):
        raise ValueError(f"Run directory {root!r} already holds a run; pass --resume to continue it or "
                         "--overwrite to replace it, or choose another --run-dir.")
    return RunPaths(root)


def create_run_dir(cfg, paths: RunPaths, chief: bool):
    """Clear (overwrite) and create the directories; only the chief writes."""
    if not chief:
        return
    if cfg.overwrite and os.path.isdir(paths.root):
        shutil.rmtree(paths.root)
    for folder in (paths.root, paths.checkpoints, paths.logs):
        os.makedirs(folder, exist_ok=True)
