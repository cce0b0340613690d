"""Starting the rating app as a child process: ``streamlit run rater/app/asgi.py`` (the pages
and the rating routes on one port).

The database path, the address and the passcodes reach the app through environment variables,
never a command line (``ps`` shows every process's command line to every user of the machine;
a process's environment is readable only by its owner and root):

- ``RATER_DB``: the database file, or a ``postgresql://`` URL (its password, if it has one,
  stays in the environment: messages and the page name the URL without it);
  ``RATER_HOST``: the address the server listens on.
- ``RATER_PASSCODE``: when set, nobody sees media or votes before entering it.
- ``RATER_ADMIN_PASSCODE``: the owner's: the Raters page, excluding or including raters and
  standings a board hides from raters ask for it.

On a loopback address (the default) whoever can open the page is on this machine: without an
admin passcode the owner pages are open (or ask for ``RATER_PASSCODE`` again when there is one).
A server on any other address (``--host 0.0.0.0``) refuses to start without both passcodes, and
with two equal ones, so that a rater is never an owner.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rater.errors import ValidationError
from rater.store.dialect import is_database_url
from rater.store.postgres import display_url

__all__ = [
    "APP_PATH",
    "ServerConfig",
    "app_url",
    "check_access",
    "is_loopback",
    "read_passcode_file",
    "serve",
    "streamlit_command",
]

#: The Streamlit script.
APP_PATH = Path(__file__).with_name("streamlit_app.py")
#: What ``rater serve`` runs: the script and the rating routes on one port (:mod:`rater.app.asgi`).
ASGI_PATH = Path(__file__).with_name("asgi.py")

ENV_DB = "RATER_DB"
ENV_HOST = "RATER_HOST"
ENV_PASSCODE = "RATER_PASSCODE"
ENV_ADMIN_PASSCODE = "RATER_ADMIN_PASSCODE"


@dataclass(frozen=True)
class ServerConfig:
    """What the app needs to know about how it was started (read from the environment).

    ``host`` is None when the app was not started by :func:`serve` (then it counts as reachable
    from the network: the owner pages need the admin passcode).
    """

    db_path: Path | str  # a file, or a postgresql:// URL
    passcode: str | None = None
    admin_passcode: str | None = None
    host: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        env = os.environ if environ is None else environ
        from rater.api.client import DEFAULT_DB_PATH

        return cls(
            db_path=_location(env.get(ENV_DB) or DEFAULT_DB_PATH),
            passcode=env.get(ENV_PASSCODE) or None,
            admin_passcode=env.get(ENV_ADMIN_PASSCODE) or None,
            host=env.get(ENV_HOST) or None,
        )

    @property
    def local(self) -> bool:
        """Whether only this machine can reach the server (a loopback address)."""
        return self.host is not None and is_loopback(self.host)

    @property
    def owner_passcode(self) -> str | None:
        """The passcode the owner pages ask for; None with :attr:`owner_open` (no question) or
        when they are closed (off the loopback without an admin passcode)."""
        return self.admin_passcode or (self.passcode if self.local else None)

    @property
    def owner_open(self) -> bool:
        """Whether the owner pages need no passcode: a loopback server without passcodes."""
        return self.local and not self.passcode and not self.admin_passcode

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with this configuration applied."""
        env = dict(os.environ if base is None else base)
        env[ENV_DB] = str(self.db_path)
        for key, value in ((ENV_PASSCODE, self.passcode), (ENV_ADMIN_PASSCODE, self.admin_passcode),
                           (ENV_HOST, self.host)):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        return env


def _location(db: str | os.PathLike[str]) -> Path | str:
    """A database file's absolute path, or a server URL as given."""
    return str(db) if is_database_url(str(db)) else Path(db).expanduser().resolve()


def read_passcode_file(path: str | os.PathLike[str], what: str = "passcode") -> str:
    """The passcode in a file: its first line, surrounding spaces removed.

    :raises ValidationError: the file cannot be read or its first line is empty.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline(4096)
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read the {what} file {path}: {exc}") from None
    if not first.strip():
        raise ValidationError(f"the {what} file {path} is empty: put the {what} on its first line")
    return first.strip()


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(host: str, passcode: str | None, admin_passcode: str | None = None) -> None:
    """Refuse to expose the app beyond this machine without a raters' and an owner's passcode.

    :raises ValidationError: ``host`` is not a loopback address and a passcode is missing, or
        the two passcodes are the same (anywhere: every rater would be an owner).
    """
    if passcode and admin_passcode and passcode == admin_passcode:
        raise ValidationError(
            f"{ENV_ADMIN_PASSCODE} equals {ENV_PASSCODE}: every rater would be an owner; "
            "choose a different admin passcode"
        )
    if is_loopback(host):
        return
    if not passcode:
        raise ValidationError(
            f"--host {host} lets anyone on the network rate: set the raters' passcode in the "
            f"{ENV_PASSCODE} environment variable (or --passcode-file FILE)"
        )
    if not admin_passcode:
        raise ValidationError(
            f"--host {host} needs an owner's passcode too, or every rater could exclude votes "
            f"and see the raters and hidden standings: set {ENV_ADMIN_PASSCODE} "
            "(or --admin-passcode-file FILE)"
        )


def _check_port(host: str, port: int) -> None:
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValidationError(f"port must be between 1 and 65535, got {port!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ValidationError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                "is another server running there? Pick another with --port"
            ) from None


def app_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is named by this machine's name)."""
    if is_loopback(host):
        shown = "localhost"
    elif host in ("0.0.0.0", "::", "[::]", ""):
        shown = socket.gethostname()
    else:
        shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def streamlit_command(port: int = 8501, host: str = "127.0.0.1") -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no file watching.

    ``runner.fastReruns`` is off so that a click arriving while the previous run is still
    preparing the next pair is queued on the same run, instead of starting a second run of the
    same session on another thread. ``runner.postScriptGC`` is off: a full garbage collection
    after every script run (every click) was most of the server's CPU time under load.
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(ASGI_PATH),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "false",
        "--global.developmentMode", "false",
        "--theme.base", "light",
        "--runner.fastReruns", "false",
        "--runner.postScriptGC", "false",
    ]


def prepare(
    db_path: str | os.PathLike[str],
    port: int = 8501,
    host: str = "127.0.0.1",
    passcode: str | None = None,
    *,
    admin_passcode: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Check everything :func:`serve` needs and return the command and its environment.

    :raises ValidationError: a passcode missing on a non-loopback host, equal passcodes, bad or
        busy port.
    :raises DatabaseError: the database is missing or unusable.
    """
    passcode = passcode or os.environ.get(ENV_PASSCODE) or None
    admin_passcode = admin_passcode or os.environ.get(ENV_ADMIN_PASSCODE) or None
    check_access(host, passcode, admin_passcode)
    location = _location(db_path)
    from rater.api.client import Client

    with Client(location) as client:  # fails early on a missing, corrupt or too-new database
        client.store.require()
    _check_port(host, port)
    config = ServerConfig(location, passcode, admin_passcode, host)
    return streamlit_command(port, host), config.environ()


def shown_location(env: Mapping[str, str]) -> str:
    """The database of a prepared environment as messages may name it (no password)."""
    return display_url(env[ENV_DB]) if is_database_url(env[ENV_DB]) else env[ENV_DB]


def serve(
    db_path: str | os.PathLike[str],
    port: int = 8501,
    host: str = "127.0.0.1",
    passcode: str | None = None,
    *,
    admin_passcode: str | None = None,
) -> int:
    """Run the rating app until interrupted (Ctrl+C) and return Streamlit's exit code.

    :param db_path: an existing database file, or a ``postgresql://`` URL.
    :param port: the TCP port to listen on.
    :param host: the address to listen on; anything but loopback needs both passcodes.
    :param passcode: asked of everyone before anything is shown (default: ``$RATER_PASSCODE``).
    :param admin_passcode: asked by the owner pages (default: ``$RATER_ADMIN_PASSCODE``).
    :raises ValidationError: a passcode missing on a non-loopback host, equal passcodes, bad or
        busy port.
    :raises DatabaseError: the database is missing or unusable.
    """
    command, env = prepare(db_path, port, host, passcode, admin_passcode=admin_passcode)
    print(f"Rating app for {shown_location(env)}: open {app_url(host, port)} (Ctrl+C stops it)", flush=True)
    child = subprocess.Popen(command, env=env)
    restore = _forward_sigterm(child)
    try:
        return child.wait()
    except KeyboardInterrupt:  # Ctrl+C reaches Streamlit too; give it time to stop cleanly
        return _stop(child)
    finally:
        restore()
        if child.poll() is None:
            _stop(child)


def _stop(child: subprocess.Popen[bytes]) -> int:
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return 0


def _forward_sigterm(child: subprocess.Popen[bytes]) -> Callable[[], None]:
    """Stop Streamlit too when this process is told to stop (``kill``, a service manager)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    return lambda: signal.signal(signal.SIGTERM, previous)
