"""``jacli batch`` reads its request lines itself (``cli.requests_in``), polling the pipe
before it sleeps: the lines must be exactly those ``for line in sys.stdin`` gives."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest

from jacli.cli import requests_in
from jacli.cli.requests_in import request_lines

CASES = {
    "plain": b'{"expr": "x"}\n{"expr": "y"}\n',
    "no final newline": b'{"expr": "x"}\n{"expr": "y"}',
    "crlf and a lone cr": b'a\r\nb\rc\n\r\n\n',
    "empty lines": b"\n\n\nx\n\n",
    "multibyte across chunks": "é€😀 ü\nÆ\n".encode() * 7,
    "invalid utf-8": b"ok\n\xff\xfe bad\n\xe2\x82\n",
    "one long line": b"[" + b"1," * 5000 + b"1]\nnext\n",
    "nothing": b"",
}


def _stdin_over_pipe(data: bytes, errors: str) -> io.TextIOWrapper:
    """A text stream over a real pipe, as Python makes stdin on POSIX (newline="\\n"), with a
    writer that sends ``data`` in small pieces and closes."""
    r, w = os.pipe()

    def write():
        for i in range(0, len(data), 5):
            os.write(w, data[i:i + 5])
        os.close(w)

    threading.Thread(target=write, daemon=True).start()
    return io.TextIOWrapper(io.open(r, "rb"), encoding="utf-8", errors=errors, newline="\n")


def _as_stdin_iterates(data: bytes, errors: str) -> list[str]:
    return list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors,
                                 newline="\n"))


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_lines_over_a_pipe_are_those_of_iterating_stdin(name, errors, monkeypatch):
    data = CASES[name]
    if errors == "strict" and name == "invalid utf-8":
        with pytest.raises(UnicodeDecodeError):
            _as_stdin_iterates(data, errors)
        monkeypatch.setattr(requests_in, "spins", lambda: True)
        with pytest.raises(UnicodeDecodeError):
            list(request_lines(_stdin_over_pipe(data, errors)))
        return
    monkeypatch.setattr(requests_in, "spins", lambda: True)
    monkeypatch.setattr(requests_in, "CHUNK", 3)  # characters and lines cut across reads
    stream = _stdin_over_pipe(data, errors)
    assert list(request_lines(stream)) == _as_stdin_iterates(data, errors)


def test_one_cpu_or_an_in_memory_stream_iterates_the_stream(monkeypatch):
    data = CASES["crlf and a lone cr"]
    monkeypatch.setattr(requests_in, "spins", lambda: False)
    reads = []
    monkeypatch.setattr(requests_in.os, "read", lambda *a: reads.append(a) or b"")
    assert list(request_lines(_stdin_over_pipe(data, "strict"))) == \
        _as_stdin_iterates(data, "strict")
    monkeypatch.setattr(requests_in, "spins", lambda: True)
    assert list(request_lines(io.StringIO("a\nb"))) == ["a\n", "b"]
    assert reads == []  # neither read the descriptor itself


def test_an_idle_reader_polls_for_spin_s_then_reads():
    r, w = os.pipe()
    try:
        start = time.perf_counter()
        requests_in._wait_briefly(r)  # nothing written: polls for SPIN_S, then gives up
        assert time.perf_counter() - start >= requests_in.SPIN_S
        os.write(w, b"x\n")
        requests_in._wait_briefly(r)  # readable: returns, and the line is there
        assert os.read(r, 10) == b"x\n"
    finally:
        os.close(r)
        os.close(w)


def test_spins_only_beside_a_second_cpu(monkeypatch):
    monkeypatch.setattr(requests_in.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert requests_in.spins() is False
    monkeypatch.setattr(requests_in.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert requests_in.spins() is True


def test_a_slow_client_is_waited_for_asleep_after_one_poll(monkeypatch):
    """Polling stops once a request took longer than SPIN_S to come (a client that thinks
    between requests), and starts again when one comes quickly."""
    monkeypatch.setattr(requests_in, "spins", lambda: True)
    polls = []
    real = requests_in._wait_briefly
    monkeypatch.setattr(requests_in, "_wait_briefly", lambda fd: polls.append(1) or real(fd))
    r, w = os.pipe()
    stream = io.TextIOWrapper(io.open(r, "rb"), encoding="utf-8", newline="\n")
    lines = request_lines(stream)
    os.write(w, b"a\n")
    assert next(lines) == "a\n" and len(polls) == 1  # the first read polls
    threading.Timer(0.05, os.write, (w, b"b\n")).start()  # slow: polled, then slept
    assert next(lines) == "b\n" and len(polls) == 2
    os.write(w, b"c\n")  # (after a slow one: read asleep at once, and it came at once)
    assert next(lines) == "c\n" and len(polls) == 2
    os.write(w, b"d\n")  # quick again: polled again
    assert next(lines) == "d\n" and len(polls) == 3
    os.close(w)
    assert list(lines) == []


def test_a_non_blocking_stdin_is_waited_for(monkeypatch):
    """A parent may hand over a pipe with O_NONBLOCK set: reading waits for the lines
    instead of failing with EAGAIN."""
    monkeypatch.setattr(requests_in, "spins", lambda: True)
    r, w = os.pipe()
    os.set_blocking(r, False)
    stream = io.TextIOWrapper(io.open(r, "rb"), encoding="utf-8", newline="\n")
    lines = request_lines(stream)
    threading.Timer(0.05, os.write, (w, b"late\n")).start()  # after the 2 ms poll
    assert next(lines) == "late\n"
    os.close(w)
    assert list(lines) == []
