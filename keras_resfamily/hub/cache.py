"""The local cache: where files live, offline mode, the inter-process lock and content hashes.

Layout under the cache home (`$KERAS_RESFAMILY_HOME`, default ~/.keras/keras_resfamily):

    models--timm--resnet18.a1_in1k/main/model.safetensors         verified source file
    models--timm--resnet18.a1_in1k/main/model.safetensors.sha256  its hash, written after verification
    models--timm--resnet18.a1_in1k/main/model.safetensors.part    an interrupted download (never loaded)
    models--timm--resnet18.a1_in1k/main/resnet18-....weights.h5   converted Keras weights
"""

import contextlib
import hashlib
import os
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

HOME_ENV = "KERAS_RESFAMILY_HOME"
OFFLINE_ENVS = ("KERAS_RESFAMILY_OFFLINE", "HF_HUB_OFFLINE")
_TRUE = ("1", "true", "yes", "on")
CHUNK = 1 << 20


def cache_home() -> str:
    return os.path.expanduser(os.environ.get(HOME_ENV) or os.path.join("~", ".keras", "keras_resfamily"))


def is_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in OFFLINE_ENVS)


def cache_path(source) -> str:
    """Where `source` (a sources.Source) is cached."""
    return os.path.join(cache_home(), source.cache_subdir(), *source.filename.split("/"))


@contextlib.contextmanager
def file_lock(path):
    """Exclusive inter-process lock guarding `path` (a `<path>.lock` file held with fcntl.flock)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "a") as handle:
        if fcntl is None:
            yield from _windows_lock(handle)
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _windows_lock(handle):
    handle.seek(0)
    while True:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # itself retries for ~10 s
            break
        except OSError:
            time.sleep(1)
    try:
        yield
    finally:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def recorded_sha256(path):
    """The hash recorded when `path` was verified, or None."""
    try:
        with open(path + ".sha256") as f:
            value = f.read().strip()
    except FileNotFoundError:
        return None
    return value if is_sha256(value) else None


def record_sha256(path, value):
    write_atomic_text(path + ".sha256", value + "\n")


def write_atomic_text(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def is_sha256(value) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())


def remove_quietly(path):
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
