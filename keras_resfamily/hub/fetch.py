"""Get a weights file into the cache: lock, reuse a verified copy, or download, verify and rename."""

import os
import sys
import time

from keras_resfamily.hub import cache
from keras_resfamily.hub.download import DownloadInterrupted, download_to_part
from keras_resfamily.hub.errors import ChecksumMismatchError, WeightsDownloadError, WeightsNotCachedError
from keras_resfamily.hub.progress import ProgressBar

MAX_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5


def _offline_which():
    return next(n for n in cache.OFFLINE_ENVS if os.environ.get(n, "").strip().lower() in cache._TRUE)


def _offline_error(source, dest, command):
    which = _offline_which()
    hint = f" (`{command}`)" if command else ""
    return WeightsNotCachedError(
        f"Offline mode is on ({which}={os.environ[which]}) and {source.filename} is not in the cache. "
        f"Download it on a machine with network access{hint} and copy {dest} there together with its "
        f".sha256 record, or place the file from {source.download_url()} at {dest} with its published "
        f"sha256 written to {os.path.basename(dest)}.sha256 beside it (a file without one is not trusted); "
        f"or unset {which}."
    )


def _unverifiable_error(dest, command):
    which = _offline_which()
    return WeightsNotCachedError(
        f"{dest} is in the cache with no recorded sha256 (placed by hand, cut short, or cached by an older "
        f"version), and offline mode is on ({which}={os.environ[which]}), so it cannot be verified and is "
        f"not used. Delete it and run `{command or 'python -m keras_resfamily.hub download MODEL WEIGHTS'}` "
        f"with network access, or write its published sha256 to {os.path.basename(dest)}.sha256 beside it "
        f"(or copy that record from the cache that verified it), or unset {which}."
    )


def _warn(message):
    print(f"keras_resfamily: {message}", file=sys.stderr)


def _verified_cached(dest, source):
    """sha256 of the cached `dest` when it matches a real hash (the registry's, or the one recorded
    when it was verified); else None, after removing it when it mismatches. A file with no known
    hash is never trusted (nor recorded): hashing it would only vouch for whatever it holds."""
    expected = source.sha256 or cache.recorded_sha256(dest)
    if not expected:
        return None
    actual = cache.sha256_of(dest)
    if actual != expected:
        _warn(f"cached {dest} has sha256 {actual}, expected {expected}; removing it.")
        cache.forget(dest)
        return None
    if cache.recorded_sha256(dest) != actual:  # matched the registry: remember it
        cache.record_sha256(dest, actual)
    return actual


def _rejected(url, part, reason):
    cache.remove_quietly(part)
    cache.remove_quietly(part + ".json")
    return WeightsDownloadError(
        f"The file downloaded from {url} is not a complete safetensors file ({reason}); the server sent no "
        "hash to check it against. It was deleted and nothing was cached; retry later, or report it if it "
        "persists."
    )


def _download(source, dest, show_progress):
    """Download into `dest`.part (resuming across attempts), verify, and rename into place.

    Returns the sha256, recorded only when a real check passed: the registry's or the server's hash,
    or the server's Content-Length plus a full safetensors validation. With neither hash nor length
    the file is still validated before it is used, but not recorded (the next call downloads it again).
    """
    url, part = source.download_url(), dest + ".part"
    bar = ProgressBar(os.path.basename(dest), enabled=show_progress)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            advertised, length_checked = download_to_part(url, part, hash_known=bool(source.sha256),
                                                          progress=bar.update)
            break
        except DownloadInterrupted as error:
            bar.interrupted(str(error))
            if attempt == MAX_ATTEMPTS:
                raise WeightsDownloadError(
                    f"Downloading {url} was interrupted {MAX_ATTEMPTS} times ({error}). The partial file "
                    f"{part} is resumed by the next call; nothing incomplete was cached."
                ) from None
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
    bar.finish()
    expected = source.sha256 or advertised
    actual = cache.sha256_of(part)
    if expected and actual != expected:
        cache.remove_quietly(part)
        cache.remove_quietly(part + ".json")
        raise ChecksumMismatchError(
            f"The file downloaded from {url} has sha256 {actual}, but {expected} was expected "
            f"({'registry' if source.sha256 else 'advertised by the server'}). It was deleted and nothing "
            "was cached; retry later, or report it if it persists."
        )
    if not expected:  # no hash to compare: the bytes must at least be a whole safetensors file
        try:
            cache.check_safetensors(part)
        except ValueError as error:
            raise _rejected(url, part, error) from None
    cache.remove_quietly(dest + ".sha256")  # any old record describes other bytes
    os.replace(part, dest)
    cache.remove_quietly(part + ".json")
    if expected or length_checked:
        cache.record_sha256(dest, actual)
    else:
        _warn(f"{url} sent neither a hash nor a length: {dest} parsed as a complete safetensors file and is "
              "used, but is not recorded as verified, so it is downloaded again next time.")
    return actual


def fetch_file(source, show_progress=None, command=None):
    """Path and sha256 of `source` (a sources.Source) in the cache, downloading it when needed.

    `command`: the CLI command that downloads it, for error messages. Safe across processes: the
    download runs under a lock on the destination, so a second process waits and then reuses the
    verified file.
    """
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
        return dest, _download(source, dest, show_progress)
