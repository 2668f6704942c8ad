"""Load and its cost for scripts/bench_peer.py: servers as child processes, wrk driving them,
and the CPU time each server, its PostgreSQL backends and everything else on the machine spent
during a run (Linux: /proc)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from peer_postgraphile import Failed

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")

_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies, however it dies (kill -9
    too), so that no server outlives it."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    db_user: str  # the role its database connections log in as

    @classmethod
    def start(
        cls, name: str, argv: list[str], env: dict[str, str], log: Path, port: int, db_user: str
    ) -> Server:
        """`argv` as a child process whose output goes to `log`. The executable is the server
        itself (a console script, or a node script run through its shebang), so the child's
        pid is the server's."""
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 (our own command lines)
                argv,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        return cls(name, process, f"http://127.0.0.1:{port}", log, db_user)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    async def wait_ready(self, http: httpx.AsyncClient, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise Failed(f"{self.name} exited with {code}:\n{self.log_tail()}")
            try:
                response = await http.post(
                    f"{self.url}/graphql", json={"query": "{ __typename }"}, timeout=2
                )
                if response.status_code == 200 and b'"errors"' not in response.content:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        raise Failed(f"{self.name} did not answer within {seconds:g} s:\n{self.log_tail()}")

    def has_loaded(self, library: str) -> bool:
        """Whether the process mapped a file whose path contains `library` (e.g. uvloop)."""
        try:
            return library in Path(f"/proc/{self.pid}/maps").read_text()
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# CPU time


def cpu_ms(pid: int) -> float:
    """utime + stime of a process, all its threads, in ms (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def machine_ms() -> tuple[float, float]:
    """CPU time the whole machine has been busy, and time stolen by the hypervisor, in ms."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq) * TICK_MS, steal * TICK_MS


def own_and_children_ms() -> float:
    """This process's CPU and that of its children that have ended (wrk runs)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += (usage.ru_utime + usage.ru_stime) * 1000
    return total


async def backend_cpu(admin: asyncpg.Connection, database: str) -> dict[str, dict[int, float]]:
    """CPU so far of each PostgreSQL backend connected to `database`, by the role it logged in
    as: the servers use different roles, so each one's database work can be told apart."""
    rows = await admin.fetch(
        "SELECT pid, usename FROM pg_stat_activity WHERE datname = $1", database
    )
    found: dict[str, dict[int, float]] = {}
    for row in rows:
        found.setdefault(row["usename"], {})[row["pid"]] = cpu_ms(row["pid"])
    return found


# wrk

WRK_SCRIPT = """-- written by scripts/bench_peer.py: POST one query; count answers that are not it
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
{headers}
local expected = {length}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or #body ~= expected then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout, total))
end
"""


def wrk_script(body: bytes, headers: dict[str, str], length: int) -> str:
    """A wrk Lua script that POSTs `body` and counts every answer that is not a 200 of exactly
    `length` bytes (the verified answer's length: any error would change it) as bad."""
    text = body.decode()
    if "]==]" in text or any('"' in f"{name}{value}" for name, value in headers.items()):
        raise ValueError("the request cannot be written into the Lua script as it is")
    lines = "\n".join(f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items())
    return WRK_SCRIPT.format(body=text, headers=lines, length=length)


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect, read, write, timeout, and non-2xx answers
    bad: int  # 200 answers that are not the verified one


async def wrk(executable: str, url: str, script: Path, connections: int, seconds: float) -> Load:
    """One wrk thread (the machine's cores are better left to the servers)."""
    process = await asyncio.create_subprocess_exec(
        executable,
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        f"{url}/graphql",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("RESULT "):
            requests, micros, p50, p99, errors, bad = (int(v) for v in line.split()[1:])
            return Load(requests, micros / 1e6, p50 / 1000, p99 / 1000, errors, bad)
    raise Failed(f"wrk gave no result:\n{text}")


@dataclass
class Run:
    """One measured wrk run against one server, and what it cost."""

    load: Load
    cpu_ms: float  # the server process
    db_cpu_ms: float  # the PostgreSQL backends connected as the server's role
    others_ms: float  # everything else on the machine: other servers, other people's work
    steal_ms: float

    @property
    def throughput(self) -> float:
        return self.load.requests / self.load.seconds

    @property
    def p50_ms(self) -> float:
        return self.load.p50_ms

    @property
    def cpu_per_request_ms(self) -> float:
        return self.cpu_ms / max(self.load.requests, 1)

    @property
    def db_cpu_per_request_ms(self) -> float:
        return self.db_cpu_ms / max(self.load.requests, 1)

    @property
    def others_cores(self) -> float:
        """Cores kept busy by everything but this server, its database work, wrk and us."""
        return self.others_ms / (self.load.seconds * 1000)

    @property
    def steal_cores(self) -> float:
        """Cores' worth of time the hypervisor gave to other machines."""
        return self.steal_ms / (self.load.seconds * 1000)

    @property
    def clean(self) -> bool:
        return self.load.errors == 0 and self.load.bad == 0


async def measured_run(
    wrk_executable: str,
    server: Server,
    script: Path,
    connections: int,
    seconds: float,
    admin: asyncpg.Connection,
    database: str,
) -> Run:
    backends = await backend_cpu(admin, database)
    machine, steal = machine_ms()
    ours_before = own_and_children_ms()
    before = cpu_ms(server.pid)
    load = await wrk(wrk_executable, server.url, script, connections, seconds)
    after = cpu_ms(server.pid)
    ours_after = own_and_children_ms()
    machine_after, steal_after = machine_ms()
    backends_after = await backend_cpu(admin, database)
    if server.process.poll() is not None:
        code = server.process.returncode
        raise Failed(f"{server.name} died during a run ({code}):\n{server.log_tail()}")
    # A backend that a pool opened during the run counts from zero.
    db = {
        user: sum(ms - backends.get(user, {}).get(pid, 0.0) for pid, ms in pids.items())
        for user, pids in backends_after.items()
    }
    server_db = db.get(server.db_user, 0.0)
    accounted = (after - before) + sum(db.values()) + (ours_after - ours_before)
    return Run(
        load,
        after - before,
        server_db,
        max(0.0, machine_after - machine - accounted),
        steal_after - steal,
    )
