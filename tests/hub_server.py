"""A local stand-in for the Hugging Face hub on 127.0.0.1, for the weights-hub tests.

`/{repo}/resolve/{revision}/{file}` answers 302 to `/cdn/{name}` with X-Linked-Etag (the sha256)
as huggingface.co does; `/cdn/...` serves the bytes with Range / If-Range support. Faults can be
injected: answer HTTP errors, cut the body after N bytes, throttle, advertise a wrong hash, or act as
a bare mirror that sends neither the file's length (Content-Length) nor any hash (X-Linked-Etag / ETag).
"""

import hashlib
import http.server
import re
import threading
import time

import numpy as np


class FakeHub:
    def __init__(self):
        self.files = {}  # "owner/repo/revision/file" -> bytes
        self.requests = []  # (path, Range header or None, status)
        self.statuses = []  # answer the next requests with these HTTP error statuses, one each
        self.cut_after = None  # send only this many body bytes on the next `cuts` CDN responses
        self.cuts = 0
        self.seconds_per_chunk = 0.0
        self.advertised_sha256 = {}  # key -> hash to advertise instead of the true one
        self.send_length = True  # False: no Content-Length on file bodies (the body ends at close)
        self.send_hash = True  # False: no X-Linked-Etag / X-Linked-Size on redirects, no ETag on bodies
        self._server = None

    def add(self, repo, data, filename="model.safetensors", revision="main"):
        self.files[f"{repo}/{revision}/{filename}"] = data

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def downloads(self):
        """CDN (body) requests seen, with their Range headers."""
        return [(path, rng) for path, rng, _ in self.requests if path.startswith("/cdn/")]

    def start(self):
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("Range"), None))
                if hub.statuses:
                    return self.send_error(hub.statuses.pop(0))
                match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", self.path)
                if match:
                    return self._redirect("/".join(match.groups()))
                if self.path.startswith("/cdn/"):
                    return self._serve(self.path[len("/cdn/"):])
                self.send_error(404)

            def _redirect(self, key):
                if key not in hub.files:
                    return self.send_error(404, "Entry not found")
                data = hub.files[key]
                self.send_response(302)
                self.send_header("Location", "/cdn/" + key)
                if hub.send_hash:
                    self.send_header("X-Linked-Etag", '"%s"' % hub.advertised_sha256.get(key, _sha(data)))
                    self.send_header("X-Linked-Size", str(len(data)))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _serve(self, key):
                if key not in hub.files:
                    return self.send_error(404)
                data = hub.files[key]
                etag = '"%s"' % _sha(data)
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match and self.headers.get("If-Range") in (None, etag):
                    start = int(match.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                if hub.send_length:
                    self.send_header("Content-Length", str(len(data) - start))
                if hub.send_hash:
                    self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                body = data[start:]
                if hub.cuts > 0:
                    hub.cuts -= 1
                    body = body[: hub.cut_after]
                    self.close_connection = True
                for offset in range(0, len(body), 1 << 20):
                    self.wfile.write(body[offset: offset + (1 << 20)])
                    if hub.seconds_per_chunk:
                        time.sleep(hub.seconds_per_chunk)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()  # quick stop()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def cached_files(tmp_path, *suffixes):
    """The files under the tests' cache folder (`tmp_path / "cache"`) whose names end with one of `suffixes`."""
    return sorted(str(p) for p in (tmp_path / "cache").rglob("*") if p.name.endswith(suffixes))


def outputs_close(actual, expected):
    """Max abs difference within 1e-4 of the reference's largest magnitude (at least 1)."""
    return np.abs(np.asarray(actual) - expected).max() <= 1e-4 * max(1.0, np.abs(expected).max())


def _registry_hub(monkeypatch, cache_dir, key, row, publisher):
    """A started FakeHub: the cache in `cache_dir`, online, no retry pauses, no host but the fake one
    reachable. `fake.publish(data, filename, **source_fields)` serves `data` as the registry entry `key` (of model
    `row`) with those Source fields and returns the path the hub caches it at; `fake.shipped` is the entry."""
    import dataclasses

    from keras_resfamily import hub as weights_hub
    from keras_resfamily.hub import cache, download, registry

    fake = FakeHub().start()
    monkeypatch.setenv(cache.HOME_ENV, str(cache_dir))
    for name in cache.OFFLINE_ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("keras_resfamily.hub.fetch.RETRY_PAUSE_SECONDS", 0.0)
    real_open = download._open

    def local_only(url, headers):
        assert url.startswith(fake.endpoint + "/"), url  # never the real host
        return real_open(url, headers)

    monkeypatch.setattr(download, "_open", local_only)
    table = dict(registry.load_registry())
    (fake.shipped,) = table[key]

    def publish(data, filename, **source_fields):
        fake.add(publisher, data, filename=filename)
        url = f"{fake.endpoint}/cdn/{publisher}/main/{filename}"
        source = dataclasses.replace(fake.shipped.source, url=url, filename=filename, **source_fields)
        table[key] = (dataclasses.replace(fake.shipped, source=source),)
        monkeypatch.setattr(registry, "load_registry", lambda path=registry.REGISTRY_FILE: table)
        return cache.cache_path(weights_hub.get_weights_entry(row).source)

    fake.publish = publish
    return fake


def published_pth_hub(monkeypatch, cache_dir, key, row, publisher, stem):
    """A started FakeHub that serves the registry entry `key` (of model `row`) as `<stem>-<prefix>.pth`
    (see `_registry_hub`). `hub.serve(data, prefix=None)` publishes `data` under `prefix` (default: its own
    sha256's first hex digits, as many as the shipped entry's) and returns the path the hub caches it at."""
    fake = _registry_hub(monkeypatch, cache_dir, key, row, publisher)

    def serve(data, prefix=None):
        prefix = prefix or _sha(data)[:len(fake.shipped.source.sha256_prefix)]
        return fake.publish(data, f"{stem}-{prefix}.pth", sha256_prefix=prefix)

    fake.serve = serve
    return fake


def published_h5_hub(monkeypatch, cache_dir, key, row, publisher):
    """A started FakeHub that serves the keras.applications registry entry `key` (of model `row`) under its file
    name (see `_registry_hub`). `hub.serve(data, md5=None)` publishes `data` with that md5 (default: its own) and
    returns the path the hub caches it at."""
    fake = _registry_hub(monkeypatch, cache_dir, key, row, publisher)

    def serve(data, md5=None):
        return fake.publish(data, fake.shipped.source.filename, md5=md5 or hashlib.md5(data).hexdigest())

    fake.serve = serve
    return fake
