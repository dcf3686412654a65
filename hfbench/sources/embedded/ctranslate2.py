"""Read a CTranslate2 ``model.bin`` into numpy arrays (numpy and the standard library only).

The binary layout (little-endian), as CTranslate2 writes it::

    u32 version
    string spec name            (version >= 2)
    u32 spec revision           (version >= 3)
    u32 variable count
    per variable: string name, u8 rank, rank x u32 dims, u8 dtype, u32 byte count, raw bytes
    u32 alias count, then (alias, target) string pairs        (version >= 5)

A string is a u16 length (counting a trailing NUL) followed by its bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfbench.core.errors import EmbeddedModelError

# CTranslate2's DataType enum, in its order.
CT2_DTYPES: dict[int, str] = {
    0: "float32",
    1: "int8",
    2: "int16",
    3: "int32",
    4: "float16",
    5: "bfloat16",
}
_NUMPY_DTYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype("<f4"),
    "int8": np.dtype("i1"),
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
    "float16": np.dtype("<f2"),
    "bfloat16": np.dtype("<u2"),  # numpy has no bfloat16: read the raw bits, widen below
}


@dataclass
class CT2Model:
    """The content of a CTranslate2 ``model.bin``: its spec, variables and aliases."""

    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return self.aliases.get(name, name) in self.variables

    def get(self, name: str) -> np.ndarray:
        """The variable called ``name`` (aliases followed).

        Raises:
            EmbeddedModelError: no such variable.
        """
        target = self.aliases.get(name, name)
        try:
            return self.variables[target]
        except KeyError:
            raise EmbeddedModelError(
                f"The CTranslate2 model has no variable {name!r} (spec {self.spec!r})."
            ) from None

    def scalar(self, name: str) -> int:
        """A scalar integer or boolean variable as a Python int."""
        return int(self.get(name).reshape(-1)[0])


class _Reader:
    """Sequential little-endian reads over a bytes buffer, with clear errors on truncation."""

    def __init__(self, data: bytes | memoryview, source: str) -> None:
        self.data = data
        self.offset = 0
        self.source = source

    def take(self, size: int) -> memoryview:
        end = self.offset + size
        if end > len(self.data):
            raise EmbeddedModelError(
                f"{self.source} is truncated: needed {size} bytes at offset {self.offset}, "
                f"the file has {len(self.data)}."
            )
        view = memoryview(self.data)[self.offset : end]
        self.offset = end
        return view

    def unpack(self, fmt: str) -> int:
        size = struct.calcsize("<" + fmt)
        (value,) = struct.unpack("<" + fmt, self.take(size))
        return int(value)

    def string(self) -> str:
        length = self.unpack("H")
        raw = bytes(self.take(length))
        return raw.rstrip(b"\0").decode("utf-8")


def read_ct2_model(path: str | Path) -> CT2Model:
    """Parse a CTranslate2 ``model.bin`` into numpy arrays (copies, independent of the file).

    Raises:
        EmbeddedModelError: the file is truncated or uses an unknown data type.
    """
    path = Path(path)
    reader = _Reader(path.read_bytes(), str(path))
    version = reader.unpack("I")
    spec = reader.string() if version >= 2 else ""
    revision = reader.unpack("I") if version >= 3 else 1
    model = CT2Model(version=version, spec=spec, revision=revision)
    for _ in range(reader.unpack("I")):
        name = reader.string()
        rank = reader.unpack("B")
        shape = tuple(reader.unpack("I") for _ in range(rank))
        code = reader.unpack("B")
        if code not in CT2_DTYPES:
            raise EmbeddedModelError(
                f"{path}: variable {name!r} has unknown CTranslate2 dtype code {code}; "
                f"known codes are {sorted(CT2_DTYPES)}."
            )
        dtype_name = CT2_DTYPES[code]
        num_bytes = reader.unpack("I")
        array = np.frombuffer(reader.take(num_bytes), dtype=_NUMPY_DTYPES[dtype_name]).copy()
        if dtype_name == "bfloat16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        model.variables[name] = array.reshape(shape)
    if version >= 5:
        for _ in range(reader.unpack("I")):
            alias = reader.string()
            model.aliases[alias] = reader.string()
    return model
