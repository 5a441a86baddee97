"""Training configuration: one flat dataclass, filled from recipe < config file < explicit flags.

Every field can be set from the command line (`--field-name value`), from a YAML or JSON file
(`--config file.yaml`, keys are the field names) or as a keyword of `TrainConfig(...)`.
"""

import dataclasses
import json
import os
from typing import List, Optional, Union

from .run_dir import write_json_atomic

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "step", "constant")
AUGMENTS = ("auto", "inception", "none")


@dataclasses.dataclass
class TrainConfig:
    # What to train.
    model: str = "ResNet18"
    pretrained: Optional[str] = None  # weights tag for keras_resfamily (e.g. "imagenet"), None = random
    recipe: Optional[str] = None  # name in training.recipes.RECIPES; applied below explicit values
    # Data: "digits", a tfds name ("cifar10", "tfds:imagenette/320px-v2"), an image folder
    # ("folder:/data/flowers" or a path) or a TFRecord directory ("tfrecord:/data/imagenet").
    data: str = "digits"
    data_dir: Optional[str] = None  # tfds data_dir (prepared datasets; nothing is downloaded)
    train_split: Optional[str] = None  # default per source ("train")
    val_split: Optional[str] = None  # default per source ("validation" or "test")
    num_classes: Optional[int] = None  # default per source; required for TFRecords
    tfrecord_label_offset: int = 1  # ImageNet TFRecords store labels 1..1000 (0 = background)
    image_size: Optional[int] = None  # default: 32 for digits, the model's default_size otherwise
    crop_pct: Optional[float] = None  # eval center crop fraction; default 1.0 digits, 0.875 otherwise
    augment: str = "auto"  # inception random-resized-crop + flip; auto = none for digits
    randaugment_ops: int = 2
    randaugment_magnitude: float = 0.0  # 0 disables; paper scale 0..10 (keras factor = m / 10)
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    label_smoothing: float = 0.0
    shuffle_buffer: int = 10000
    deterministic: bool = False
    seed: int = 0
    # Optimisation.
    epochs: int = 10
    steps_per_epoch: Optional[int] = None  # default: train examples // global batch
    validation_steps: Optional[int] = None  # default: the whole validation split
    batch_size: int = 128  # global batch over all replicas
    optimizer: str = "sgd"
    momentum: float = 0.9
    base_lr: float = 0.1  # learning rate at global batch 256, scaled linearly with batch_size
    lr: Optional[float] = None  # absolute learning rate; overrides base_lr scaling
    schedule: str = "cosine"
    warmup_epochs: float = 0.0
    step_epochs: List[int] = dataclasses.field(default_factory=lambda: [30, 60, 80])
    step_gamma: float = 0.1
    weight_decay: float = 1e-4  # coupled L2 on conv/dense kernels (PyTorch SGD convention)
    dropout_rate: float = 0.0
    drop_path_rate: float = 0.0
    ema_decay: Optional[float] = None  # e.g. 0.9999; evaluation and checkpoints use EMA weights
    # Hardware.
    strategy: str = "auto"
    tpu: Optional[str] = None  # TPU name / address for strategy "tpu"
    sync_batchnorm: bool = False
    precision: str = "float32"
    jit_compile: bool = False
    cpu_devices: int = 0  # >1 splits the CPU into logical devices (multi-replica without GPUs)
    # Run directory.
    run_dir: str = "runs/default"
    resume: bool = False
    overwrite: bool = False
    backup_every_steps: Optional[int] = None  # None = back up at the end of every epoch
    verbose: int = 1  # keras progress bar: 0 silent, 1 bar, 2 one line per epoch

    def __post_init__(self):
        validate(self)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _choice(cfg, name, allowed):
    value = getattr(cfg, name)
    if value not in allowed:
        raise ValueError(f"Unknown {name}: {value!r}. Allowed: {', '.join(allowed)}.")


def _positive(cfg, name, allow_none=False, allow_zero=False):
    value = getattr(cfg, name)
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be a number {bound}. Received: {name}={value!r}")


def validate(cfg: TrainConfig):
    """Check choices and ranges; errors say what was received and what is allowed."""
    _choice(cfg, "strategy", STRATEGIES)
    _choice(cfg, "precision", PRECISIONS)
    _choice(cfg, "optimizer", OPTIMIZERS)
    _choice(cfg, "schedule", SCHEDULES)
    _choice(cfg, "augment", AUGMENTS)
    for name in ("epochs", "batch_size", "base_lr"):
        _positive(cfg, name)
    for name in ("steps_per_epoch", "validation_steps", "image_size", "num_classes", "lr",
                 "backup_every_steps"):
        _positive(cfg, name, allow_none=True)
    for name in ("weight_decay", "momentum", "warmup_epochs", "mixup_alpha", "cutmix_alpha",
                 "randaugment_magnitude", "randaugment_ops", "cpu_devices", "shuffle_buffer"):
        _positive(cfg, name, allow_zero=True)
    for name in ("label_smoothing", "dropout_rate", "drop_path_rate"):
        value = getattr(cfg, name)
        if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
            raise ValueError(f"`{name}` must be a float in [0, 1). Received: {name}={value!r}")
    if cfg.crop_pct is not None and not 0.0 < cfg.crop_pct <= 1.0:
        raise ValueError(f"`crop_pct` must be in (0, 1]. Received: crop_pct={cfg.crop_pct!r}")
    if cfg.ema_decay is not None and not 0.0 < cfg.ema_decay < 1.0:
        raise ValueError(f"`ema_decay` must be in (0, 1) or None. Received: ema_decay={cfg.ema_decay!r}")
    from .recipes import RECIPES

    if cfg.recipe is not None and cfg.recipe not in RECIPES:
        raise ValueError(f"Unknown recipe: {cfg.recipe!r}. Allowed: {', '.join(RECIPES)}.")
    if cfg.resume and cfg.overwrite:
        raise ValueError("`resume` and `overwrite` exclude each other; received both.")


def load_config_file(path) -> dict:
    """Read a YAML (.yaml/.yml) or JSON (.json) file of field values."""
    if not os.path.isfile(path):
        raise ValueError(f"Config file not found: {path!r}")
    with open(path) as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        values = yaml.safe_load(text) or {}
    elif path.endswith(".json"):
        values = json.loads(text)
    else:
        raise ValueError(f"Config file must end in .yaml, .yml or .json; received {path!r}")
    if not isinstance(values, dict):
        raise ValueError(f"Config file {path!r} must hold a mapping of field names; received {type(values).__name__}")
    check_keys(values, f"config file {path!r}")
    return values


def check_keys(values: dict, where: str):
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"Unknown keys in {where}: {unknown}. Allowed keys: {', '.join(FIELDS)}.")


def resolve(explicit: Union[dict, None] = None, config_file: Optional[str] = None) -> TrainConfig:
    """Merge recipe < config file < explicit values (flags or keywords) into a TrainConfig."""
    from .recipes import recipe_values

    explicit = dict(explicit or {})
    check_keys(explicit, "arguments")
    from_file = load_config_file(config_file) if config_file else {}
    recipe = explicit.get("recipe", from_file.get("recipe"))
    values = {**recipe_values(recipe), **from_file, **explicit}
    return TrainConfig(**values)


def write_config(cfg: TrainConfig, path: str):
    write_json_atomic(path, cfg.to_dict())
