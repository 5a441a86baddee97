"""What every data source provides: per-split readers of (image, label) examples."""

import dataclasses
from typing import Callable, Optional

import tensorflow as tf

# A reader takes the tf.distribute.InputContext of this input pipeline (None = unsharded) and
# returns a dataset of (image, label) pairs already sharded for that pipeline. `image` is a uint8
# HWC tensor, or encoded bytes when Split.encoded is True. Labels are int in [0, num_classes).
Reader = Callable[[Optional[tf.distribute.InputContext]], tf.data.Dataset]


@dataclasses.dataclass
class Split:
    read: Reader
    num_examples: int
    encoded: bool = False


@dataclasses.dataclass
class DataSource:
    name: str
    num_classes: int
    train: Split
    validation: Split
    default_size: Optional[int] = None  # None: the model's default_size
    default_crop_pct: float = 0.875
    default_augment: str = "inception"
    skip_undecodable: bool = False  # drop examples whose bytes do not decode (image folders)


def shard(dataset, input_context):
    """Element-level sharding for one input pipeline (no-op without an input context)."""
    if input_context is None or input_context.num_input_pipelines == 1:
        return dataset
    return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)


def shard_files(files, input_context):
    """File-level sharding when there are enough files, else element-level after reading."""
    files = list(files)
    if input_context is None or input_context.num_input_pipelines == 1:
        return files, False
    n, i = input_context.num_input_pipelines, input_context.input_pipeline_id
    if len(files) >= n:
        return files[i::n], False
    return files, True
