"""Training configuration: one flat dataclass, filled from recipe < config file < explicit flags.

Every field can be set from the command line (`--field-name value`, booleans `--flag` / `--no-flag`),
from a YAML or JSON file (`--config file.yaml`, keys are the field names) or as a keyword of
`TrainConfig(...)`. Each field carries its --help sentence and allowed values (`_field`).
"""

import dataclasses
import json
import os
from typing import List, Optional, Union

from .recipes import RECIPES, recipe_values
from .run_dir import write_json_atomic

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "step", "constant")
AUGMENTS = ("auto", "inception", "none")
VERBOSITY = (0, 1, 2)


def _field(default, help, choices=None):
    """A TrainConfig field with its --help sentence (and its allowed values) beside it."""
    metadata = {"help": help, "choices": choices}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class TrainConfig:
    # What to train.
    model: str = _field("ResNet18", "Model to train: any name of keras_resfamily.list_models(), e.g. ResNet50.")
    pretrained: Optional[str] = _field(None, "Weights tag to start from, e.g. imagenet (with another number of "
                                             "classes the classifier is new); unset: random initialisation.")
    recipe: Optional[str] = _field(None, "Named recipe whose values apply below --config and the flags.",
                                   choices=tuple(RECIPES))
    # Data.
    data: str = _field("digits", "Dataset: digits (built in), a tfds name (imagenet2012, imagenette, cifar10 or "
                                 "tfds:<name>) read from --data-dir, an image folder (folder:<root> or a path "
                                 "holding train/ and val/) or ImageNet-layout TFRecords (tfrecord:<root>).")
    data_dir: Optional[str] = _field(None, "tfds data directory of prepared datasets (nothing is downloaded); "
                                           "unset: tfds' default.")
    train_split: Optional[str] = _field(None, "Training split name; unset: the source's default (train).")
    val_split: Optional[str] = _field(None, "Validation split name; unset: the source's default (validation "
                                            "or test).")
    num_classes: Optional[int] = _field(None, "Number of classes; unset: read from the source (TFRecords "
                                              "need it).")
    tfrecord_label_offset: int = _field(1, "Subtracted from TFRecord labels: ImageNet TFRecords store 1..1000 "
                                           "(0 is background).")
    image_size: Optional[int] = _field(None, "Square image size in pixels for training and evaluation; unset: "
                                             "32 for digits, the model's default size otherwise.")
    crop_pct: Optional[float] = _field(None, "Fraction kept by the evaluation center crop, in (0, 1]; unset: "
                                             "1.0 for digits, 0.875 otherwise.")
    augment: str = _field("auto", "Training augmentation: inception (random-resized crop + horizontal flip), "
                                  "none, or auto (none for digits, inception otherwise).", choices=AUGMENTS)
    randaugment_ops: int = _field(2, "RandAugment operations per image (>= 0).")
    randaugment_magnitude: float = _field(0.0, "RandAugment magnitude on the paper's 0..10 scale; 0 turns "
                                               "RandAugment off.")
    mixup_alpha: float = _field(0.0, "MixUp Beta(alpha, alpha) parameter (>= 0); 0 turns MixUp off.")
    cutmix_alpha: float = _field(0.0, "CutMix Beta(alpha, alpha) parameter (>= 0); 0 turns CutMix off.")
    label_smoothing: float = _field(0.0, "Label smoothing of the cross-entropy, in [0, 1).")
    shuffle_buffer: int = _field(10000, "Training examples in the shuffle buffer (>= 0).")
    deterministic: bool = _field(False, "Use deterministic TensorFlow ops (reproducible runs, slower).")
    seed: int = _field(0, "Random seed of Keras, NumPy, Python and the data pipeline.")
    # Optimisation.
    epochs: int = _field(10, "Epochs to train (> 0); with --resume, the total including those already trained.")
    steps_per_epoch: Optional[int] = _field(None, "Training steps per epoch; unset: training examples // "
                                                  "batch size.")
    validation_steps: Optional[int] = _field(None, "Validation batches per epoch and in the final evaluation; "
                                                   "unset: the whole validation split.")
    batch_size: int = _field(128, "Global batch over all replicas; must be divisible by the replica count.")
    optimizer: str = _field("sgd", "Optimizer: sgd (with --momentum, coupled weight decay) or adamw (decoupled "
                                   "weight decay).", choices=OPTIMIZERS)
    momentum: float = _field(0.9, "SGD momentum (>= 0).")
    base_lr: float = _field(0.1, "Learning rate at a global batch of 256, scaled linearly with --batch-size; "
                                 "ignored when --lr is set.")
    lr: Optional[float] = _field(None, "Absolute peak learning rate; unset: --base-lr x batch size / 256.")
    schedule: str = _field("cosine", "Learning rate after warmup: cosine decay to 0, step (x --step-gamma at "
                                     "each of --step-epochs) or constant.", choices=SCHEDULES)
    warmup_epochs: float = _field(0.0, "Epochs of linear learning-rate warmup (>= 0, fractions allowed).")
    step_epochs: List[int] = _field([30, 60, 80], "Epochs at which the step schedule multiplies the learning "
                                                  "rate by --step-gamma.")
    step_gamma: float = _field(0.1, "Factor applied at each step of the step schedule.")
    weight_decay: float = _field(1e-4, "Weight decay (>= 0): coupled L2 on conv / dense kernels with sgd "
                                       "(PyTorch convention), decoupled with adamw.")
    dropout_rate: float = _field(0.0, "Dropout before the classifier, in [0, 1).")
    drop_path_rate: float = _field(0.0, "Stochastic depth (drop path) rate, in [0, 1).")
    ema_decay: Optional[float] = _field(None, "Decay of an exponential moving average of the weights, in (0, 1), "
                                              "e.g. 0.9999; validation and checkpoints use the averaged weights. "
                                              "Unset: no averaging.")
    # Hardware.
    strategy: str = _field("auto", "tf.distribute strategy: auto (multi-worker with a TF_CONFIG of several "
                                   "workers, else mirrored with several GPUs, else one device), one-device, "
                                   "mirrored, multi-worker (reads TF_CONFIG) or tpu.", choices=STRATEGIES)
    tpu: Optional[str] = _field(None, "TPU name or address for --strategy tpu; unset: the TPU the environment "
                                      "names.")
    sync_batchnorm: bool = _field(False, "Synchronise batch-norm statistics across replicas.")
    precision: str = _field("float32", "Keras dtype policy; mixed_float16 scales the loss automatically.",
                            choices=PRECISIONS)
    jit_compile: bool = _field(False, "Compile the training step with XLA.")
    cpu_devices: int = _field(0, "Split the CPU into this many logical devices (> 1: several replicas without "
                                 "GPUs); 0 or 1 leaves it whole.")
    # Run directory.
    run_dir: str = _field("runs/default", "Run directory: configuration, checkpoints, metrics, TensorBoard logs, "
                                          "curves and report.")
    resume: bool = _field(False, "Continue the run in --run-dir from its last backup, or a finished run given "
                                 "more --epochs.")
    overwrite: bool = _field(False, "Delete the run in --run-dir (only what it wrote) and start it again.")
    backup_every_steps: Optional[int] = _field(None, "Also back up the training state every this many steps; "
                                                     "unset: only at the end of each epoch.")
    verbose: int = _field(1, "Training output: 0 silent, 1 progress bar (one line per epoch when stdout is not "
                             "a terminal), 2 one line per epoch.", choices=VERBOSITY)

    def __post_init__(self):
        validate(self)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _choice(cfg, field):
    value, allowed = getattr(cfg, field.name), field.metadata["choices"]
    if value not in allowed and not (value is None and field.default is None):
        raise ValueError(f"Unknown {field.name}: {value!r}. Allowed: {', '.join(map(str, allowed))}.")


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
    for field in FIELDS.values():
        if field.metadata["choices"]:
            _choice(cfg, field)
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
    explicit = dict(explicit or {})
    check_keys(explicit, "arguments")
    from_file = load_config_file(config_file) if config_file else {}
    recipe = explicit.get("recipe", from_file.get("recipe"))
    values = {**recipe_values(recipe), **from_file, **explicit}
    return TrainConfig(**values)


def write_config(cfg: TrainConfig, path: str):
    write_json_atomic(path, cfg.to_dict())
