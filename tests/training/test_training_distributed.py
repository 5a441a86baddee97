"""MirroredStrategy on 2 logical CPUs and a 2-worker MultiWorkerMirroredStrategy on 127.0.0.1.

Each runs in its own process (logical devices and TF_CONFIG must be set before TensorFlow
starts); all three processes start together to share the wall time.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("training_distributed")  # one worker starts the replica processes once

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STEPS = 3


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(out, strategy, cpu_devices, tf_config=None):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, os.path.join(HERE, "replica_worker.py"), str(out), strategy, str(cpu_devices), str(STEPS)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replicas")
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    processes = {"mirrored": _start(folder / "mirrored.npz", "mirrored", 2)}
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes[f"worker{index}"] = _start(folder / f"worker{index}.npz", "multi-worker", 0, tf_config)
    outputs = {}
    for name, process in processes.items():
        log, _ = process.communicate(timeout=400)
        assert process.returncode == 0, f"{name} failed:\n{log[-3000:]}"
        outputs[name] = dict(np.load(folder / f"{name}.npz"))
    return outputs


def _weights(arrays, replica):
    return {k.rsplit("_r", 1)[0]: v for k, v in arrays.items() if k.startswith("w") and k.endswith(f"_r{replica}")}


def test_mirrored_two_cpu_replicas_hold_identical_weights(results):
    arrays = results["mirrored"]
    assert int(arrays["replicas"]) == 2 and int(arrays["iterations"]) == STEPS
    first, second = _weights(arrays, 0), _weights(arrays, 1)
    assert first.keys() == second.keys() and len(first) > 100
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_multi_worker_processes_hold_identical_weights(results):
    zero, one = results["worker0"], results["worker1"]
    assert int(zero["replicas"]) == 2 and int(zero["iterations"]) == int(one["iterations"]) == STEPS
    first, second = _weights(zero, 0), _weights(one, 0)
    assert first.keys() == second.keys() and len(first) > 100
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    # Training really happened: the mirrored run (other data order) ended elsewhere.
    mirrored = _weights(results["mirrored"], 0)
    changed = sum(not np.array_equal(first[n], mirrored[n]) for n in first)
    assert changed > 0
