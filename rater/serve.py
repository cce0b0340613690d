"""Starting the rating app: ``streamlit run rater/app.py`` as a child process.

The database path and the passcodes reach the app through environment variables (never the
command line, where other users of the machine could read them with ``ps``):

- ``RATER_DB``: the database file.
- ``RATER_PASSCODE``: when set, nobody sees media or votes before entering it.
- ``RATER_ADMIN_PASSCODE``: when set, excluding or including raters asks for it; otherwise those
  controls ask for ``RATER_PASSCODE`` (when there is one). With no passcode at all the server only
  listens on a loopback address, so whoever can reach it is the person running it: the owner.

A server on a non-loopback address (``--host 0.0.0.0``) refuses to start without a passcode.
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

from .errors import DatabaseError, ValidationError

__all__ = [
    "APP_PATH",
    "ServerConfig",
    "app_url",
    "check_access",
    "is_loopback",
    "serve",
    "streamlit_command",
]

#: The Streamlit script.
APP_PATH = Path(__file__).with_name("app.py")

ENV_DB = "RATER_DB"
ENV_PASSCODE = "RATER_PASSCODE"
ENV_ADMIN_PASSCODE = "RATER_ADMIN_PASSCODE"


@dataclass(frozen=True)
class ServerConfig:
    """What the app needs to know about how it was started (read from the environment)."""

    db_path: Path
    passcode: str | None = None
    admin_passcode: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        env = os.environ if environ is None else environ
        from .client import DEFAULT_DB_PATH

        return cls(
            db_path=Path(env.get(ENV_DB) or DEFAULT_DB_PATH),
            passcode=env.get(ENV_PASSCODE) or None,
            admin_passcode=env.get(ENV_ADMIN_PASSCODE) or None,
        )

    @property
    def owner_passcode(self) -> str | None:
        """The passcode guarding the exclude/include controls (None: they are open)."""
        return self.admin_passcode or self.passcode

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with this configuration applied."""
        env = dict(os.environ if base is None else base)
        env[ENV_DB] = str(self.db_path)
        for key, value in ((ENV_PASSCODE, self.passcode), (ENV_ADMIN_PASSCODE, self.admin_passcode)):
            if value:
                env[key] = value
            else:
                env.pop(key, None)
        return env


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(host: str, passcode: str | None) -> None:
    """Refuse to expose the app beyond this machine without a passcode.

    :raises ValidationError: ``host`` is not a loopback address and no passcode is set.
    """
    if not is_loopback(host) and not passcode:
        raise ValidationError(
            f"--host {host} lets anyone on the network rate: set a passcode with --passcode "
            f"or the {ENV_PASSCODE} environment variable"
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
    same session on another thread.
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
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

    :raises ValidationError: no passcode on a non-loopback host, bad or busy port.
    :raises DatabaseError: the database is missing or unusable.
    """
    passcode = passcode or os.environ.get(ENV_PASSCODE) or None
    admin_passcode = admin_passcode or os.environ.get(ENV_ADMIN_PASSCODE) or None
    check_access(host, passcode)
    path = Path(db_path).expanduser().resolve()
    if not path.is_file():
        raise DatabaseError(
            f"no database at {path}: create a leaderboard first (see `rater --help`) "
            "or point --db at an existing file"
        )
    from .client import Client

    with Client(path):  # fails early on a corrupt or too-new file
        pass
    _check_port(host, port)
    config = ServerConfig(path, passcode, admin_passcode)
    return streamlit_command(port, host), config.environ()


def serve(
    db_path: str | os.PathLike[str],
    port: int = 8501,
    host: str = "127.0.0.1",
    passcode: str | None = None,
    *,
    admin_passcode: str | None = None,
) -> int:
    """Run the rating app until interrupted (Ctrl+C) and return Streamlit's exit code.

    :param db_path: an existing database file.
    :param port: the TCP port to listen on.
    :param host: the address to listen on; anything but loopback needs a passcode.
    :param passcode: asked of everyone before anything is shown (default: ``$RATER_PASSCODE``).
    :param admin_passcode: asked before excluding or including raters (default:
        ``$RATER_ADMIN_PASSCODE``, else ``passcode``).
    :raises ValidationError: no passcode on a non-loopback host, bad or busy port.
    :raises DatabaseError: the database is missing or unusable.
    """
    command, env = prepare(db_path, port, host, passcode, admin_passcode=admin_passcode)
    print(f"Rating app for {env[ENV_DB]}: open {app_url(host, port)} (Ctrl+C stops it)", flush=True)
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
