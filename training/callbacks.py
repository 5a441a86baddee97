"""Callbacks of a run: backup/resume, best + last checkpoints, TensorBoard, CSV, EMA swap.

Every file is written to a ".tmp-" name in its folder and then renamed over the old one
(os.replace is atomic), so a process killed mid-write leaves the previous file intact.
"""

import importlib.util
import json
import os
import shutil
import warnings

import keras
import numpy as np
from keras.src.saving import saving_lib  # save_weights_only(objects_to_skip=): Model.save_weights has no such option

from .run_dir import best_logged, trim_metrics, write_json_atomic

METADATA = "training_metadata.json"
SLOTS = ("state-0.weights.h5", "state-1.weights.h5")


def _finite(logs):
    loss = (logs or {}).get("loss")
    return loss is None or bool(np.isfinite(float(loss)))


def _read_metadata(folder):
    with open(os.path.join(folder, METADATA)) as f:
        return json.load(f)


class ChiefBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Backup of weights + optimizer + epoch that survives a kill at any point.

    Two states alternate between two weight files; training_metadata.json (replaced atomically after
    the weights) names the current one and the previous one, so a damaged current file falls back to
    the previous state. At the end of fit the backup becomes `final_dir` instead of being deleted:
    a finished run resumed with more epochs continues from it. Every worker restores; only the chief
    writes.
    """

    def __init__(self, backup_dir, chief, final_dir=None, on_restore=None, **kwargs):
        super().__init__(backup_dir, delete_checkpoint=False, **kwargs)
        self._chief, self._final_dir, self._on_restore = chief, final_dir, on_restore
        self.saved_epoch = 0  # epochs completed in the state last saved or restored

    def on_train_begin(self, logs=None):
        self._load_model()

    def _load_model(self):
        candidates, failed = [], []
        for folder in (self.backup_dir, self._final_dir):
            if folder is None or not os.path.exists(os.path.join(folder, METADATA)):
                continue
            try:
                meta = _read_metadata(folder)
                states = [m for m in (meta, meta.get("previous")) if m]
                candidates += [(os.path.join(folder, m["weights"]), m["epoch"]) for m in states]
            except (OSError, ValueError, KeyError, TypeError) as error:
                failed.append(f"{os.path.join(folder, METADATA)!r} ({error})")
        for path, epoch in candidates:
            try:
                if self.model.optimizer is not None and not self.model.optimizer.built:
                    self.model.optimizer.build(self.model.trainable_variables)
                self.model.load_weights(path)
            except (OSError, ValueError, KeyError) as error:
                failed.append(f"{path!r} ({type(error).__name__}: {str(error)[:200]})")
                continue
            if failed:
                warnings.warn(f"Backup {failed[0]} could not be loaded; resuming from the earlier state {path!r} "
                              f"(epoch {epoch}) instead.")
            self.model._initial_epoch = self.saved_epoch = self._current_epoch = epoch
            break
        else:
            if failed:
                raise ValueError(f"No backup in {self.backup_dir!r} could be loaded: {'; '.join(failed)}. "
                                 "The run cannot continue; pass --overwrite to start it again.")
        if self._on_restore is not None:
            self._on_restore(self.saved_epoch)

    def on_epoch_end(self, epoch, logs=None):
        # Every epoch end, also with a step frequency, so the final state is always saved.
        self._current_epoch, self._last_batch_seen = epoch + 1, 0
        if _finite(logs):  # never back up a diverged (NaN) state over a good one
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch) and _finite(logs):
            self._save_model()

    def _save_model(self):
        if not self._chief:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        meta_path = os.path.join(self.backup_dir, METADATA)
        try:
            meta = _read_metadata(self.backup_dir)
        except (OSError, ValueError):
            meta = None
        slot = SLOTS[1] if meta and meta.get("weights") == SLOTS[0] else SLOTS[0]
        if meta and meta.get("previous"):  # its file is about to be replaced: forget it first
            write_json_atomic(meta_path, {k: meta[k] for k in ("epoch", "batch", "weights")})
        temp = os.path.join(self.backup_dir, ".tmp-" + slot)
        self.model.save_weights(temp, overwrite=True)  # a kill here leaves only the temp file
        os.replace(temp, os.path.join(self.backup_dir, slot))
        current = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights": slot}
        if meta:
            current["previous"] = {k: meta[k] for k in ("epoch", "batch", "weights")}
        write_json_atomic(meta_path, current)
        self.saved_epoch = self._current_epoch

    def on_train_end(self, logs=None):
        if not (self._chief and self._final_dir and os.path.exists(os.path.join(self.backup_dir, METADATA))):
            return
        # A kill between these two steps leaves backup/, which --resume reads first.
        if os.path.exists(self._final_dir):
            shutil.rmtree(self._final_dir)
        os.replace(self.backup_dir, self._final_dir)


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """The model's weights (not the optimizer's: that state is the backup's), written to a temp file
    and renamed over the checkpoint. ResNet18 with SGD momentum: 45 MB instead of 90 MB."""

    def __init__(self, filepath, **kwargs):
        super().__init__(filepath, save_weights_only=True, **kwargs)

    def _save_model(self, epoch, batch, logs):
        if not self._should_save_model(epoch, batch, logs, self.filepath):
            return
        temp = os.path.join(os.path.dirname(self.filepath), ".tmp-" + os.path.basename(self.filepath))
        skip = [self.model.optimizer] if self.model.optimizer is not None else []
        saving_lib.save_weights_only(self.model, temp, objects_to_skip=skip)  # overwrites a killed write's
        os.replace(temp, self.filepath)


def make_callbacks(cfg, paths, chief):
    # The backup comes first: it must save the raw weights before the EMA swap below, and restore
    # (trimming metrics.csv to the restored epoch) before CSVLogger opens the file.
    restore = (lambda epoch: trim_metrics(paths, epoch)) if chief else None
    callbacks = [ChiefBackupAndRestore(paths.backup, chief, final_dir=paths.final_state, on_restore=restore,
                                       save_freq=cfg.backup_every_steps or "epoch")]
    if cfg.ema_decay:
        # EMA weights during validation and for the checkpoints written at epoch end.
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if chief:
        # A resumed run keeps best.weights.h5 unless a later epoch beats the best it logged.
        best = best_logged(paths) if cfg.resume else None
        callbacks += [
            AtomicModelCheckpoint(paths.best, monitor="val_top1", mode="max", save_best_only=True,
                                  initial_value_threshold=best[1] if best else None),
            AtomicModelCheckpoint(paths.last),
            keras.callbacks.CSVLogger(paths.metrics, append=True),
        ]
        if importlib.util.find_spec("tensorboard") is not None:
            callbacks.append(keras.callbacks.TensorBoard(paths.logs, update_freq="epoch"))
        else:
            warnings.warn("TensorBoard logs are off: the `tensorboard` package is not installed "
                          "(pip install tensorboard).")
    callbacks.append(keras.callbacks.TerminateOnNaN())
    return callbacks
