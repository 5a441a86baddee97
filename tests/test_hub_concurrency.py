"""Two processes downloading the same checkpoint through the CLI: one download, one good file."""

import hashlib
import os
import subprocess
import sys
import time

import pytest

from keras_resfamily.hub import cache, registry
from keras_resfamily.specs import get_spec
from tests.hub_server import FakeHub

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _waiters_on(path):
    """Processes blocked in flock() on `path`, from /proc/locks ('->' marks a waiter)."""
    inode = os.stat(path).st_ino
    with open("/proc/locks") as f:
        return sum(1 for line in f if "->" in line and line.split()[6].endswith(f":{inode}"))


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux /proc/locks to see blocked processes")
def test_concurrent_cli_downloads_share_one_verified_file(tmp_path):
    data = os.urandom(6 << 20)  # 6 MiB, served in 1 MiB chunks
    server = FakeHub().start()
    server.add("timm/resnet18.a1_in1k", data)
    server.seconds_per_chunk = 0.1  # the second process must wait on the lock for a while
    env = dict(os.environ, HF_ENDPOINT=server.endpoint, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    env[cache.HOME_ENV] = str(tmp_path)
    for name in cache.OFFLINE_ENVS:
        env.pop(name, None)
    os.environ[cache.HOME_ENV] = str(tmp_path)  # for cache_path below; restored in finally
    try:
        dest = cache.cache_path(registry.find_entry(get_spec("ResNet18"), "imagenet").source)
        command = [sys.executable, "-m", "keras_resfamily.hub", "download", "ResNet18"]
        with cache.file_lock(dest):  # hold the lock until both processes queue behind it
            processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True) for _ in range(2)]
            deadline = time.monotonic() + 120
            while _waiters_on(dest + ".lock") < 2 and time.monotonic() < deadline:
                assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
                time.sleep(0.2)
            assert _waiters_on(dest + ".lock") == 2
        outputs = [p.communicate(timeout=120) for p in processes]
    finally:
        del os.environ[cache.HOME_ENV]
        server.stop()
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err
    expected = hashlib.sha256(data).hexdigest()
    assert all(out.splitlines() == [dest, f"sha256 {expected}"] for out, _ in outputs)
    assert len(server.downloads()) == 1  # the second process reused the first one's file
    assert cache.sha256_of(dest) == expected
    assert not os.path.exists(dest + ".part")
