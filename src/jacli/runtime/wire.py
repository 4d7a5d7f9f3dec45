"""What travels between a forked child and its parent (``runtime.overlap``): frames of
pickled plain data.

A frame is its kind (one byte: ``s`` started, ``p`` a part of the answer, ``r``/``e``/``i``
the answer, ``m`` a message from the parent), its length, its payload. A value is pickled
with every torch object in it (a tensor, a wrapper of one) as its ``tolist()``, so the
reader never imports torch to read it. Imports no torch.
"""

from __future__ import annotations

import io
import os
import struct

HEAD = struct.Struct("<cQ")  # a frame's kind and its payload's length


_ATOMS = (float, int, bool, str, type(None))


def plain(x):
    """``x`` with every object that has ``tolist()`` (a tensor, an array, a wrapper of one)
    made its ``tolist()``, inside lists, tuples and dicts; other objects as they are."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = x if all(type(i) in _ATOMS for i in x) else [plain(i) for i in x]
        if all(a is b for a, b in zip(items, x)):
            return x  # nothing to change (a named tuple stays one)
        return type(x)._make(items) if hasattr(x, "_make") else type(x)(items)
    return x.tolist() if hasattr(x, "tolist") else x


def dumps(value) -> bytes:
    """``value`` pickled, a torch object in it (a tensor, a wrapper of one) as its
    ``tolist()``: the parent never imports torch to read it."""
    import pickle

    class Plain(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj).__module__.partition(".")[0] != "torch":
                return NotImplemented
            if not hasattr(obj, "tolist"):
                raise TypeError(f"a {type(obj).__name__} cannot be sent without torch")
            return _same, (obj.tolist(),)

    out = io.BytesIO()
    Plain(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _same(x):
    return x


def send(fd: int, kind: bytes, payload: bytes) -> None:
    view = memoryview(HEAD.pack(kind, len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int) -> tuple[bytes, bytes]:
    """The next frame on ``fd``, waited for: ``(kind, payload)``; ``(b"", b"")`` when the
    other end closed first."""
    head = _exactly(fd, HEAD.size)
    if len(head) < HEAD.size:
        return b"", b""
    kind, size = HEAD.unpack(head)
    return kind, _exactly(fd, size)


def _exactly(fd: int, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = os.read(fd, size - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def packed(err: BaseException) -> tuple:
    """An error as it can travel: its class, args and attributes (its own ``__init__`` may
    want other arguments than ``args``); ``unpacked`` rebuilds it."""
    return type(err), err.args, vars(err)


def unpacked(state: tuple) -> BaseException:
    cls, args, attributes = state
    err = cls.__new__(cls, *args)
    err.__dict__.update(attributes)
    return err
