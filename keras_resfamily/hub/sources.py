"""Where a weights file comes from: a Hugging Face hub repo file or a plain https URL.

Users name safetensors files only. The registry also lists published `.pth` files (torchvision's,
timm's legacy_xception release), which carry no full hash, only the first hex digits of their
sha256 in the file name (`mobilenet_v2-7ebf99e0.pth`, what torch.hub checks): such a Source has `sha256_prefix` set
(see fetch.py); and keras.applications' `.h5` files, for which keras publishes an md5 (what its `get_file` checks):
such a Source has `md5` set.
"""

import dataclasses
import hashlib
import os
import re
from typing import Optional
from urllib.parse import quote, urlparse

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_FILENAME = "model.safetensors"
HF_PREFIX = "hf://"
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TORCH_SUFFIX = ".pth"
KERAS_H5_SUFFIX = ".h5"
CONVERTED_SUFFIX = ".weights.h5"  # Keras 3's own weights files (our converted cache), not Keras 2's .h5
MIN_PREFIX = 8  # hex digits: torchvision's file names carry 8 (torch.hub checks whatever is there)


@dataclasses.dataclass(frozen=True)
class Source:
    """One downloadable file. Exactly one of `hf_repo` / `url` is set."""

    hf_repo: Optional[str] = None
    filename: str = DEFAULT_FILENAME
    revision: Optional[str] = "main"
    url: Optional[str] = None
    sha256: Optional[str] = None  # expected content hash; None where it is not known in advance
    sha256_prefix: Optional[str] = None  # torchvision .pth: the hash's first hex digits, from the file name
    md5: Optional[str] = None  # keras.applications .h5: the md5 keras publishes (its only hash)

    def __post_init__(self):
        if self.sha256_prefix is not None and not is_sha256_prefix(self.sha256_prefix):
            raise ValueError(f"sha256_prefix must be {MIN_PREFIX} to 64 lower-case hex digits; "
                             f"received {self.sha256_prefix!r}.")
        if self.md5 is not None and not re.fullmatch(r"[0-9a-f]{32}", self.md5):
            raise ValueError(f"md5 must be 32 lower-case hex digits; received {self.md5!r}.")

    @property
    def is_keras_h5(self) -> bool:
        """A Keras 2 `save_weights` .h5 file (keras.applications'): only read from a registry entry."""
        return is_keras_h5(self.filename)

    @property
    def is_torch_pickle(self) -> bool:
        """A torch.save file: only read through torch_pickle, and only from a registry entry."""
        return self.filename.endswith(TORCH_SUFFIX)

    def download_url(self) -> str:
        if self.url:
            return self.url
        # Read at call time, like huggingface_hub, so HF_ENDPOINT can point at a mirror.
        endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
        return f"{endpoint}/{self.hf_repo}/resolve/{quote(self.revision, safe='')}/{quote(self.filename)}"

    def cache_subdir(self) -> str:
        """Folder (relative to the cache home) of this file; a different revision is a different folder."""
        if self.url:
            return os.path.join("urls", hashlib.sha256(self.url.encode()).hexdigest()[:16])
        return os.path.join("models--" + self.hf_repo.replace("/", "--"), self.revision.replace("/", "--"))

    def describe(self) -> str:
        if self.url:
            return self.url
        return f"hf://{self.hf_repo}@{self.revision}/{self.filename}"

    def hash_description(self) -> str:
        """What the content is checked against, for people: the full hash, the published prefix or none."""
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.sha256_prefix:
            return f"sha256 {self.sha256_prefix}... (prefix published in the file name)"
        if self.md5:
            return f"md5 {self.md5} (published by keras.applications)"
        return "sha256 not pinned"


def is_keras_h5(filename) -> bool:
    return os.fspath(filename).endswith(KERAS_H5_SUFFIX) and not os.fspath(filename).endswith(CONVERTED_SUFFIX)


def is_sha256_prefix(value) -> bool:
    return (isinstance(value, str) and MIN_PREFIX <= len(value) <= 64
            and all(c in "0123456789abcdef" for c in value))


def published_prefix(filename) -> Optional[str]:
    """The sha256 prefix torchvision publishes in a `.pth` file name (`name-<hex>.pth`), or None.
    torch.hub reads it the same way (the hex digits after the last '-')."""
    match = re.fullmatch(rf"[^/]*-([0-9a-f]{{{MIN_PREFIX},64}}){re.escape(TORCH_SUFFIX)}", filename)
    return match.group(1) if match else None


def _check_filename(filename, received):
    parts = filename.split("/")
    if not filename or filename.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(
            f"Invalid file name {filename!r} in weights={received!r}: expected a relative path inside the repo."
        )
    if not filename.endswith(".safetensors"):
        raise ValueError(
            f"Only .safetensors files are downloaded (pickled checkpoints are never read); "
            f"received file {filename!r} in weights={received!r}."
        )


def parse_hf(weights: str) -> Source:
    """`hf://owner/repo[@revision][/path/to/file.safetensors]` -> Source."""
    spec = weights[len(HF_PREFIX):]
    match = re.fullmatch(rf"({_REPO_PART})/({_REPO_PART})(?:@([^/]+))?(?:/(.+))?", spec)
    if not match:
        raise ValueError(
            "A Hugging Face weights reference must look like 'hf://owner/repo', 'hf://owner/repo@revision' "
            f"or 'hf://owner/repo@revision/model.safetensors' (a revision is a branch, tag or commit without '/'). "
            f"Received: weights={weights!r}"
        )
    owner, repo, revision, filename = match.groups()
    revision = revision or "main"
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise ValueError(
            f"Invalid revision {revision!r} in weights={weights!r}: expected a branch, tag or commit hash."
        )
    filename = filename or DEFAULT_FILENAME
    _check_filename(filename, weights)
    return Source(hf_repo=f"{owner}/{repo}", filename=filename, revision=revision)


def parse_url(weights: str) -> Source:
    parsed = urlparse(weights)
    if parsed.scheme != "https" or not parsed.netloc:
        raise ValueError(f"Weights URLs must use https. Received: weights={weights!r}")
    filename = parsed.path.rsplit("/", 1)[-1]
    _check_filename(filename, weights)
    return Source(hf_repo=None, filename=filename, revision=None, url=weights)


def is_remote_reference(weights) -> bool:
    return isinstance(weights, str) and (weights.startswith(HF_PREFIX) or weights.startswith("https://"))


def parse_remote(weights: str) -> Source:
    return parse_hf(weights) if weights.startswith(HF_PREFIX) else parse_url(weights)
