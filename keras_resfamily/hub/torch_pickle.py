"""Read a `torch.save`d state_dict (torchvision's `.pth` files) into numpy, without torch.

A `.pth` file is a pickle, and `pickle.load` runs whatever callable the file names. Here the
unpickler resolves only the handful of globals a state_dict is made of, each to our own harmless
stand-in (nothing is imported from torch); any other global is refused before anything is called.
Tensors come back as references (namedtuples, which BUILD cannot mutate) and are turned into
arrays only after the whole pickle was read, with every offset/size/stride checked against the
storage it points into. Each pickle's opcodes are scanned first (pickletools) for forged memo
indices, the one opcode trick that costs gigabytes of memory before any global is named.

Two layouts are read: the zip archive of torch >= 1.6 (`<prefix>/data.pkl`, `<prefix>/data/<key>`,
`<prefix>/byteorder`) and the "legacy" stream torch < 1.6 wrote (magic number, protocol, sys_info,
the pickle, the storage keys, then each storage as int64 numel + raw little-endian bytes), which
torchvision's older files may be in. torch's earliest tar layout is detected and refused.

bfloat16 tensors are returned as float32 (numpy has no bfloat16; the widening is exact).
"""

import collections
import io
import os
import pickle
import pickletools
import zipfile
from typing import NamedTuple

import numpy as np

from keras_resfamily.hub.errors import CorruptWeightsError

MAX_MEMBERS = 10_000
MAX_PICKLE_BYTES = 64 * 2**20
# torch stores every record uncompressed (so its members add up to less than the archive); a
# deflated archive may expand a little, a zip bomb a thousandfold.
MAX_EXPANSION = 10
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class UnsafeCheckpointError(ValueError):
    """The pickle names a global a plain state_dict never needs; nothing in it was run."""


class _StorageType(NamedTuple):
    name: str
    dtype: np.dtype  # little-endian on-disk dtype


class _Storage(NamedTuple):
    key: str
    type: _StorageType
    numel: int


class _Tensor(NamedTuple):
    storage: _Storage
    offset: int
    size: tuple
    stride: tuple


_STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # widened to float32 in _materialize
    "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1",
    "ByteStorage": "u1", "BoolStorage": "?",
}


def _check_ints(path, what, values, minimum=0):
    if not all(type(v) is int and v >= minimum for v in values):  # noqa: E721  (bool is no size)
        raise CorruptWeightsError(f"{path}: invalid tensor {what} {values!r}")


def _rebuild_tensor(path):
    def rebuild(storage, storage_offset, size, stride):
        if not isinstance(storage, _Storage) or type(size) is not tuple or type(stride) is not tuple:
            raise CorruptWeightsError(f"{path}: malformed tensor record")
        _check_ints(path, "offset", (storage_offset,))
        _check_ints(path, "size", size)
        _check_ints(path, "stride", stride)
        if len(size) != len(stride) or len(size) > 32:
            raise CorruptWeightsError(f"{path}: tensor size {size} does not match stride {stride}")
        return _Tensor(storage, storage_offset, size, stride)

    return rebuild


def _rebuild_tensor_v2(path):
    rebuild = _rebuild_tensor(path)

    def rebuild_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
        # torch never saves hooks (it writes an empty OrderedDict), so entries mean a crafted file.
        # `metadata` holds Python attributes of tensor subclasses; plain tensors need none: ignored.
        if backward_hooks is not None and len(backward_hooks) != 0:
            raise UnsafeCheckpointError(f"{path}: a tensor carries backward hooks; refused")
        return rebuild(storage, storage_offset, size, stride)

    return rebuild_v2


def _rebuild_parameter(path):
    def rebuild(data, requires_grad, backward_hooks):
        if not isinstance(data, _Tensor) or (backward_hooks is not None and len(backward_hooks) != 0):
            raise UnsafeCheckpointError(f"{path}: a Parameter that is not a plain tensor; refused")
        return data

    return rebuild


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file)
        self.path = path
        self.storages = {}  # key -> _Storage, shared by all tensors viewing it
        self.allowed = {
            ("collections", "OrderedDict"): collections.OrderedDict,  # BUILD only sets _metadata on it
            ("torch._utils", "_rebuild_tensor"): _rebuild_tensor(path),  # files of torch 0.3 and older
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2(path),
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter(path),  # state_dict(keep_vars=True)
            **{("torch", name): _StorageType(name, np.dtype(code)) for name, code in _STORAGE_DTYPES.items()},
        }

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"{self.path}: refused to load global {module}.{name}: a torch state_dict needs only "
                f"tensors and an OrderedDict. Nothing in the file was run; it is not a plain state_dict "
                f"(or it is malicious)."
            ) from None

    def persistent_load(self, pid):
        # zip: ('storage', type, key, location, numel); legacy adds view_metadata (None in practice).
        if not (type(pid) is tuple and len(pid) in (5, 6) and pid[0] == "storage"):
            raise CorruptWeightsError(f"{self.path}: unsupported persistent record {str(pid)[:80]!r}")
        storage_type, key, _location, numel = pid[1:5]
        if len(pid) == 6 and pid[5] is not None:
            raise CorruptWeightsError(f"{self.path}: legacy storage views are not supported")
        if not isinstance(storage_type, _StorageType) or type(key) is not str:
            raise CorruptWeightsError(f"{self.path}: malformed storage record {str(pid)[:80]!r}")
        _check_ints(self.path, "storage size", (numel,))
        storage = self.storages.setdefault(key, _Storage(key, storage_type, numel))
        if storage != (key, storage_type, numel):
            raise CorruptWeightsError(f"{self.path}: storage {key!r} is declared twice, differently")
        return storage


def _check_memo(path, file):
    """Refuse memo indices no pickler writes, before the C unpickler sizes its memo table by them.

    A pickler numbers memo entries 0, 1, 2... one PUT (>= 2 bytes) each, so an index is always
    below its byte position; a forged LONG_BINPUT 10**9 makes the C unpickler zero gigabytes.
    """
    start = file.tell()
    try:
        for opcode, arg, position in pickletools.genops(file):
            if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT") and arg > position - start:
                raise CorruptWeightsError(f"{path}: forged pickle memo index {arg}; refused")
    except CorruptWeightsError:
        raise
    except Exception as error:  # unknown opcode, cut short...
        raise CorruptWeightsError(f"{path} is not a valid torch.save file ({error})") from None
    file.seek(start)


def _unpickle(unpickler, file):
    _check_memo(unpickler.path, file)
    try:
        return unpickler.load()
    except (UnsafeCheckpointError, CorruptWeightsError):
        raise
    except Exception as error:  # truncated, not a pickle, a stand-in called with wrong arguments...
        raise CorruptWeightsError(
            f"{unpickler.path} is not a valid torch.save file ({type(error).__name__}: {error})"
        ) from None


def _materialize(path, tensor, data, byteorder):
    """The strided view checked to lie inside its storage, copied (as_strided itself never checks)."""
    storage = tensor.storage
    dtype = storage.type.dtype.newbyteorder(byteorder)
    if len(data) != storage.numel * dtype.itemsize:
        raise CorruptWeightsError(
            f"{path}: storage {storage.key!r} holds {len(data)} bytes, expected {storage.numel} x {dtype.itemsize}"
        )
    flat = np.frombuffer(data, dtype=dtype)
    if 0 in tensor.size:
        array = np.zeros(tensor.size, dtype)
    else:
        last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
        if last >= storage.numel:
            raise CorruptWeightsError(
                f"{path}: tensor (offset {tensor.offset}, size {tensor.size}, stride {tensor.stride}) "
                f"reaches past its storage {storage.key!r} of {storage.numel} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            flat[tensor.offset:], tensor.size, [s * dtype.itemsize for s in tensor.stride], writeable=False
        )
        array = np.array(view, order="C")
    array = array.astype(dtype.newbyteorder("="), copy=False)
    if storage.type.name == "BFloat16Storage":  # bf16 is the top half of a float32
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _state_dict(path, obj, read_storage, byteorder="<"):
    if not isinstance(obj, dict) or not all(type(k) is str and isinstance(v, _Tensor) for k, v in obj.items()):
        found = list(obj)[:5] if isinstance(obj, dict) else type(obj).__name__
        raise CorruptWeightsError(
            f"{path} holds no plain state_dict (a dict of name -> tensor); found {found!r}"
        )
    storages = {}  # read each storage once: several tensors may view it

    def storage_bytes(storage):
        if storage.key not in storages:
            storages[storage.key] = read_storage(storage)
        return storages[storage.key]

    return {name: _materialize(path, t, storage_bytes(t.storage), byteorder) for name, t in obj.items()}


def _load_zip(path):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise CorruptWeightsError(f"{path} is not a readable zip archive ({error})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise CorruptWeightsError(f"{path} has {len(infos)} zip members (more than {MAX_MEMBERS}); refused")
        if sum(i.file_size for i in infos) > MAX_EXPANSION * os.path.getsize(path):
            raise CorruptWeightsError(f"{path} expands far beyond its size (a zip bomb?); refused")
        prefix = infos[0].filename.split("/", 1)[0] if infos else ""
        names = {i.filename: i for i in infos}
        pkl = names.get(f"{prefix}/data.pkl")
        if pkl is None:
            raise CorruptWeightsError(f"{path} is a zip archive but not a torch.save file (no {prefix}/data.pkl)")
        if pkl.file_size > MAX_PICKLE_BYTES:
            raise CorruptWeightsError(f"{path}: data.pkl is {pkl.file_size} bytes (over {MAX_PICKLE_BYTES}); refused")

        def record(name):
            if name not in names:
                raise CorruptWeightsError(f"{path} is incomplete: record {name!r} is missing")
            try:
                return archive.read(name)
            except Exception as error:  # bad CRC, cut short, unknown compression, bad deflate stream...
                raise CorruptWeightsError(f"{path}: record {name!r} is corrupt ({error})") from None

        byteorder = record(f"{prefix}/byteorder") if f"{prefix}/byteorder" in names else b"little"
        if byteorder not in (b"little", b"big"):
            raise CorruptWeightsError(f"{path}: unknown byteorder {byteorder[:16]!r}")
        data_pkl = io.BytesIO(record(pkl.filename))
        obj = _unpickle(_SafeUnpickler(data_pkl, path), data_pkl)
        return _state_dict(path, obj, lambda s: record(f"{prefix}/data/{s.key}"),
                           "<" if byteorder == b"little" else ">")


def _load_legacy(path, f):
    # The file object itself, not an mmap: the C unpickler mishandles mmap on some corrupt input.
    def load(unpickler=None):  # one unpickler per pickle of the stream
        return _unpickle(unpickler or _SafeUnpickler(f, path), f)

    if load() != LEGACY_MAGIC:
        raise CorruptWeightsError(f"{path} is neither a zip archive nor a legacy torch.save file")
    if (version := load()) != LEGACY_PROTOCOL:
        raise CorruptWeightsError(f"{path}: unknown legacy torch.save protocol {version!r}")
    load()  # sys_info: endianness of the writer; torch always wrote storages little-endian
    main = _SafeUnpickler(f, path)
    obj = load(main)
    keys = load()
    if type(keys) is not list or not all(type(k) is str for k in keys) or sorted(keys) != sorted(main.storages):
        raise CorruptWeightsError(f"{path}: legacy storage list does not match the tensors")
    data, size = {}, os.fstat(f.fileno()).st_size
    for key in keys:  # each: int64 numel, then the bytes
        storage = main.storages[key]
        nbytes = storage.numel * storage.type.dtype.itemsize
        # checked before reading: read(n) allocates n bytes, whatever the file holds
        if f.tell() + 8 + nbytes > size or int.from_bytes(f.read(8), "little") != storage.numel:
            raise CorruptWeightsError(f"{path} is truncated or corrupt at storage {key!r}")
        data[key] = f.read(nbytes)
    return _state_dict(path, obj, lambda s: data[s.key])


def load_torch_state_dict(path) -> "dict[str, np.ndarray]":
    """The tensors of a torch.save'd state_dict, in file order, as C-contiguous numpy arrays.

    Raises UnsafeCheckpointError when the pickle names anything but state_dict building blocks, and
    CorruptWeightsError (a ValueError) when the file is truncated, incomplete or not a state_dict.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(512)
        if zipfile.is_zipfile(f):
            return _load_zip(path)
        if head[257:262] == b"ustar":
            raise CorruptWeightsError(
                f"{path} is in torch's legacy tar format (torch < 0.4), which is not supported; "
                "re-save it with a current torch (torch.save(torch.load(f), g))."
            )
        if not head.startswith(b"\x80"):  # every torch.save pickle starts with PROTO
            raise CorruptWeightsError(f"{path} is not a torch.save file (truncated or another format)")
        f.seek(0)
        return _load_legacy(path, f)
