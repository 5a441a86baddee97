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


def _offline_error(source, dest, hint):
    which = next(n for n in cache.OFFLINE_ENVS if os.environ.get(n, "").strip().lower() in cache._TRUE)
    return WeightsNotCachedError(
        f"Offline mode is on ({which}={os.environ[which]}) and {source.filename} is not in the cache. "
        f"Place the file at {dest} (download it from {source.download_url()} on a machine with network "
        f"access{hint}), or unset {which}."
    )


def _verified_cached(dest, source):
    """sha256 of the cached `dest`, or None after removing it when it does not match its known hash."""
    expected = source.sha256 or cache.recorded_sha256(dest)
    actual = cache.sha256_of(dest)
    if expected and actual != expected:
        print(f"keras_resfamily: cached {dest} has sha256 {actual}, expected {expected}; removing it.",
              file=sys.stderr)
        cache.remove_quietly(dest)
        cache.remove_quietly(dest + ".sha256")
        return None
    if not expected:  # placed by hand: remember what was verified from now on
        cache.record_sha256(dest, actual)
    return actual


def _download(source, dest, show_progress):
    """Download into `dest`.part (resuming across attempts), verify, and rename into place."""
    url, part = source.download_url(), dest + ".part"
    bar = ProgressBar(os.path.basename(dest), enabled=show_progress)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            advertised = download_to_part(url, part, hash_known=bool(source.sha256), progress=bar.update)
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
    os.replace(part, dest)
    cache.remove_quietly(part + ".json")
    cache.record_sha256(dest, actual)
    return actual


def fetch_file(source, show_progress=None, offline_hint=""):
    """Path and sha256 of `source` (a sources.Source) in the cache, downloading it when needed.

    Safe across processes: the download runs under a lock on the destination, so a second process
    waits and then reuses the verified file.
    """
    dest = cache.cache_path(source)
    if show_progress is None:
        show_progress = sys.stderr.isatty()
    if cache.is_offline() and not os.path.exists(dest):  # fail without creating cache folders
        raise _offline_error(source, dest, offline_hint)
    with cache.file_lock(dest):
        if os.path.exists(dest):
            sha = _verified_cached(dest, source)
            if sha:
                return dest, sha
        if cache.is_offline():
            raise _offline_error(source, dest, offline_hint)
        return dest, _download(source, dest, show_progress)
