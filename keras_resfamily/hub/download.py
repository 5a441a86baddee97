"""HTTP download of one file into `<dest>.part`, resuming an interrupted one with a Range request.

Only urllib (stdlib). The `.part` file is never loaded: `fetch.py` hashes it and renames it into
place. A partial file is resumed only when the server can prove it is the same content (If-Range
with the ETag / Last-Modified recorded at the first attempt) or when the final hash is known; else
it is discarded.
"""

import http.client
import json
import os
import urllib.error
import urllib.request

from keras_resfamily.hub.cache import CHUNK, is_sha256, remove_quietly
from keras_resfamily.hub.errors import WeightsDownloadError

TIMEOUT_SECONDS = 60
USER_AGENT = "keras_resfamily-hub/1 (urllib)"


def failed(url, reason) -> WeightsDownloadError:
    """The error of a download that failed, saying why in one line."""
    return WeightsDownloadError(f"Downloading {url} failed: {' '.join(str(reason).split())}.")


class DownloadInterrupted(Exception):
    """The body stopped early; the bytes received so far stay in the .part file for the next attempt."""


class _RecordingRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects and keeps each hop's headers: the hub puts the file's sha256 in
    X-Linked-Etag on the redirect response, not on the CDN's."""

    def __init__(self):
        self.hop_headers = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.hop_headers.append(headers)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def advertised_sha256(header_sets):
    """The sha256 the hub advertises for an LFS file (X-Linked-Etag), or None."""
    for headers in header_sets:
        value = (headers.get("X-Linked-Etag") or "").strip().strip('"').removeprefix("W/").strip('"')
        if is_sha256(value):
            return value.lower()
    return None


def _read_resume_state(part, url):
    try:
        with open(part + ".json") as f:
            state = json.load(f)
        return state if state.get("url") == url else None
    except (FileNotFoundError, ValueError):
        return None


def _discard(part):
    remove_quietly(part)
    remove_quietly(part + ".json")


def _validator(headers):
    etag = headers.get("ETag")
    if etag and not etag.startswith("W/"):  # If-Range needs a strong validator
        return etag
    return headers.get("Last-Modified")


def _resume_offset(part, url, hash_known):
    """Bytes of `part` that may be resumed, and the If-Range validator to send (None: discard)."""
    if not os.path.exists(part):
        return 0, None
    state = _read_resume_state(part, url)
    size = os.path.getsize(part)
    if size and state is not None and (state.get("validator") or hash_known):
        return size, state.get("validator")
    _discard(part)
    return 0, None


def _open(url, headers):
    redirects = _RecordingRedirectHandler()
    opener = urllib.request.build_opener(redirects)
    try:
        response = opener.open(urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 416:  # the partial file is not a prefix of the current content
            return None, []
        raise failed(url, f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)  # URLError wraps the socket's error
        raise failed(url, f"{type(reason).__name__}: {reason}") from None
    return response, redirects.hop_headers + [response.headers]


def download_to_part(url, part, hash_known=False, progress=None):
    """Download `url` into `part` (resuming it when allowed).

    Returns (the advertised sha256 or None, whether the server's Content-Length was received and
    matched). Raises DownloadInterrupted when the body ends early (the received bytes stay in `part`).
    Without a Content-Length the end of the body cannot be told from a cut: the caller must check it.
    """
    offset, validator = _resume_offset(part, url, hash_known)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if validator:
            headers["If-Range"] = validator
    response, header_sets = _open(url, headers)
    if response is None:  # 416: the partial file is stale; restart from scratch
        if not offset:
            raise failed(url, "HTTP 416 without a Range request")
        _discard(part)
        return download_to_part(url, part, hash_known, progress)
    with response:
        content_range = response.headers.get("Content-Range", "")
        if not (offset and response.status == 206 and content_range.startswith(f"bytes {offset}-")):
            offset = 0  # the server sent the whole file: start over
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        with open(part + ".json", "w") as f:
            json.dump({"url": url, "validator": _validator(response.headers)}, f)
        done = offset
        with open(part, "ab" if offset else "wb") as out:
            try:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            except (OSError, http.client.HTTPException) as error:
                raise DownloadInterrupted(f"after {done} of {total or '?'} bytes: {error!r}") from None
    if total is not None and done != total:
        raise DownloadInterrupted(f"after {done} of {total} bytes: the connection closed early")
    return advertised_sha256(header_sets), total is not None
