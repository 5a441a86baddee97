"""torch.save'd state_dicts read without torch and without running anything the pickle names."""

import io
import os
import pickle
import re
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from keras_resfamily.hub import torch_pickle  # noqa: E402
from keras_resfamily.hub.errors import CorruptWeightsError  # noqa: E402
from keras_resfamily.hub.torch_pickle import UnsafeCheckpointError, load_torch_state_dict  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYOUTS = ["zip", "legacy"]


def _save(obj, path, layout="zip"):
    torch.save(obj, path, _use_new_zipfile_serialization=layout == "zip")
    return path


def _assert_same(loaded, state_dict):
    assert list(loaded) == list(state_dict)
    for name, tensor in state_dict.items():
        expected = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).detach().numpy()
        assert loaded[name].dtype == expected.dtype, name
        assert loaded[name].shape == expected.shape, name
        assert loaded[name].flags.c_contiguous, name
        np.testing.assert_array_equal(loaded[name], expected, err_msg=name)


# --- hand-made files: a torch-shaped pickle with any globals, in either layout -------------------

class G:
    """A global, written as a GLOBAL opcode whether or not it can be imported here."""

    def __init__(self, module, name):
        self.module, self.name = module, name


class Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args


class Pid:
    def __init__(self, *pid):
        self.pid = pid


class _Crafter(pickle._Pickler):  # the pure-Python pickler: `save` can emit raw opcodes
    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, G):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        elif isinstance(obj, Call):
            self.save(obj.func)
            self.save(obj.args)
            self.write(pickle.REDUCE)
        elif isinstance(obj, Pid):
            self.save(obj.pid)
            self.write(pickle.BINPERSID)
        else:
            super().save(obj, save_persistent_id)


def craft(obj):
    buffer = io.BytesIO()
    _Crafter(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_zip(path, data_pkl, records=(), byteorder=b"little", prefix="archive", compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr(f"{prefix}/data.pkl", data_pkl)
        if byteorder is not None:
            archive.writestr(f"{prefix}/byteorder", byteorder)
        for key, data in dict(records).items():
            archive.writestr(f"{prefix}/data/{key}", data)
        archive.writestr(f"{prefix}/version", "3\n")
    return path


def write_legacy(path, main_pickle, records=()):
    with open(path, "wb") as f:
        for header in (torch_pickle.LEGACY_MAGIC, torch_pickle.LEGACY_PROTOCOL, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(main_pickle)
        records = dict(records)
        pickle.dump(sorted(records), f, protocol=2)
        for key in sorted(records):
            f.write((len(records[key]) // 4).to_bytes(8, "little") + records[key])  # float32 records
    return path


def write(layout, path, main_pickle, records=()):
    return (write_zip if layout == "zip" else write_legacy)(path, main_pickle, records)


def float_storage(key, numel):
    return Pid("storage", G("torch", "FloatStorage"), key, "cpu", numel)


def tensor_v2(storage, offset, size, stride, hooks=()):
    return Call(G("torch._utils", "_rebuild_tensor_v2"), storage, offset, size, stride, False,
                Call(G("collections", "OrderedDict"), list(hooks)))


# --- real torch.save files ------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_torchvision_state_dict(tmp_path, layout):
    torchvision = pytest.importorskip("torchvision")
    state_dict = torchvision.models.mobilenet_v3_small().state_dict()
    assert state_dict._metadata  # torch pickles it with BUILD: the loader must get past it
    loaded = load_torch_state_dict(_save(state_dict, tmp_path / "mobilenet_v3_small.pth", layout))
    assert type(loaded) is dict and not hasattr(loaded, "_metadata")
    _assert_same(loaded, state_dict)
    assert loaded["features.1.block.0.1.num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dtypes_views_and_offsets(tmp_path, layout):
    generator = torch.Generator().manual_seed(0)
    big = torch.randn(40, generator=generator)
    matrix = torch.randn(3, 5, generator=generator)
    state_dict = {
        "float32": torch.randn(2, 3, generator=generator),
        "float16": torch.randn(4, generator=generator).half(),
        "bfloat16": torch.randn(4, 2, generator=generator).bfloat16(),  # returned as float32
        "float64": torch.randn(3, generator=generator).double(),
        "int64": torch.arange(-3, 6).reshape(3, 3),
        "int32": torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32),
        "uint8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "transposed": matrix.t(),  # non-contiguous: strides (1, 5)
        "matrix": matrix,  # shares its storage with "transposed"
        "slice": big[7:19].view(3, 4),  # storage offset 7 into a 40-element storage
        "strided": big[1::3],  # offset and stride
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "parameter": torch.nn.Parameter(torch.randn(2, generator=generator)),  # _rebuild_parameter
    }
    loaded = load_torch_state_dict(_save(state_dict, tmp_path / "mixed.pth", layout))
    _assert_same(loaded, state_dict)
    assert loaded["bfloat16"].dtype == np.float32


def test_big_endian_zip(tmp_path):
    """The `byteorder` record is obeyed: the same tensors written big-endian load identically."""
    state_dict = {"w": torch.randn(3, 4), "i": torch.arange(5), "h": torch.randn(2).half()}
    little = zipfile.ZipFile(_save(state_dict, tmp_path / "little.pth"))
    dtypes = {name.split("/")[-1]: t.numpy().dtype for name, t in zip(
        sorted(n for n in little.namelist() if "/data/" in n), state_dict.values())}
    with zipfile.ZipFile(tmp_path / "big.pth", "w") as big:
        for name in little.namelist():
            data = little.read(name)
            if name.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in name:
                data = np.frombuffer(data, dtypes[name.split("/")[-1]]).byteswap().tobytes()
            big.writestr(name, data)
    _assert_same(load_torch_state_dict(tmp_path / "big.pth"), state_dict)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_old_rebuild_tensor(tmp_path, layout):
    """torch < 0.4 wrote `_rebuild_tensor` (no requires_grad / hooks), as 2017 torchvision files do."""
    data = np.arange(6, dtype="<f4")
    pkl = craft({"w": Call(G("torch._utils", "_rebuild_tensor"), float_storage("0", 6), 1, (2, 2), (1, 2))})
    loaded = load_torch_state_dict(write(layout, tmp_path / "old.pth", pkl, {"0": data.tobytes()}))
    np.testing.assert_array_equal(loaded["w"], [[1, 3], [2, 4]])


# --- nothing a pickle names runs ------------------------------------------------------------------

class _System:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Eval(_System):
    def __reduce__(self):
        return eval, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("payload, protocol, refused", [
    (_System, 2, f"{os.system.__module__}.system"),  # GLOBAL opcode, as torch writes
    (_Eval, 4, "builtins.eval"),  # STACK_GLOBAL: the other way to name a callable
])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, layout, payload, protocol, refused):
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"w": payload(marker)}, protocol=protocol)
    pickle.loads(evil)  # the payload is live: plain pickle runs it
    assert marker.exists()
    marker.unlink()
    path = write(layout, tmp_path / "evil.pth", evil)
    with pytest.raises(UnsafeCheckpointError, match=rf"{re.escape(str(path))}: refused to load global {refused}\b"):
        load_torch_state_dict(path)
    assert not marker.exists()


def test_pickled_module_is_refused(tmp_path):
    """torch.save(model) pickles the module class: refused by name, never imported."""
    path = _save(torch.nn.Linear(2, 2), tmp_path / "model.pth")
    with pytest.raises(UnsafeCheckpointError, match=r"refused to load global torch\.nn\.modules\.linear\.Linear"):
        load_torch_state_dict(path)


def test_backward_hooks_are_refused(tmp_path):
    pkl = craft({"w": tensor_v2(float_storage("0", 2), 0, (2,), (1,), hooks=[(0, 1)])})
    with pytest.raises(UnsafeCheckpointError, match="backward hooks"):
        load_torch_state_dict(write_zip(tmp_path / "hooks.pth", pkl, {"0": bytes(8)}))


@pytest.mark.parametrize("size, stride, offset", [
    ((5,), (1,), 0), ((2, 2), (1, 3), 0), ((2,), (1,), 3), ((2,), (-1,), 1),
])
def test_tensor_outside_its_storage_is_refused(tmp_path, size, stride, offset):
    """as_strided reads whatever memory follows: every view is checked against its storage first."""
    pkl = craft({"w": tensor_v2(float_storage("0", 4), offset, size, stride)})
    with pytest.raises(CorruptWeightsError, match="oob.pth"):
        load_torch_state_dict(write_zip(tmp_path / "oob.pth", pkl, {"0": bytes(16)}))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_forged_memo_index_is_refused(tmp_path, layout):
    """The C unpickler grows its memo table to the largest index it is given, zeroing it: a 6-byte
    LONG_BINPUT would make it allocate 800 MB here (and many GB with a larger index)."""
    pkl = pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.LONG_BINPUT + (10**8).to_bytes(4, "little") + pickle.STOP
    with pytest.raises(CorruptWeightsError, match=r"forged pickle memo index 100000000"):
        load_torch_state_dict(write(layout, tmp_path / "memo.pth", pkl))


@pytest.mark.parametrize("wrapper", ["state_dict", "model"])
def test_wrapped_checkpoint_is_not_a_state_dict(tmp_path, wrapper):
    path = _save({wrapper: {"w": torch.ones(2)}, "epoch": 3}, tmp_path / "checkpoint.pth")
    with pytest.raises(CorruptWeightsError, match=rf"no plain state_dict.*'{wrapper}', 'epoch'"):
        load_torch_state_dict(path)


# --- broken and oversized files -------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_file(tmp_path, layout, keep):
    data = _save({"w": torch.randn(64, 64)}, tmp_path / "full.pth", layout).read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CorruptWeightsError, match=re.escape(str(path))):
        load_torch_state_dict(path)


def test_missing_data_record(tmp_path):
    full = zipfile.ZipFile(_save({"a": torch.ones(2), "b": torch.zeros(3)}, tmp_path / "full.pth"))
    path = tmp_path / "incomplete.pth"
    with zipfile.ZipFile(path, "w") as archive:
        for name in full.namelist():
            if name != "full/data/1":
                archive.writestr(name, full.read(name))
    message = rf"{re.escape(str(path))} is incomplete: record 'full/data/1' is missing"
    with pytest.raises(CorruptWeightsError, match=message):
        load_torch_state_dict(path)


def test_record_of_the_wrong_size(tmp_path):
    pkl = craft({"w": tensor_v2(float_storage("0", 4), 0, (4,), (1,))})
    with pytest.raises(CorruptWeightsError, match=r"short.pth: storage '0' holds 12 bytes"):
        load_torch_state_dict(write_zip(tmp_path / "short.pth", pkl, {"0": bytes(12)}))


def test_not_a_torch_file(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_text("hello")
    with pytest.raises(CorruptWeightsError, match=rf"{re.escape(str(path))} is not a torch.save file"):
        load_torch_state_dict(path)


def test_legacy_tar_format_is_named(tmp_path):
    path = tmp_path / "ancient.pth"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("storages")
        info.size = 3
        archive.addfile(info, io.BytesIO(pickle.dumps(0)[:3]))
    with pytest.raises(CorruptWeightsError, match=r"legacy tar format"):
        load_torch_state_dict(path)


def test_too_many_members(tmp_path, monkeypatch):
    path = _save({f"w{i}": torch.ones(1) for i in range(12)}, tmp_path / "many.pth")
    monkeypatch.setattr(torch_pickle, "MAX_MEMBERS", 10)
    with pytest.raises(CorruptWeightsError, match=r"many.pth has \d+ zip members \(more than 10\)"):
        load_torch_state_dict(path)


def test_oversized_pickle(tmp_path, monkeypatch):
    path = _save({"w": torch.ones(1)}, tmp_path / "big_pickle.pth")
    monkeypatch.setattr(torch_pickle, "MAX_PICKLE_BYTES", 64)
    with pytest.raises(CorruptWeightsError, match=r"big_pickle.pth: data.pkl is \d+ bytes \(over 64\)"):
        load_torch_state_dict(path)


def test_zip_bomb(tmp_path):
    numel = 4 * 2**20  # 16 MiB of zeros, deflated to ~16 KiB
    pkl = craft({"w": tensor_v2(float_storage("0", numel), 0, (numel,), (1,))})
    path = write_zip(tmp_path / "bomb.pth", pkl, {"0": bytes(4 * numel)}, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(CorruptWeightsError, match=r"bomb.pth expands far beyond its size"):
        load_torch_state_dict(path)


# --- no torch at load time ------------------------------------------------------------------------

def test_loads_without_torch(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    state_dict = torchvision.models.mobilenet_v3_small().state_dict()
    path = _save(state_dict, tmp_path / "mobilenet_v3_small.pth")
    code = f"""
        import sys
        import numpy as np
        from keras_resfamily.hub.torch_pickle import load_torch_state_dict
        assert "torch" not in sys.modules, "importing the package imported torch"
        sys.modules["torch"] = None  # from here on, any `import torch...` fails
        loaded = load_torch_state_dict({str(path)!r})
        assert not [m for m in sys.modules if m.startswith("torch.")], "the loader imported torch"
        np.savez({str(tmp_path / "loaded.npz")!r}, **loaded)
    """
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(tmp_path / "loaded.npz") as loaded:
        _assert_same(dict(loaded), state_dict)
