"""Errors of the weights hub. Each message names the file, the source and what to do."""


class WeightsDownloadError(OSError):
    """A download failed or was interrupted; nothing incomplete was put in the cache."""


class ChecksumMismatchError(WeightsDownloadError):
    """The downloaded or cached bytes do not have the expected sha256; the file was removed."""


class WeightsNotCachedError(FileNotFoundError):
    """Offline mode is on and the weights file is not in the cache."""


class CorruptWeightsError(ValueError):
    """A weights file is not a complete, valid safetensors file; the message names it and the fix."""
