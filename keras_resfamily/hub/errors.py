"""Errors of the weights hub. Each message names the file, the source and what to do."""

CLI = "python -m keras_resfamily.hub"  # how messages and the command line's usage name it


def download_command(model="MODEL", weights="WEIGHTS") -> str:
    """The command that downloads a checkpoint, as every message prints it."""
    return f"{CLI} download {model} {weights}"


class WeightsDownloadError(OSError):
    """A download failed or was interrupted; nothing of it is left in the cache."""


class ChecksumMismatchError(WeightsDownloadError):
    """The downloaded or cached bytes do not have the expected sha256; the file was removed."""


class WeightsNotCachedError(FileNotFoundError):
    """Offline mode is on and the weights file is not in the cache."""


class CorruptWeightsError(ValueError):
    """A weights file is not a complete, valid safetensors file; the message names it and the fix."""
