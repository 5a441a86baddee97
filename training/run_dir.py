"""Run directory layout and the rules that keep runs, and everything else, from being replaced by accident.

<run_dir>/.keras_resfamily_run.json  marker: the entries this tool writes, epochs completed
<run_dir>/config.json        effective configuration
<run_dir>/backup/            training state (weights + optimizer + epoch) during a fit, for --resume
<run_dir>/final_state/       the same state at the end of the last finished fit (--resume with more epochs)
<run_dir>/checkpoints/       best.weights.h5 (highest val top-1) and last.weights.h5
<run_dir>/logs/              TensorBoard
<run_dir>/metrics.csv        one row per epoch
<run_dir>/report.json        final evaluation (top-1 / top-5)
<run_dir>/curves.png         loss and top-1 per epoch, train and validation (with matplotlib)

Only a directory holding the marker is a run: --overwrite removes exactly the marker's entries
(and refuses when anything else is there), --resume refuses a directory without it.
"""

import csv
import dataclasses
import json
import os
import re
import shutil

MARKER = ".keras_resfamily_run.json"
NAMES = dict(config="config.json", backup="backup", final_state="final_state", checkpoints="checkpoints",
             logs="logs", metrics="metrics.csv", report="report.json", curves="curves.png", marker=MARKER)
# Files this tool writes inside its folders (".tmp-" names are atomic writes cut short); None = any.
_STATE_FILES = r"(\.tmp-)?(state-[01]\.weights\.h5|training_metadata\.json)"
_OWN_FILES = {"backup": _STATE_FILES, "final_state": _STATE_FILES,
              "checkpoints": r"(\.tmp-)?(best|last)\.weights\.h5", "logs": None}


@dataclasses.dataclass(frozen=True)
class RunPaths:
    root: str

    def __getattr__(self, name):
        if name not in NAMES:
            raise AttributeError(name)
        return os.path.join(self.root, NAMES[name])

    @property
    def best(self):
        return os.path.join(self.checkpoints, "best.weights.h5")

    @property
    def last(self):
        return os.path.join(self.checkpoints, "last.weights.h5")


def read_marker(paths: RunPaths):
    """The marker's content, or None when the directory holds no run of this tool."""
    try:
        with open(paths.marker) as f:
            marker = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ValueError(f"Run marker {paths.marker!r} is unreadable ({error}); move the directory aside "
                         "or choose another --run-dir.") from None
    return marker if isinstance(marker, dict) else {}


def write_marker(paths: RunPaths, **changes):
    """Create or update the marker atomically (a kill leaves the old one or the new one)."""
    marker = dict(read_marker(paths) or {}, tool="keras_resfamily.training", entries=sorted(NAMES.values()))
    marker.setdefault("completed_epochs", 0)
    marker.update(changes)
    write_json_atomic(paths.marker, marker)


def write_json_atomic(path, value):
    temp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
    with open(temp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(temp, path)


def _foreign_entries(paths: RunPaths, marker):
    """Paths in the run directory that this tool did not write (they must never be deleted)."""
    listed = set(marker.get("entries", ())) if marker else set()
    foreign = []
    for name in sorted(os.listdir(paths.root)):
        path = os.path.join(paths.root, name)
        if name.removeprefix(".tmp-") not in listed:
            foreign.append(path)
            continue
        pattern = _OWN_FILES.get(name, "^$")  # "^$": a file of ours is never a folder of foreign entries
        if os.path.isdir(path) and pattern is not None:
            foreign += [os.path.join(path, n) for n in sorted(os.listdir(path)) if not re.fullmatch(pattern, n)]
    return foreign


def _describe(found, limit=5):
    shown = ", ".join(repr(p) for p in found[:limit])
    return f"{len(found)} path(s): {shown}" + (", ..." if len(found) > limit else "")


def check_run_dir(cfg, enforce=True) -> RunPaths:
    """Refuse what would replace or mix with something that is not this run's (writes nothing)."""
    paths = RunPaths(cfg.run_dir)
    root = cfg.run_dir
    if not enforce:
        return paths
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(f"run_dir {root!r} exists and is not a directory")
    marker = read_marker(paths) if os.path.isdir(root) else None
    if cfg.resume:
        _check_resume(cfg, paths, marker)
        return paths
    if not (os.path.isdir(root) and os.listdir(root)):
        return paths
    if not cfg.overwrite:
        found = f"is not empty: found {_describe(sorted(os.listdir(root)))}"
        what = "already holds a run" if marker is not None else found
        raise ValueError(f"Run directory {root!r} {what}; pass --resume to continue it or --overwrite to replace it "
                         "(only a run written by keras_resfamily.training can be), or choose another --run-dir.")
    if marker is None:
        raise ValueError(f"--overwrite refused: run directory {root!r} is not empty and holds no run of "
                         f"keras_resfamily.training (no {MARKER}): found {_describe(sorted(os.listdir(root)))}. "
                         "Nothing was deleted; choose an empty or new --run-dir.")
    foreign = _foreign_entries(paths, marker)
    if foreign:
        raise ValueError(f"--overwrite refused: run directory {root!r} also holds {_describe(foreign)}, which "
                         "keras_resfamily.training did not write. Nothing was deleted; move those files out of the "
                         "run directory, or choose another --run-dir.")
    return paths


def _check_resume(cfg, paths, marker):
    if marker is None:
        found = sorted(os.listdir(cfg.run_dir)) if os.path.isdir(cfg.run_dir) else []
        what = f"it holds {_describe(found)}" if found else "it is empty or missing"
        raise ValueError(f"--resume needs a run directory written by keras_resfamily.training; {cfg.run_dir!r} is "
                         f"not a run directory (no {MARKER}; {what}). Nothing was changed; drop --resume to start "
                         "a new run in an empty or new --run-dir.")
    done = int(marker.get("completed_epochs", 0))
    if done >= cfg.epochs:
        raise ValueError(f"Run {cfg.run_dir!r} is already complete: it trained {done} epoch(s) and --epochs is "
                         f"{cfg.epochs}. Nothing was retrained; pass --resume --epochs N with N > {done} to "
                         "train it further (from its last epoch and optimizer state), or --overwrite to "
                         "start it again.")
    has_state = any(os.path.exists(os.path.join(folder, "training_metadata.json"))
                    for folder in (paths.backup, paths.final_state))
    if done and not has_state:
        raise ValueError(f"Run {cfg.run_dir!r} completed {done} epoch(s) but its training state "
                         f"({paths.backup!r}, {paths.final_state!r}) is gone, so it cannot continue; pass "
                         "--overwrite to start it again.")


def create_run_dir(cfg, paths: RunPaths, chief: bool):
    """Remove the previous run's entries (overwrite), create the directories and the marker; only the chief writes."""
    if not chief:
        return
    if cfg.overwrite and read_marker(paths) is not None:
        # check_run_dir made sure every entry here is ours; the marker goes last.
        names = [n for name in NAMES.values() if name != MARKER for n in (name, ".tmp-" + name)]
        for name in names + [".tmp-" + MARKER, MARKER]:
            path = os.path.join(paths.root, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
    os.makedirs(paths.root, exist_ok=True)
    write_marker(paths)  # first (or updated: a resumed older run learns newer entries) so every entry is marked
    for folder in (paths.checkpoints, paths.logs):
        os.makedirs(folder, exist_ok=True)


def best_logged(paths: RunPaths, monitor="val_top1"):
    """(0-based epoch, value) of the highest `monitor` in metrics.csv (what best.weights.h5 holds), or None."""
    logged = [(int(row["epoch"]), float(row[monitor])) for row in _rows(paths) if row.get(monitor) not in (None, "")]
    return max(logged, key=lambda pair: pair[1]) if logged else None


def _rows(paths):
    if not os.path.exists(paths.metrics):
        return []
    with open(paths.metrics, newline="") as f:
        return list(csv.DictReader(f))


def trim_metrics(paths: RunPaths, start_epoch):
    """Drop metrics.csv rows of epochs that will be trained again (no duplicated epochs after a resume)."""
    rows = _rows(paths)
    kept = [row for row in rows if int(row["epoch"]) < start_epoch]
    if len(kept) == len(rows):
        return
    temp = os.path.join(paths.root, ".tmp-" + NAMES["metrics"])
    with open(temp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    os.replace(temp, paths.metrics)
