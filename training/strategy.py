"""tf.distribute strategy and dtype policy selection."""

import json
import os

import tensorflow as tf


def split_cpu(num_devices: int):
    """Expose the CPU as `num_devices` logical devices; must run before TF initialises devices."""
    if num_devices <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)
    except RuntimeError as error:  # devices already initialised in this process
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != num_devices:
            raise ValueError(
                f"cpu_devices={num_devices} must be set before TensorFlow initialises its devices; "
                f"this process already has {existing} logical CPU device(s)."
            ) from error


def _tf_config_workers():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {raw!r}") from error
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def _replica_devices():
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def make_strategy(name: str, tpu: str = None) -> tf.distribute.Strategy:
    """auto | one-device | mirrored | multi-worker | tpu.

    auto: multi-worker when TF_CONFIG names several workers, mirrored with several GPUs,
    else one device (first GPU, or the CPU).
    """
    if name == "auto":
        if _tf_config_workers() > 1:
            name = "multi-worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "one-device"
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy(_replica_devices()[0])
    if name == "mirrored":
        devices = _replica_devices()
        # Cross-device ops: NCCL on GPUs (MirroredStrategy's default); CPUs need plain reduction.
        ops = None if tf.config.list_logical_devices("GPU") else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy(devices, cross_device_ops=ops)
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("strategy 'multi-worker' needs the TF_CONFIG environment variable "
                             "(cluster spec and this worker's task); it is not set.")
        _tf_config_workers()  # validates the JSON
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy: {name!r}. Allowed: auto, one-device, mirrored, multi-worker, tpu.")


def is_chief(strategy) -> bool:
    """Only the chief writes checkpoints, logs and reports in multi-worker training."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "cluster_spec", None) or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def env_is_chief() -> bool:
    """Chief-ness from TF_CONFIG alone (before any strategy exists); True without TF_CONFIG."""
    if _tf_config_workers() == 0:
        return True
    config = json.loads(os.environ["TF_CONFIG"])
    task = config.get("task", {})
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and int(task.get("index", 0)) == 0


def check_global_batch(batch_size: int, strategy):
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size={batch_size} (the global batch) must be divisible by the number of replicas "
            f"({replicas}); use a multiple of {replicas}."
        )
    return batch_size // replicas
