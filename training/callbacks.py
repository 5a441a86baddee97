"""Callbacks of a run: backup/resume, best + last checkpoints, TensorBoard, CSV, EMA swap."""

import importlib.util
import warnings

import keras


class ChiefBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Every worker restores from the shared backup; only the chief writes or deletes it."""

    def __init__(self, backup_dir, chief, **kwargs):
        super().__init__(backup_dir, delete_checkpoint=chief, **kwargs)
        self._chief = chief

    def _save_model(self):
        if self._chief:
            super()._save_model()


def make_callbacks(cfg, paths, chief):
    # The backup comes first: it must save the raw weights before the EMA swap below.
    callbacks = [ChiefBackupAndRestore(paths.backup, chief, save_freq=cfg.backup_every_steps or "epoch")]
    if cfg.ema_decay:
        # EMA weights during validation and for the checkpoints written at epoch end.
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if chief:
        callbacks += [
            keras.callbacks.ModelCheckpoint(paths.best, monitor="val_top1", mode="max", save_best_only=True,
                                            save_weights_only=True),
            keras.callbacks.ModelCheckpoint(paths.last, save_weights_only=True),
            keras.callbacks.CSVLogger(paths.metrics, append=True),
        ]
        if importlib.util.find_spec("tensorboard") is not None:
            callbacks.append(keras.callbacks.TensorBoard(paths.logs, update_freq="epoch"))
        else:
            warnings.warn("TensorBoard logs are off: the `tensorboard` package is not installed "
                          "(pip install tensorboard).")
    callbacks.append(keras.callbacks.TerminateOnNaN())
    return callbacks
