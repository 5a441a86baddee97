"""The same architectures outside this package, measured in the same run for ratios.

- keras.applications.ResNet50 (weights=None): the Keras baseline our ResNet50 should not be slower than.
- timm (PyTorch): GMACs and inference speed from `timm_worker.py`, run in a child process because
  torch and TensorFlow cannot share a process where TensorFlow was imported first.
"""

import json
import os
import subprocess
import sys

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timm_worker.py")


def keras_applications_resnet50(input_size, classes=1000):
    import keras

    return keras.applications.ResNet50(weights=None, input_shape=(input_size, input_size, 3), classes=classes)


def timm_available():
    probe = subprocess.run([sys.executable, "-c", "import timm, torch"], capture_output=True)
    return probe.returncode == 0


def timm_measurements(references, batch, warmup, runs, threads, speed):
    """{reference: {"gmacs", "img_s"}} for (timm name, input size) pairs, from the worker process."""
    if not references:
        return {}
    arguments = dict(references=list(references), batch=batch, warmup=warmup, runs=runs, threads=threads, speed=speed)
    completed = subprocess.run([sys.executable, WORKER, json.dumps(arguments)], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"The timm worker failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}")
    results = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {r["reference"]: r for r in results}
