"""Learning-rate schedules with linear warmup, as serialisable keras schedules (checkpoint-safe)."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="training")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup over `warmup_steps`, then cosine to 0, steps (x gamma at boundaries) or constant."""

    def __init__(self, peak_lr, total_steps, warmup_steps=0, kind="cosine", boundaries=(), gamma=0.1):
        self.peak_lr = float(peak_lr)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.kind = kind
        self.boundaries = [int(b) for b in boundaries]
        self.gamma = float(gamma)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.kind == "cosine":
            span = max(self.total_steps - self.warmup_steps, 1)
            progress = ops.clip((step - self.warmup_steps) / span, 0.0, 1.0)
            lr = 0.5 * self.peak_lr * (1.0 + ops.cos(math.pi * progress))
        elif self.kind == "step":
            passed = sum(ops.cast(step >= b, "float32") for b in self.boundaries) if self.boundaries else 0.0
            lr = self.peak_lr * ops.power(self.gamma, passed)
        else:
            lr = ops.convert_to_tensor(self.peak_lr, "float32")
        if self.warmup_steps:
            warm = self.peak_lr * (step + 1.0) / self.warmup_steps
            lr = ops.where(step < self.warmup_steps, warm, lr)
        return lr

    def get_config(self):
        return dict(peak_lr=self.peak_lr, total_steps=self.total_steps, warmup_steps=self.warmup_steps,
                    kind=self.kind, boundaries=self.boundaries, gamma=self.gamma)


def peak_learning_rate(cfg):
    """Absolute lr if given, else base_lr scaled linearly with the global batch (Goyal et al. 2017)."""
    return cfg.lr if cfg.lr is not None else cfg.base_lr * cfg.batch_size / 256.0


def make_schedule(cfg, steps_per_epoch):
    return WarmupSchedule(
        peak_learning_rate(cfg), total_steps=cfg.epochs * steps_per_epoch,
        warmup_steps=round(cfg.warmup_epochs * steps_per_epoch), kind=cfg.schedule,
        boundaries=[e * steps_per_epoch for e in cfg.step_epochs], gamma=cfg.step_gamma,
    )
