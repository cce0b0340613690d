"""Starting the app: access rules, the Streamlit command line, ``rater serve`` and a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from rater import DatabaseError, ValidationError
from rater.cli import cli
from rater.app.serve import (
    APP_PATH,
    ASGI_PATH,
    ServerConfig,
    app_url,
    check_access,
    is_loopback,
    prepare,
    streamlit_command,
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host) -> None:
    assert is_loopback(host)
    check_access(host, None)
    check_access(host, "s3cret")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "rater.example.org"])
def test_other_hosts_need_both_passcodes(host) -> None:
    assert not is_loopback(host)
    with pytest.raises(ValidationError, match="RATER_PASSCODE environment variable"):
        check_access(host, None, "adm1n")
    with pytest.raises(ValidationError):
        check_access(host, "", "adm1n")
    with pytest.raises(ValidationError, match="needs an owner's passcode too.*RATER_ADMIN_PASSCODE"):
        check_access(host, "s3cret")
    check_access(host, "s3cret", "adm1n")


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_the_admin_passcode_differs_from_the_raters(host) -> None:
    with pytest.raises(ValidationError, match="every rater would be an owner"):
        check_access(host, "same", "same")


ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_command_is_headless_without_telemetry() -> None:
    cmd = streamlit_command(9000, "0.0.0.0")
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(cmd[4]) == ASGI_PATH == ROOT / "rater" / "app" / "asgi.py" and ASGI_PATH.is_file()
    from rater.app.asgi import app  # Streamlit's pages and the rating routes, on one port
    from rater.app.routes import PREFIX, RatingRoutes

    assert app._script_path == APP_PATH == ROOT / "rater" / "app" / "streamlit_app.py"
    [rating] = [m for m in app._user_middleware if m.cls is RatingRoutes]  # before Streamlit's own
    paths = [r.path for r in RatingRoutes(app=None).router.routes]
    assert {"/_rater/answer", "/_rater/media/{token}/{name}"} <= set(paths)
    assert all(path.startswith(PREFIX) for path in paths)  # none over Streamlit's own
    options = dict(zip(cmd[5::2], cmd[6::2]))
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.address"] == "0.0.0.0" and options["--server.port"] == "9000"
    assert not any("passcode" in part.lower() for part in cmd)  # never on the command line


def test_config_travels_in_the_environment(tmp_path) -> None:
    env = ServerConfig(tmp_path / "x.db", "pc", None, "0.0.0.0").environ(
        {"RATER_ADMIN_PASSCODE": "old", "A": "1"})
    assert env == {"A": "1", "RATER_DB": str(tmp_path / "x.db"), "RATER_PASSCODE": "pc",
                   "RATER_HOST": "0.0.0.0"}
    back = ServerConfig.from_env(env)
    assert (back.db_path, back.passcode, back.admin_passcode, back.host) == (
        tmp_path / "x.db", "pc", None, "0.0.0.0")
    # Off the loopback (or unknown) only the admin passcode opens the owner pages.
    assert back.owner_passcode is None and not back.owner_open
    assert ServerConfig(Path("x"), "pc", "adm", "0.0.0.0").owner_passcode == "adm"
    assert ServerConfig(Path("x"), None, None, None).owner_open is False
    # On the loopback: open without passcodes, else the raters' passcode again, as before.
    assert ServerConfig(Path("x"), None, None, "127.0.0.1").owner_open
    assert ServerConfig(Path("x"), "pc", None, "localhost").owner_passcode == "pc"


def test_app_url() -> None:
    assert app_url("127.0.0.1", 8501) == "http://localhost:8501/"
    assert app_url("192.168.1.20", 80) == "http://192.168.1.20:80/"
    assert app_url("0.0.0.0", 8501) == f"http://{socket.gethostname()}:8501/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_prepare_checks_database_and_port(client, monkeypatch) -> None:
    monkeypatch.delenv("RATER_PASSCODE", raising=False)
    monkeypatch.delenv("RATER_ADMIN_PASSCODE", raising=False)
    with pytest.raises(DatabaseError, match="no database at"):
        prepare(client.db_path.parent / "missing.db", free_port())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ValidationError, match="cannot listen on 127.0.0.1"):
            prepare(client.db_path, busy.getsockname()[1])
    monkeypatch.setenv("RATER_PASSCODE", "from-env")
    with pytest.raises(ValidationError, match="owner's passcode"):
        prepare(client.db_path, free_port(), "0.0.0.0")
    monkeypatch.setenv("RATER_ADMIN_PASSCODE", "admin-env")
    _, env = prepare(client.db_path, free_port(), "0.0.0.0")  # the env vars count as passcodes
    assert env["RATER_PASSCODE"] == "from-env" and env["RATER_DB"] == str(client.db_path.resolve())
    assert env["RATER_ADMIN_PASSCODE"] == "admin-env" and env["RATER_HOST"] == "0.0.0.0"


def no_passcodes(monkeypatch) -> None:
    monkeypatch.delenv("RATER_PASSCODE", raising=False)
    monkeypatch.delenv("RATER_ADMIN_PASSCODE", raising=False)


def test_cli_refuses_a_network_host_without_passcodes(client, monkeypatch) -> None:
    no_passcodes(monkeypatch)
    for env, says in (({}, "lets anyone on the network rate"),
                      ({"RATER_PASSCODE": "s3cret"}, "needs an owner's passcode too")):
        result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", "--host", "0.0.0.0"],
                                    env=env)
        assert result.exit_code == 1
        assert result.output.strip().count("\n") == 0  # one line
        assert result.output.startswith(f"Error: --host 0.0.0.0 {says}")


@pytest.mark.parametrize("option", ["--passcode", "--admin-passcode"])
def test_cli_refuses_a_passcode_on_the_command_line(client, monkeypatch, option) -> None:
    no_passcodes(monkeypatch)
    calls = []
    monkeypatch.setattr("rater.cli.serve.run_server", lambda db, **kw: calls.append((db, kw)) or 0)
    result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", option, "hunter2"])
    assert result.exit_code == 1 and not calls
    assert result.output.strip().count("\n") == 0
    assert "readable by every user" in result.output and "RATER_PASSCODE" in result.output
    assert "hunter2" not in result.output


def test_cli_passes_db_and_options(client, monkeypatch, tmp_path) -> None:
    no_passcodes(monkeypatch)
    calls = []
    monkeypatch.setattr("rater.cli.serve.run_server", lambda db, **kw: calls.append((db, kw)) or 0)
    monkeypatch.setenv("RATER_PASSCODE", "env-code")
    result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", "--port", "9123",
                                      "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert calls.pop() == (client.db_path, {"port": 9123, "host": "0.0.0.0", "passcode": None,
                                            "admin_passcode": None})  # serve reads the env
    (tmp_path / "rate.txt").write_text("  rate-code \nignored\n", encoding="utf-8")
    (tmp_path / "admin.txt").write_text("admin-code\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", "--passcode-file",
                                      str(tmp_path / "rate.txt"), "--admin-passcode-file",
                                      str(tmp_path / "admin.txt")])
    assert result.exit_code == 0, result.output
    assert calls.pop()[1] | {"port": 0} == {"port": 0, "host": "127.0.0.1", "passcode": "rate-code",
                                            "admin_passcode": "admin-code"}
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    for name in ("empty.txt", "missing.txt"):
        result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", "--passcode-file",
                                          str(tmp_path / name)])
        assert result.exit_code == 1 and str(tmp_path / name) in result.output and not calls


def test_serve_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert "rater --db data/leaderboards.db serve" in result.output


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no health response from {url} in {timeout} s")


def start_server(db_path: Path, port: int, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``rater --db DB serve --port PORT`` as a real subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "rater", "--db", str(db_path), "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )


def stop_server(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


@pytest.mark.slow
def test_rater_serve_starts_and_stops_streamlit(client) -> None:
    port = free_port()
    proc = start_server(client.db_path, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
    finally:
        out = stop_server(proc)
    assert f"open http://localhost:{port}/" in out
    with socket.socket() as sock:  # Streamlit went away with it: the port is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # (TIME_WAIT is fine)
        sock.bind(("127.0.0.1", port))


def test_cli_sets_whether_raters_see_the_standings(client) -> None:
    run = lambda *args: CliRunner().invoke(cli, ["--db", str(client.db_path), *args])  # noqa: E731
    created = run("create", "--name", "N", "--instruction", "Which?", "--prompt", "p")
    assert created.exit_code == 0, created.output
    board_id = created.output.strip()
    assert client.mri.get_leaderboard_by_id(board_id).show_standings is False  # hidden by default
    result = run("update", board_id, "--show-standings")
    assert result.exit_code == 0 and result.output == f"{board_id}: raters see the standings\n"
    assert client.mri.get_leaderboard_by_id(board_id).show_standings is True
    assert "standings shown to raters: yes" in run("show", board_id).output
    result = run("update", board_id, "--hide-standings")
    assert result.exit_code == 0 and not client.mri.get_leaderboard_by_id(board_id).show_standings
    assert run("update", board_id).exit_code == 2  # nothing to change
    missing = run("update", "nosuchid", "--show-standings")
    assert missing.exit_code == 1 and "no leaderboard with id 'nosuchid'" in missing.output
    shown = run("create", "--name", "N", "--instruction", "Which?", "--prompt", "p", "--show-standings")
    assert client.mri.get_leaderboard_by_id(shown.output.strip()).show_standings is True
    assert "Example:" in run("update", "--help").output
