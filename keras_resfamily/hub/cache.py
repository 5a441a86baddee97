"""The local cache: where files live, offline mode, the inter-process lock and content hashes.

Layout under the cache home (`$KERAS_RESFAMILY_HOME`, default ~/.keras/keras_resfamily):

    models--timm--resnet18.a1_in1k/main/model.safetensors         verified source file
    models--timm--resnet18.a1_in1k/main/model.safetensors.sha256  its hash, written after verification
    models--timm--resnet18.a1_in1k/main/model.safetensors.part    a download under way (never loaded)
    models--timm--resnet18.a1_in1k/main/model.safetensors.lock    held while it is fetched or checked
    models--timm--resnet18.a1_in1k/main/resnet18-....weights.h5   converted Keras weights
    models--timm--resnet18.a1_in1k/main/resnet18-....weights.h5.sha256  their hash, written with them
    urls/<sha256 of the URL, 16 hex>/mobilenet_v2-7ebf99e0.pth       a file of a URL (torchvision's)

A `.sha256` record is only written for bytes that passed a real check (see fetch.py); a file without
one is never trusted. A failed download leaves nothing: its `.part`, its `.lock` and the folders it
created are removed (a `.part` left by a killed process is resumed or discarded by the next download).
"""

import contextlib
import hashlib
import json
import math
import os
import struct
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
_FOLDER_ATTEMPTS = 20  # makedirs + open tries while other holders remove folders


def cache_home() -> str:
    return os.path.expanduser(os.environ.get(HOME_ENV) or os.path.join("~", ".keras", "keras_resfamily"))


def is_offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in OFFLINE_ENVS)


def cache_path(source) -> str:
    """Where `source` (a sources.Source) is cached."""
    return os.path.join(cache_home(), source.cache_subdir(), *source.filename.split("/"))


@contextlib.contextmanager
def file_lock(path):
    """Exclusive inter-process lock guarding `path`, held on `<path>.lock` (fcntl.flock; msvcrt on Windows).

    On release the holder removes the lock file, then the folders this call created if they are left
    empty (a failed download), so nothing stale stays behind. A waiter that then gets the lock of the
    removed file, or finds its folder gone, starts over on a new one: removing never admits two holders.
    """
    lock = path + ".lock"
    handle, created = _open_locked(lock)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):  # Windows cannot remove a file others have open: it stays
            os.remove(lock)
        _unlock(handle)
        handle.close()
        for folder in created:  # deepest first; a folder another process uses is not empty
            try:
                os.rmdir(folder)
            except OSError:
                break


def _missing_folders(folder):
    """`folder` and its ancestors that do not exist, deepest first."""
    missing = []
    while folder and not os.path.isdir(folder) and folder not in missing:
        missing.append(folder)
        folder = os.path.dirname(folder)
    return missing


def _open_locked(lock):
    """(a handle holding the lock of the file now at `lock`, the folders created for it, deepest first)."""
    folder = os.path.dirname(lock)
    created = []
    races = 0
    while True:
        # Other waiters make these folders and holders' releases remove them, so inside makedirs or before open a
        # folder can vanish (FileNotFoundError) or be made by another and then removed before makedirs checks it
        # (FileExistsError for no folder). Start over then; a few times only, so a folder that can never be made
        # (under a dangling link, or a file in its place) raises.
        created = list(dict.fromkeys(_missing_folders(folder) + created))
        try:
            os.makedirs(folder, exist_ok=True)
            handle = open(lock, "a")
        except (FileNotFoundError, FileExistsError):
            races += 1
            if races == _FOLDER_ATTEMPTS:
                raise
            continue
        _lock(handle)
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(lock)):
                return handle, [f for f in created if os.path.isdir(f)]
        except FileNotFoundError:
            pass
        _unlock(handle)  # its holder removed this file on release: lock the one there now
        handle.close()


def _lock(handle):
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        return
    handle.seek(0)
    while True:
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # itself retries for ~10 s
            return
        except OSError:
            time.sleep(1)


def _unlock(handle):
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return
    handle.seek(0)
    msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


def sha256_of(path) -> str:
    return hashes_of(path)[0]


def hashes_of(path, md5=False):
    """(sha256, md5 or None) of `path` in one read. The md5 is what keras.applications publishes for its .h5 files
    (checked together with the recorded sha256)."""
    digests = [hashlib.sha256()] + ([hashlib.md5(usedforsecurity=False)] if md5 else [])
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            for digest in digests:
                digest.update(chunk)
    return digests[0].hexdigest(), (digests[1].hexdigest() if md5 else None)


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


def forget(path):
    """Remove `path` and its record."""
    remove_quietly(path)
    remove_quietly(path + ".sha256")


# bytes per element of each safetensors dtype
_DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
                "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def check_safetensors(path):
    """Raise ValueError (the reason) unless `path` is a complete safetensors file: the header parses
    and its tensors exactly tile a data section that ends at the end of the file. It reads only the
    header, so it catches truncation and garbage, not flipped bits inside the data."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise ValueError(f"{size} bytes, shorter than the 8-byte header length")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > size - 8:
            raise ValueError(f"the header claims {header_len} bytes but the file has {size}")
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("the header is not valid JSON") from None
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            ok = isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape + [begin, end])
            ok = ok and end - begin == math.prod(shape) * _DTYPE_SIZES[dtype]
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"tensor {name!r} has an inconsistent dtype/shape/data_offsets entry: {info!r}")
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):  # tensors must tile the data section without gaps
        if begin != position:
            raise ValueError(f"tensor {name!r} starts at data offset {begin}, expected {position}")
        position = end
    if 8 + header_len + position != size:
        raise ValueError(f"the tensors need {8 + header_len + position} bytes but the file has {size} "
                         "(truncated or padded)")


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
