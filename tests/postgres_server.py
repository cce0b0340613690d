"""A throwaway PostgreSQL cluster for the tests and benchmarks: Debian's server binaries, a fresh
data folder in a temporary directory, a free loopback port, stopped and deleted afterwards.

PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to the
unprivileged ``postgres`` user that Debian's package creates (``runuser -u postgres``); otherwise
it runs as the current user. Only 127.0.0.1 is listened on, with ``trust`` authentication there:
nothing off this machine can reach it.

Example::

    with PostgresServer() as server:
        url = server.create_database("t1")     # postgresql://postgres@127.0.0.1:PORT/t1
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "server_binaries", "why_unavailable"]


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian keeps them off the PATH), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_unavailable() -> str | None:
    """Why no cluster can start here (a one-line reason), or None when one can."""
    if server_binaries() is None:
        return "PostgreSQL's server is not installed (Debian: apt-get install -y postgresql)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running cluster; :meth:`create_database` gives each test a database of its own.

    :param durable: keep ``fsync`` on (benchmarks); tests turn it off, since a killed process
        (what they test) loses nothing either way, and creating databases gets much faster.
    """

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="rater-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "postgres"
        self._as: list[str] = []
        self._started = False

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of ``database`` on this cluster."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, text=True, cwd="/")

    def start(self) -> PostgresServer:
        reason = why_unavailable()
        if reason:
            raise RuntimeError(reason)
        bindir = server_binaries()
        assert bindir is not None
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(str(bindir / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200 -c shared_buffers=128MB")
        if not self.durable:
            options += " -c fsync=off -c full_page_writes=off"
        self._run(str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")
        self._started = True
        return self

    def create_database(self, name: str, template: str | None = None) -> str:
        """Make an empty database (or a copy of the database ``template``, a name or this
        cluster's URL, whose sessions are ended first: a copy needs it unused) and return its URL."""
        import psycopg

        source = template.rsplit("/", 1)[-1] if template else None
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if source:  # e.g. a connection a CliRunner-run command left open
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                             "AND pid <> pg_backend_pid()", (source,))
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{source}" STRATEGY FILE_COPY' if source else ""))
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            bindir = server_binaries()
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
