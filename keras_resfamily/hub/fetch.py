"""Get a weights file into the cache: lock, reuse a verified copy, or download, verify and rename.

A torchvision `.pth` (a registry entry with only a published sha256 prefix) is checked against the
prefix, then parsed whole by `torch_pickle` (which runs nothing) before it is renamed into place;
only then is its full sha256 recorded, and later loads are checked against that. A keras.applications `.h5`
(an entry with the md5 keras publishes) is checked against that md5 and read whole, then its sha256 is recorded;
later loads check both.
"""

import os
import sys
import time

from keras_resfamily.convert import read_keras_h5
from keras_resfamily.hub import cache
from keras_resfamily.hub.download import DownloadInterrupted, download_to_part, failed
from keras_resfamily.hub.errors import (
    ChecksumMismatchError, CorruptWeightsError, WeightsDownloadError, WeightsNotCachedError, download_command,
)
from keras_resfamily.hub.progress import ProgressBar
from keras_resfamily.hub.torch_pickle import load_torch_state_dict

MAX_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5


def _offline_which():
    return next(n for n in cache.OFFLINE_ENVS if os.environ.get(n, "").strip().lower() in cache._TRUE)


def _published_hash(source):
    if source.sha256_prefix and not source.sha256:  # torchvision publishes only the prefix
        return f"sha256 (it must start with {source.sha256_prefix}, the prefix in the file name)"
    if source.md5 and not source.sha256:  # keras.applications publishes an md5
        return f"sha256 (the file must have md5 {source.md5}, published by keras.applications)"
    return "published sha256"


def _by_hand(source, dest, command):
    """How to get `source` into the cache without network here: what offline mode and a failed
    download both say."""
    return (
        f"Download it on a machine with network access (`{command}`) and copy {dest} there together with "
        f"its .sha256 record, or place the file from {source.download_url()} at {dest} with its "
        f"{_published_hash(source)} written to {os.path.basename(dest)}.sha256 beside it (a file without one "
        "is not trusted)"
    )


def _offline_error(source, dest, command):
    which = _offline_which()
    return WeightsNotCachedError(
        f"Offline mode is on ({which}={os.environ[which]}) and {source.filename} is not in the cache.\n"
        f"{_by_hand(source, dest, command)}; or unset {which}."
    )


def _unverifiable_error(dest, command):
    which = _offline_which()
    return WeightsNotCachedError(
        f"{dest} is in the cache with no recorded sha256 (placed by hand, cut short, or cached by an older "
        f"version), and offline mode is on ({which}={os.environ[which]}), so it cannot be verified and is "
        f"not used. Delete it and run `{command}` "
        f"with network access, or write its published sha256 to {os.path.basename(dest)}.sha256 beside it "
        f"(or copy that record from the cache that verified it), or unset {which}."
    )


def _warn(message):
    print(f"keras_resfamily: {message}", file=sys.stderr)


def _verified_cached(dest, source):
    """sha256 of the cached `dest` when it matches a real hash (the registry's, or the one recorded
    when it was verified, which must start with a published prefix); else None, after removing it when
    it mismatches. A file with no known hash is never trusted (nor recorded): hashing it would only
    vouch for whatever it holds."""
    expected = source.sha256 or cache.recorded_sha256(dest)
    if not expected:
        return None
    if source.sha256_prefix and not expected.startswith(source.sha256_prefix):  # a record of other bytes
        _warn(f"cached {dest} is recorded with sha256 {expected}, which does not start with the published "
              f"{source.sha256_prefix}; removing it.")
        cache.forget(dest)
        return None
    actual, md5 = cache.hashes_of(dest, md5=bool(source.md5))
    if actual != expected:
        _warn(f"cached {dest} has sha256 {actual}, expected {expected}; removing it.")
        cache.forget(dest)
        return None
    if md5 != source.md5:  # a record written beside other bytes
        _warn(f"cached {dest} does not have the md5 {source.md5} keras.applications publishes; removing it.")
        cache.forget(dest)
        return None
    if cache.recorded_sha256(dest) != actual:  # matched the registry: remember it
        cache.record_sha256(dest, actual)
    return actual


def _discard(part):
    cache.remove_quietly(part)
    cache.remove_quietly(part + ".json")


def _rejected(url, reason):
    return WeightsDownloadError(
        f"The file downloaded from {url} is not a complete safetensors file ({reason}); the server sent no "
        "hash to check it against. It was deleted and nothing was cached; retry later, or report it if it "
        "persists."
    )


def _receive(url, part, hash_known, show_progress, label):
    """Download into `part`, resuming it across up to MAX_ATTEMPTS interrupted attempts; returns
    download_to_part's (advertised sha256, whether the length was checked)."""
    bar = ProgressBar(label, enabled=show_progress)
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return download_to_part(url, part, hash_known=hash_known, progress=bar.update)
            except DownloadInterrupted as error:
                bar.interrupted(str(error))
                if attempt == MAX_ATTEMPTS:
                    raise failed(url, f"interrupted {MAX_ATTEMPTS} times ({error})") from None
                time.sleep(RETRY_PAUSE_SECONDS * attempt)
    finally:
        bar.finish()


def _download(source, dest, show_progress, command):
    """Download into `dest`.part, verify, and rename into place.

    Returns the sha256, recorded only when a real check passed: the registry's or the server's hash,
    the server's Content-Length plus a full safetensors validation, or (torchvision .pth) the
    published prefix plus a full parse of the pickle. With neither hash nor length
    the file is still validated before it is used, but not recorded (the next call downloads it again).
    The caller removes the .part when this raises.
    """
    url, part = source.download_url(), dest + ".part"
    # a prefix, like a full hash, tells a stale partial file (left by a killed process) from the current one
    hash_known = bool(source.sha256 or source.sha256_prefix or source.md5)
    try:
        advertised, length_checked = _receive(url, part, hash_known, show_progress, os.path.basename(dest))
    except WeightsDownloadError as error:
        raise WeightsDownloadError(f"{error}\n{_by_hand(source, dest, command)}.") from None
    expected = source.sha256 or advertised
    actual, md5 = cache.hashes_of(part, md5=bool(source.md5))
    if expected and actual != expected:
        raise ChecksumMismatchError(
            f"The file downloaded from {url} has sha256 {actual}, but {expected} was expected "
            f"({'registry' if source.sha256 else 'advertised by the server'}). It was deleted and nothing "
            "was cached; retry later, or report it if it persists."
        )
    if source.sha256_prefix and not actual.startswith(source.sha256_prefix):
        raise ChecksumMismatchError(
            f"The file downloaded from {url} has sha256 {actual}, which does not start with "
            f"{source.sha256_prefix}, the prefix published in its file name. It was deleted and nothing was "
            "cached; retry later, or report it if it persists."
        )
    if md5 != source.md5:
        raise ChecksumMismatchError(
            f"The file downloaded from {url} does not have md5 {source.md5}, the hash keras.applications "
            "publishes for it. It was deleted and nothing was cached; retry later, or report it if it persists."
        )
    if source.is_torch_pickle:  # whatever matched, the pickle must be a plain state_dict
        _check_parses(url, part, load_torch_state_dict)
    elif source.is_keras_h5:
        _check_parses(url, part, read_keras_h5)
    elif not expected:  # no hash to compare: the bytes must at least be a whole safetensors file
        try:
            cache.check_safetensors(part)
        except ValueError as error:
            raise _rejected(url, error) from None
    cache.remove_quietly(dest + ".sha256")  # any old record describes other bytes
    os.replace(part, dest)
    cache.remove_quietly(part + ".json")
    if expected or length_checked or source.sha256_prefix or source.md5:
        cache.record_sha256(dest, actual)
    else:
        _warn(f"{url} sent neither a hash nor a length: {dest} parsed as a complete safetensors file and is "
              "used, but is not recorded as verified, so it is downloaded again next time.")
    return actual


def _check_parses(url, part, read):
    """Read the whole downloaded `.pth` (the allow-list unpickler, which runs nothing) or `.h5` (arrays); raise
    (UnsafeCheckpointError or CorruptWeightsError, both ValueErrors) unless it is a plain state_dict."""
    try:
        read(part)
    except ValueError as error:  # torch_pickle's kinds are kept; read_keras_h5 raises plain ValueErrors
        kind = CorruptWeightsError if type(error) is ValueError else type(error)
        raise kind(
            f"The file downloaded from {url} was rejected ({error}); it was deleted and nothing was cached. "
            "Report it if it persists."
        ) from None


def _check_fetchable(source):
    if source.is_torch_pickle and not (source.sha256 or source.sha256_prefix):
        raise ValueError(
            f"Pickled checkpoints (.pth) are only downloaded from registry entries with a published sha256 "
            f"prefix; received {source.describe()} with neither a sha256 nor a sha256_prefix."
        )
    if source.is_keras_h5 and not (source.sha256 or source.md5):
        raise ValueError(
            f"Keras .h5 weights are only downloaded from registry entries with a published hash; received "
            f"{source.describe()} with neither a sha256 nor an md5."
        )


def fetch_file(source, show_progress=None, command=None):
    """Path and sha256 of `source` (a sources.Source) in the cache, downloading it when needed.

    `command`: the CLI command that downloads it, for error messages. Safe across processes: the
    download runs under a lock on the destination, so a second process waits and then reuses the
    verified file. A download that fails (for any reason, Ctrl-C included) leaves nothing in the cache.
    """
    _check_fetchable(source)
    command = command or download_command()
    dest = cache.cache_path(source)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if cache.is_offline() and not os.path.exists(dest):  # fail without creating cache folders
        raise _offline_error(source, dest, command)
    with cache.file_lock(dest):
        if os.path.exists(dest):
            sha = _verified_cached(dest, source)
            if sha:
                return dest, sha
            if os.path.exists(dest):  # kept (no known hash): never trusted
                if cache.is_offline():
                    raise _unverifiable_error(dest, command)
                _warn(f"cached {dest} has no recorded sha256 and cannot be trusted; downloading it again.")
        if cache.is_offline():
            raise _offline_error(source, dest, command)
        try:
            return dest, _download(source, dest, show_progress, command)
        except BaseException:  # never leave unchecked bytes behind; the lock's release removes new folders
            _discard(dest + ".part")
            raise
