"""Where each server's CPU time goes, for scripts/bench_peer.py --profile: our process sampled
by py-spy under load, PostGraphile's by V8's own profiler (`node --cpu-prof`, in a second
PostGraphile process started for it, so that the measured one runs unprofiled). Both are
summed up by package (self time: the code that was running, not its callers)."""

from __future__ import annotations

import asyncio
import collections
import re
import shutil
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
OURS = ("app", "schema", "resolvers", "services", "models", "mailers")


def py_spy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


async def record_python(pid: int, seconds: float, out: Path) -> Path:
    """py-spy's raw (collapsed) stacks of `pid` for `seconds`. py-spy pauses the process for
    each sample unless --nonblocking, which keeps the profiled server's timing closer."""
    executable = py_spy()
    assert executable is not None
    process = await asyncio.create_subprocess_exec(
        executable,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "250",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
    return out


_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def python_package(path: str) -> str:
    """A frame's file as the package it belongs to (py-spy names files relative to the
    interpreter's path: `asyncpg/connection.py`, `schema/execution.py`)."""
    relative = path.removeprefix(f"{ROOT}/")
    if "site-packages/" in relative:
        relative = relative.split("site-packages/", 1)[1]
    top = relative.split("/", 1)[0].removesuffix(".py")
    return f"ours: {top}" if top in OURS else top


def summarize_python(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples, self samples by package, and by function. A sample whose innermost Python frame
    is the event loop's run() is time in uvloop's C code (sockets, callbacks, the HTTP
    parser's calls into Python excepted)."""
    packages: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        match = _FRAME.match(stack.split(";")[-1])
        function, path = (match["function"], match["file"]) if match else (stack, "?")
        package = python_package(path)
        if function == "run" and package == "asyncio":
            package = "event loop (uvloop, C)"
        packages[package] += samples
        functions[f"{function} ({package})"] += samples
    return total, packages, functions


def node_flags(directory: Path) -> list[str]:
    """node's own flags (not allowed in NODE_OPTIONS) to write a V8 CPU profile into
    `directory` when the process exits (PostGraphile exits on SIGINT)."""
    return ["--cpu-prof", f"--cpu-prof-dir={directory}"]


def summarize_node(
    profile: Path, last_seconds: float
) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples of the profile's last `last_seconds` (the load, not the start-up) by package
    (node_modules/<package>, node's internals, the garbage collector) and by function."""
    data = orjson.loads(profile.read_bytes())
    nodes = {node["id"]: node["callFrame"] for node in data["nodes"]}
    times = []
    at = data["startTime"]
    for delta in data["timeDeltas"]:
        at += delta
        times.append(at)
    since = data["endTime"] - last_seconds * 1e6
    packages: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    total = 0
    for node_id, when in zip(data["samples"], times, strict=True):
        if when < since:
            continue
        frame = nodes[node_id]
        name, url = frame["functionName"], frame["url"]
        if name == "(idle)":
            continue
        total += 1
        if name in ("(garbage collector)", "(program)"):
            package = name
        elif "node_modules/" in url:
            parts = url.rsplit("node_modules/", 1)[1].split("/")
            package = "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
        elif url.startswith("node:"):
            package = "node: " + url.removeprefix("node:").split("/", 2)[-1]
        else:
            package = url or "(native)"
        packages[package] += 1
        functions[f"{name or '(anonymous)'} ({package})"] += 1
    return total, packages, functions


def print_summary(
    title: str,
    summary: tuple[int, collections.Counter[str], collections.Counter[str]],
    top: int = 12,
) -> None:
    total, packages, functions = summary
    print(f"\n{title}: {total} samples, self time")
    if not total:
        return
    for package, count in packages.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {package}")
    print("  functions:")
    for function, count in functions.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {function[:110]}")
