#!/usr/bin/python3
"""Moves weights between a PyTorch state_dict (.pt, written by torch.save) and tapegrad's .npz
checkpoints (what tg::nn::save writes and tg::nn::load reads).

Usage (Debian's python3 with python3-torch and python3-numpy; scripts/setup.sh --fixtures installs them):
  scripts/torch_state_dict.py to-npz IN.pt OUT.npz [--dtype float32|float64]
  scripts/torch_state_dict.py to-pt  IN.npz OUT.pt [--dtype float32|float64]

What tapegrad's .npz holds (core/npz_write.cpp, nn/serialize.cpp): one NAME.npy per parameter and
buffer, NAME being the state_dict key ("0.weight", "1.running_mean", "weight_ih_l0", ...), in
little-endian C order, as float32 ('<f4') or float64 ('<f8') only; a 0-d tensor is a 0-d array
(shape ()). tapegrad keeps every buffer in the module's float type, so PyTorch's int64
`num_batches_tracked` (BatchNorm) is written as a 0-d float array and turned back into int64 by
to-pt. tg::nn::load converts float32 <-> float64 itself, so either precision loads into either
kind of module; --dtype only chooses what is stored.

to-npz: --dtype unset keeps each float32/float64 tensor's precision; float16 and bfloat16 need an
  explicit --dtype. IN.pt may be a bare state_dict or a checkpoint dict holding one under
  "state_dict" or "model_state_dict". Anything else (integer or boolean tensors other than
  num_batches_tracked, complex, sparse or quantized tensors, non-tensor entries, a pickled whole
  module) is refused with a message naming the key and what it holds: nothing is written then.
to-pt: writes an OrderedDict of tensors that module.load_state_dict accepts; --dtype unset keeps
  each array's precision.

The .npz is written like tapegrad writes it: stored entries with a fixed date, so the same weights
always give the same bytes. Reading and writing .npz needs only numpy (torch is imported only
for the .pt side), so the npz functions can be used and tested without torch.
"""
import argparse
import collections
import os
import sys
import tempfile
import zipfile

import numpy as np

NPZ_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
# Buffers PyTorch keeps as integers but tapegrad as floats; converted back by to-pt.
INTEGER_BUFFERS = ("num_batches_tracked",)


class ConversionError(Exception):
    """A state_dict or archive that cannot be converted; the message says which key and why."""


def is_integer_buffer(name):
    return name.rsplit(".", 1)[-1] in INTEGER_BUFFERS


# ---- .npz (numpy only) ----

def read_npz(path):
    """The arrays of an .npz as an ordered {name: ndarray}, checked to be float32 or float64."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ConversionError(f"{path}: cannot read as .npz: {e}") from e
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ConversionError(f"{path}: a single .npy array, not an .npz archive")
    with archive:
        arrays = collections.OrderedDict()
        for name in archive.files:
            array = archive[name]
            if array.dtype not in NPZ_DTYPES.values():
                raise ConversionError(f"{path}: array '{name}' has dtype {array.dtype}; "
                                      "tapegrad's .npz holds only float32 and float64")
            arrays[name] = array
    return arrays


def write_npz(arrays, path):
    """Writes {name: ndarray} as an .npz: one stored NAME.npy per array, dated 1980-01-01 like
    tapegrad's own files, so equal arrays give equal bytes."""
    for name, array in arrays.items():
        if array.dtype not in NPZ_DTYPES.values():
            raise ConversionError(f"array '{name}' has dtype {array.dtype}; only float32 and float64 are written")
    # Written beside `path` and renamed into place: a failure leaves no partial file.
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        _write_archive(arrays, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _write_archive(arrays, path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            with archive.open(info, "w", force_zip64=True) as entry:
                # not np.ascontiguousarray: it turns a 0-d array into shape (1,)
                np.lib.format.write_array(entry, np.array(array, order="C", copy=False), allow_pickle=False)


# ---- .pt (needs torch) ----

def _torch():
    try:
        import torch
    except ImportError as e:
        raise ConversionError("the .pt side needs PyTorch: install python3-torch "
                              "(scripts/setup.sh --fixtures) and run with /usr/bin/python3") from e
    return torch


def state_dict_to_arrays(state_dict, dtype=None):
    """A PyTorch state_dict as {name: ndarray} in tapegrad's form (see the module's docstring)."""
    torch = _torch()
    floats = {torch.float32: "float32", torch.float64: "float64"}
    halves = (torch.float16, torch.bfloat16)
    integers = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)
    arrays = collections.OrderedDict()
    problems = []
    for name, tensor in state_dict.items():
        if not isinstance(name, str):
            problems.append(f"key {name!r} is not a string")
            continue
        if not isinstance(tensor, torch.Tensor):
            problems.append(f"'{name}' holds a value of type {type(tensor).__name__}, not a tensor")
            continue
        if tensor.layout != torch.strided or tensor.is_quantized:
            problems.append(f"'{name}' is a {'quantized' if tensor.is_quantized else str(tensor.layout)} tensor; "
                            "only dense tensors convert")
            continue
        tensor = tensor.detach().cpu()
        if tensor.dtype in floats or tensor.dtype in halves:
            if tensor.dtype in halves and dtype is None:
                problems.append(f"'{name}' is {tensor.dtype}; tapegrad stores float32 or float64, "
                                "so pass --dtype float32 or --dtype float64")
                continue
            target = dtype or floats[tensor.dtype]
            arrays[name] = tensor.to(torch.float64).numpy().astype(NPZ_DTYPES[target])
        elif tensor.dtype in integers and is_integer_buffer(name):
            if tensor.dim() != 0:
                problems.append(f"'{name}' has shape {tuple(tensor.shape)}; a 0-d counter was expected")
                continue
            # float64 holds any count exactly; set to the state's precision below
            arrays[name] = np.array(float(tensor.item()), dtype=NPZ_DTYPES[dtype or "float64"])
        else:
            problems.append(f"'{name}' has dtype {tensor.dtype}; tapegrad holds float32/float64 tensors "
                            f"(and integer {'/'.join(INTEGER_BUFFERS)} buffers, stored as floats)")
    if problems:
        raise ConversionError("cannot convert the state_dict: " + "; ".join(problems))
    # Counters take the precision of the state's float tensors (float32 if those are mixed).
    if dtype is None:
        kinds = {a.dtype for n, a in arrays.items() if not is_integer_buffer(n)}
        kind = kinds.pop() if len(kinds) == 1 else NPZ_DTYPES["float32"]
        for name in arrays:
            if is_integer_buffer(name):
                arrays[name] = arrays[name].astype(kind)
    return arrays


def arrays_to_state_dict(arrays, dtype=None):
    """{name: ndarray} from a tapegrad .npz as a PyTorch state_dict (an OrderedDict of tensors)."""
    torch = _torch()
    state = collections.OrderedDict()
    for name, array in arrays.items():
        if is_integer_buffer(name):
            value = float(array.reshape(-1)[0]) if array.size == 1 else None
            if array.ndim != 0 or value is None or value != int(value) or value < 0:
                raise ConversionError(f"'{name}' must be a 0-d whole non-negative number, got shape "
                                      f"{array.shape}" + ("" if value is None else f" value {value}"))
            state[name] = torch.tensor(int(value), dtype=torch.int64)
        else:
            target = NPZ_DTYPES[dtype] if dtype else array.dtype.newbyteorder("<")
            state[name] = torch.from_numpy(np.array(array, dtype=target, order="C"))  # a copy; 0-d stays 0-d
    return state


def load_state_dict(path):
    """The state_dict in a .pt file (a bare one, or under "state_dict"/"model_state_dict")."""
    torch = _torch()
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise ConversionError(f"{path}: cannot open: {e.strerror or e}") from e
    except Exception as e:  # torch raises many types (pickle errors, RuntimeError, ...)
        raise ConversionError(f"{path}: cannot load as a state_dict with torch.load(weights_only=True): {e}. "
                              "Save model.state_dict(), not the model object") from e
    if isinstance(loaded, dict):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(loaded.get(key), dict):
                return loaded[key]
        return loaded
    raise ConversionError(f"{path}: holds a value of type {type(loaded).__name__}, not a state_dict")


def pt_to_npz(pt_path, npz_path, dtype=None):
    arrays = state_dict_to_arrays(load_state_dict(pt_path), dtype)
    write_npz(arrays, npz_path)
    return arrays


def npz_to_pt(npz_path, pt_path, dtype=None):
    state = arrays_to_state_dict(read_npz(npz_path), dtype)
    _torch().save(state, pt_path)
    return state


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command, source, target in (("to-npz", "IN.pt", "OUT.npz"), ("to-pt", "IN.npz", "OUT.pt")):
        p = sub.add_parser(command, help=f"{source} -> {target}")
        p.add_argument("source", metavar=source)
        p.add_argument("target", metavar=target)
        p.add_argument("--dtype", choices=sorted(NPZ_DTYPES), default=None,
                       help="store every float tensor in this precision (default: keep each one's)")
    args = parser.parse_args(argv)
    try:
        if args.command == "to-npz":
            arrays = pt_to_npz(args.source, args.target, args.dtype)
        else:
            arrays = npz_to_pt(args.source, args.target, args.dtype)
    except ConversionError as e:
        print(f"torch_state_dict.py {args.command}: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.source} -> {args.target}: {len(arrays)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
