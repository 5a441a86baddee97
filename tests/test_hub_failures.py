"""A download that fails (no network, timeout, HTTP error, a cut body) says how to get the file in by
hand, as offline mode does, and leaves the cache exactly as it was: no folders, lock or partial file."""

import errno
import os
import socket
import threading
import time

import pytest

from keras_resfamily import hub
from keras_resfamily.hub import cache, download, registry
from keras_resfamily.hub.errors import download_command
from keras_resfamily.specs import get_spec
from tests.hub_server import FakeHub
from tests.test_hub_concurrency import _waiters_on

REPO = "timm/resnet18.a1_in1k"  # ResNet18's default ('imagenet') entry
DATA = os.urandom(3 << 20)  # never loaded: only its sha256 (advertised by the fake hub) is checked


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    home.mkdir()
    monkeypatch.setenv(cache.HOME_ENV, str(home))
    for name in cache.OFFLINE_ENVS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("keras_resfamily.hub.fetch.RETRY_PAUSE_SECONDS", 0.0)
    return home


@pytest.fixture
def fake_hub(empty_cache, monkeypatch):
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    yield server
    server.stop()


def _dest():
    return cache.cache_path(registry.find_entry(get_spec("ResNet18"), "imagenet").source)


def _tree(home):
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def _refused(monkeypatch):
    """A bound port with no listener: connecting is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{sock.getsockname()[1]}")
    return sock, "Connection refused"


def _unresolvable(monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    return None, "Name or service not known"


def _silent(monkeypatch):
    """A listener that never answers: the request times out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{sock.getsockname()[1]}")
    monkeypatch.setattr(download, "TIMEOUT_SECONDS", 0.2)
    return sock, "timed out"


def _serving(monkeypatch, **faults):
    server = FakeHub().start()
    server.add(REPO, DATA)
    vars(server).update(faults)
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    return server


def _missing(monkeypatch):
    return _serving(monkeypatch, files={}), "HTTP 404"


def _server_error(monkeypatch):
    return _serving(monkeypatch, statuses=[500]), "HTTP 500"


def _cut_mid_file(monkeypatch):
    return _serving(monkeypatch, cut_after=1 << 16, cuts=99), "interrupted 3 times"


@pytest.mark.parametrize("fault", [_refused, _unresolvable, _silent, _missing, _server_error, _cut_mid_file],
                         ids=lambda fault: fault.__name__.strip("_"))
def test_failed_download_explains_the_manual_fix_and_leaves_the_cache_as_it_was(empty_cache, monkeypatch, fault):
    endpoint, reason = fault(monkeypatch)
    try:
        with pytest.raises(hub.WeightsDownloadError) as info:
            hub.download_weights("ResNet18")
    finally:
        if endpoint is not None:
            getattr(endpoint, "stop", getattr(endpoint, "close", None))()
    message = str(info.value)
    first_line = message.splitlines()[0]
    assert reason in first_line and "/timm/resnet18.a1_in1k/resolve/main/model.safetensors" in first_line
    assert f"`{download_command('ResNet18', 'a1_in1k')}`" in message  # as offline mode says it
    assert f"at {_dest()} with its published sha256 written to model.safetensors.sha256" in message
    assert "Traceback" not in message and len(message.splitlines()) == 2
    assert _tree(empty_cache) == []


def test_offline_and_failed_download_give_the_same_instructions(fake_hub, monkeypatch):
    with pytest.raises(hub.WeightsDownloadError) as failed:  # the fake hub has no such file: 404
        hub.download_weights("ResNet18")
    monkeypatch.setenv("KERAS_RESFAMILY_OFFLINE", "1")
    with pytest.raises(hub.WeightsNotCachedError) as offline:
        hub.download_weights("ResNet18")
    assert str(failed.value).splitlines()[1].rstrip(".") in str(offline.value)


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux /proc/locks to see blocked threads")
def test_cleanup_after_a_failure_does_not_break_a_waiting_download(fake_hub, empty_cache):
    """Two downloads of one file queue on its lock; the first gets HTTP 500 and removes the lock file
    and the folder it created. The second, which was waiting on that lock, must still download."""
    fake_hub.add(REPO, DATA)
    fake_hub.statuses = [500]  # the first request only
    dest = _dest()
    outcomes = []

    def download_once():
        try:
            outcomes.append(hub.download_weights("ResNet18")[1])
        except hub.WeightsDownloadError as error:
            outcomes.append(error)

    with cache.file_lock(dest):
        threads = [threading.Thread(target=download_once) for _ in range(2)]
        for thread in threads:
            thread.start()
        for _ in range(200):
            if _waiters_on(dest + ".lock") == 2:
                break
            time.sleep(0.05)
        assert _waiters_on(dest + ".lock") == 2
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    errors = [o for o in outcomes if isinstance(o, hub.WeightsDownloadError)]
    assert len(errors) == 1 and "HTTP 500" in str(errors[0]), outcomes
    assert [cache.sha256_of(dest)] == [o for o in outcomes if isinstance(o, str)]
    assert sorted(p.name for p in empty_cache.rglob("*") if p.is_file()) == [
        "model.safetensors", "model.safetensors.sha256"]  # no lock file, no partial file


def test_lock_file_and_the_folders_it_created_are_removed_on_release(empty_cache):
    path = str(empty_cache / "sub" / "file")
    with cache.file_lock(path):
        assert os.path.exists(path + ".lock")
    assert _tree(empty_cache) == []  # no lock file, and the folder it created is gone


def _race_in_mkdir(monkeypatch, folder, race):
    """Make os.mkdir call `race(folder)` once, just before it makes `folder` (what another process did in between);
    returns the list that records that it ran."""
    real_mkdir, raced = os.mkdir, []

    def mkdir(name, *args, **kwargs):
        if not raced and os.fspath(name) == folder:
            raced.append(name)
            race(name)
        return real_mkdir(name, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    return raced


def test_lock_survives_a_cleanup_removing_the_parent_folder_while_it_creates_folders(empty_cache, monkeypatch):
    """Another holder's release removes the empty folders it created; if it removes the parent just as this
    call's os.makedirs creates the lock's folder (the parent checked, not yet used), mkdir fails with
    FileNotFoundError. The lock must start over, then leave nothing on release (it created both folders)."""
    parent = empty_cache / "models--x"
    parent.mkdir()
    path = str(parent / "main" / "file")
    raced = _race_in_mkdir(monkeypatch, os.path.dirname(path), lambda name: os.rmdir(parent))
    with cache.file_lock(path):
        assert raced and os.path.exists(path + ".lock")
    assert _tree(empty_cache) == []


def test_lock_survives_its_folder_made_and_removed_by_others_inside_makedirs(empty_cache, monkeypatch):
    """Seen in a full run: another waiter makes the lock's folder just before this call's mkdir (FileExistsError),
    then a releasing holder removes it before makedirs checks that it is a folder, and makedirs raises
    FileExistsError for a folder that does not exist. The lock must start over."""
    path = str(empty_cache / "models--x" / "main" / "file")

    def made_and_removed_by_others(name):
        raise FileExistsError(errno.EEXIST, "File exists", name)

    raced = _race_in_mkdir(monkeypatch, os.path.dirname(path), made_and_removed_by_others)
    with cache.file_lock(path):
        assert raced and os.path.exists(path + ".lock")
    assert _tree(empty_cache) == []


def test_lock_under_a_dangling_link_raises_instead_of_retrying_forever(empty_cache):
    (empty_cache / "home").symlink_to(empty_cache / "gone")
    with pytest.raises(FileNotFoundError):
        with cache.file_lock(str(empty_cache / "home" / "main" / "file")):
            pass


def test_lock_where_a_file_takes_the_folders_place_raises(empty_cache):
    (empty_cache / "models--x").write_text("not a folder")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        with cache.file_lock(str(empty_cache / "models--x" / "main" / "file")):
            pass


def test_download_command_draws_no_progress_bar_into_a_pipe(fake_hub, capsys):
    """`hub download` on a pipe or a file: the path and hash, no carriage returns (a terminal gets the bar)."""
    from keras_resfamily.hub.__main__ import main

    fake_hub.add(REPO, DATA)
    assert main(["download", "ResNet18"]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.err + captured.out and captured.out.startswith(_dest())
