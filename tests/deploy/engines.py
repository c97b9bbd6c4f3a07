"""The engines a deployment runs on, started by a test on free loopback ports and stopped
at its end: redis-server as primary, replica and sentinels, Debian's pgbouncer, and
Phoenix's own processes as the Procfile starts them (gunicorn with gunicorn.conf.py, RQ
workers, rqcron)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from redis import Redis
from redis.exceptions import RedisError

from phoenix.redis_failover import RetryFor, no_retry
from tests.conftest import ROOT, WORKER_CLASS, stop_worker, wait_for, worker_environment

MASTER_NAME = "phoenix"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(call: Callable[[], object]) -> bool:
    try:
        return bool(call())
    except (RedisError, OSError, httpx.HTTPError):
        return False


class Engine:
    """One server process, its output in a log file of its own folder."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self.port = free_port()
        self.log = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class RedisServer(Engine):
    def __init__(self, folder: Path, name: str, *args: str) -> None:
        super().__init__(folder, name)
        self.args = args

    def command(self) -> list[str]:
        return [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)),
            *("--dbfilename", f"{self.name}.rdb", "--save", "", "--appendonly", "no"),
            *self.args,
        ]

    def client(self, **kwargs) -> Redis:
        return Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1, **kwargs)

    def start(self) -> None:
        super().start()
        client = self.client()
        wait_for(lambda: answers(client.ping), timeout=10, what=f"{self.name} to answer")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Sentinel(Engine):
    """`redis-server FILE --sentinel`: the file must be writable, the sentinel rewrites it."""

    def __init__(self, folder: Path, name: str, primary_port: int) -> None:
        super().__init__(folder, name)
        self.config = folder / f"{name}.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
            f"sentinel failover-timeout {MASTER_NAME} 5000\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )

    def command(self) -> list[str]:
        return ["redis-server", str(self.config), "--sentinel"]

    def client(self) -> Redis:
        return Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def primary_port(self) -> int | None:
        try:
            address = self.client().sentinel_get_master_addr_by_name(MASTER_NAME)
        except RedisError:
            return None
        return int(address[1]) if address else None


class RedisWithSentinels:
    """A primary, a replica and three sentinels watching them (quorum 2)."""

    def __init__(self, folder: Path) -> None:
        self.primary = RedisServer(folder, "primary")
        self.replica = RedisServer(folder, "replica")
        self.replica.args = ("--replicaof", "127.0.0.1", str(self.primary.port))
        self.sentinels = [Sentinel(folder, f"sentinel-{i}", self.primary.port) for i in range(3)]

    def start(self) -> None:
        """Start them all; on a failure, stop the ones started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.primary.start()
        self.replica.start()
        replica = self.replica.client()
        wait_for(
            lambda: replica.info("replication").get("master_link_status") == "up",
            timeout=10,
            what="the replica to follow the primary",
        )
        for sentinel in self.sentinels:
            sentinel.start()
        # Sentinels find each other and the replica through the primary's hello channel.
        for sentinel in self.sentinels:
            client = sentinel.client()
            wait_for(
                lambda client=client: answers(
                    lambda: (
                        len(client.sentinel_sentinels(MASTER_NAME)) == 2
                        and len(client.sentinel_slaves(MASTER_NAME)) == 1
                    )
                ),
                timeout=20,
                what=f"{sentinel.name} to know the other sentinels and the replica",
            )

    def stop(self) -> None:
        for engine in [*self.sentinels, self.replica, self.primary]:
            engine.kill()

    def primary_port(self) -> int | None:
        """The port the sentinels' majority names as primary."""
        ports = [sentinel.primary_port() for sentinel in self.sentinels]
        for port in set(ports):
            if port is not None and ports.count(port) >= 2:
                return port
        return None

    def environment(self) -> dict[str, str]:
        return self.environment_for([sentinel.port for sentinel in self.sentinels])

    @staticmethod
    def environment_for(ports: list[int]) -> dict[str, str]:
        """What Phoenix's processes need to find the primary; REDIS_URL gives only the
        database number (its host is not used)."""
        return {
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in ports),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_URL": "redis://unused.invalid:6379/0",
        }

    def queue_settings(self) -> dict:
        """RQ_QUEUES for this process, as settings.py builds them from environment()."""
        connection = {
            "SENTINELS": [("127.0.0.1", s.port) for s in self.sentinels],
            "MASTER_NAME": MASTER_NAME,
            "DB": 0,
            "SOCKET_TIMEOUT": 5,
            "CONNECTION_KWARGS": {
                "socket_connect_timeout": 2,
                "socket_keepalive": True,
                "health_check_interval": 30,
                "retry": RetryFor(10),
            },
            "SENTINEL_KWARGS": {
                "socket_timeout": 2,
                "socket_connect_timeout": 2,
                "retry": no_retry(),
            },
        }
        return {
            name: {**connection, "DEFAULT_TIMEOUT": 600}
            for name in ("default", "images", "videos", "light", "housekeeping", "webhooks")
        }


class PgBouncer(Engine):
    """Debian's pgbouncer in transaction mode in front of the test PostgreSQL. It will not
    run as root, so as root it drops to the `postgres` user, which must read its folder."""

    def __init__(self, db_host: str, db_port: int, *, pool_size: int = 20) -> None:
        folder = Path(tempfile.mkdtemp(prefix="phoenix-pgbouncer-"))
        folder.chmod(0o755)
        super().__init__(folder, "pgbouncer")
        userlist = folder / "userlist.txt"
        userlist.write_text('"postgres" ""\n')
        self.config = folder / "pgbouncer.ini"
        self.config.write_text(
            "[databases]\n"
            f"* = host={db_host} port={db_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {userlist}\nadmin_users = postgres\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\nmax_client_conn = 1000\n"
            # Django's health check on a reused connection; server_reset_query is not used
            # in transaction mode.
            "server_check_query = select 1\n"
        )
        for path in (userlist, self.config):
            path.chmod(0o644)

    def command(self) -> list[str]:
        executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        run_as = ["-u", "postgres"] if os.geteuid() == 0 else []
        return [executable, *run_as, str(self.config)]

    def start(self) -> None:
        super().start()

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, timeout=10, what="pgbouncer to listen")

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def client_logins(self, database: str) -> int:
        """How many client connections logged in to `database` through this bouncer."""
        return self.log.read_text(errors="replace").count(f"login attempt: db={database} ")


class PhoenixProcess:
    """One process of the Procfile, run with the test database and the given environment."""

    def __init__(
        self,
        args: list[str],
        folder: Path,
        name: str,
        base_env: dict | None = None,
        cwd: Path = ROOT,
        **env: str,
    ) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        # The test's own environment with the test database, unless given a whole one.
        environment = {**base_env, **env} if base_env is not None else worker_environment(**env)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=cwd,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, number: int) -> None:
        os.kill(self.process.pid, number)

    def kill(self) -> None:
        stop_worker(self.process)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def procfile_command(process_type: str) -> str:
    """The Procfile's line for one process type, as a shell runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{process_type}:"):
            return line.partition(":")[2].strip()
    raise LookupError(process_type)


def start_web(
    folder: Path, name: str = "web", base_env: dict | None = None, **env: str
) -> tuple[PhoenixProcess, str]:
    """The Procfile's `web` line (static files collected, then gunicorn with
    gunicorn.conf.py), run by a shell as honcho or a platform runs it; returns its base
    URL."""
    port = free_port()
    # `python` and `gunicorn` are this virtualenv's, as `make run` puts them first on PATH.
    path = f"{Path(sys.executable).parent}:{(base_env or os.environ).get('PATH', '')}"
    env = {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "STATIC_ROOT": str(folder / f"{name}-static"),
        "PATH": path,
        **env,
    }
    web = PhoenixProcess(["/bin/sh", "-c", procfile_command("web")], folder, name, base_env, **env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: (
                answers(lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200)
                or not web.alive()
            ),
            timeout=60,
            what="gunicorn to answer /healthz",
        )
        assert web.alive(), web.log_tail()
    except BaseException:
        web.kill()
        raise
    return web, base


def start_rqworker(
    folder: Path, *queue_names: str, name: str = "worker", cwd: Path = ROOT, **env: str
) -> PhoenixProcess:
    """`manage.py rqworker` with the worker class and scheduler the Procfile's have."""
    args = [sys.executable, str(ROOT / "manage.py"), "rqworker", *queue_names, *WORKER_CLASS]
    return PhoenixProcess([*args, "--with-scheduler"], folder, name, cwd=cwd, **env)


def start_rqcron(folder: Path, config: Path, **env: str) -> PhoenixProcess:
    return PhoenixProcess(
        [sys.executable, "manage.py", "rqcron", str(config)], folder, "cron", **env
    )


def stop_web(web: PhoenixProcess, timeout: float = 30) -> None:
    """SIGTERM (graceful), and SIGKILL to the whole group if it has not gone in time."""
    try:
        web.signal(15)
        web.process.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    finally:
        web.kill()


def wait_until_gone(process: PhoenixProcess, timeout: float) -> float:
    """Seconds until the process exited (it must within `timeout`)."""
    started = time.monotonic()
    try:
        process.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{process.name} still running after {timeout:g}s") from None
    return time.monotonic() - started
