"""Streamlit glue shared by the pages: the database handle, the passcode gates, the board pickers."""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

from rater.api.client import Client
from rater.api.leaderboard import Leaderboard
from rater.app import links
from rater.app.picking import benchmark_from_query, board_choices, choice_label, criterion_label
from rater.app.session import (
    board_from_query,
    board_label,
    escape_markdown,
    passcode_ok,
    pick_board,
)
from rater.app.serve import ENV_DB, ServerConfig

__all__ = [
    "board_picker", "chosen_board", "client", "config", "gate", "is_owner",
    "owner_gate", "rating_scope", "release_connection", "remember_board", "scope_picker",
]

BOARD_KEY = "board_id"
BENCHMARK_PICKER = "benchmark-picker"
WRONG_PASSCODE_DELAY = 1.0  # seconds: slows down guessing


def config() -> ServerConfig:
    """How the server was started (database path, passcodes), from the environment."""
    return ServerConfig.from_env()


_clients: dict[str, Client] = {}
_clients_lock = threading.Lock()


def client() -> Client:
    """The shared database handle (one per database path, for every session and thread of
    the process). A plain dict, not ``st.cache_resource``: this is asked on every rerun, and
    Streamlit's cache costs more than the rerun's own database work."""
    path = os.environ.get(ENV_DB) or str(config().db_path)
    found = _clients.get(path)
    if found is None:
        with _clients_lock:
            found = _clients.get(path)
            if found is None:
                found = _clients[path] = Client(path)
    return found


def release_connection() -> None:
    """Close this thread's database connection; called at the end of every script run.

    Streamlit runs each rerun (each click) on a new thread, and :class:`rater.store.Store`
    keeps one connection per thread until the store is closed: without this, every click
    would leave a connection and its file handles open for the life of the server.
    """
    client().store.release_thread()


def _passcode_form(key: str, title: str, expected: str, label: str) -> bool:
    """A passcode form; True once this browser session entered ``expected``."""
    if st.session_state.get(key):
        return True
    with st.form(f"{key}-form", border=True):
        if title:
            st.subheader(title)
        given = st.text_input(label, type="password", key=f"{key}-input")
        submitted = st.form_submit_button("Enter", type="primary")
    if submitted:
        if passcode_ok(given, expected):
            st.session_state[key] = True
            st.rerun()
        time.sleep(WRONG_PASSCODE_DELAY)
        st.error("Wrong passcode.")
    return False


def gate(cfg: ServerConfig) -> bool:
    """Nothing but this form is drawn until the passcode (if any) is entered; a personal or
    study link replaces the passcode (:func:`rater.app.links.gate`)."""
    linked = links.gate(client())
    if linked is not None:
        return linked
    if not cfg.passcode:
        return True
    if st.session_state.get("unlocked"):
        return True
    st.title("Rater")
    return _passcode_form("unlocked", "", cfg.passcode, "Passcode")


OWNER_KEY = "owner"


def is_owner(cfg: ServerConfig) -> bool:
    """Whether this session may use the owner pages (without asking anything now)."""
    return cfg.owner_open or bool(st.session_state.get(OWNER_KEY))


def owner_gate(cfg: ServerConfig) -> bool:
    """Whether this session is the owner's; if not, asks for the owner's passcode.

    Off the loopback without an admin passcode there is no way in (``rater serve`` refuses to
    start so; this covers ``streamlit run`` by hand).
    """
    if is_owner(cfg):
        return True
    expected = cfg.owner_passcode
    if not expected:
        st.warning("Only the owner may open this, and this server has no admin passcode: "
                   "restart it with RATER_ADMIN_PASSCODE set (see `rater serve --help`).")
        return False
    return _passcode_form(
        OWNER_KEY, "Owner", expected,
        "Admin passcode" if cfg.admin_passcode else "Passcode (again, to confirm you run this server)",
    )


def chosen_board(db: Client) -> tuple[Leaderboard | None, str | None]:
    """The board this session works on: ``?leaderboard=ID`` first, then the last one picked."""
    board, problem = board_from_query(db, st.query_params.get("leaderboard"))
    if board is not None:
        st.session_state[BOARD_KEY] = board.id
        return board, None
    board_id = st.session_state.get(BOARD_KEY)
    if board_id:
        board, _ = board_from_query(db, board_id)
    return board, problem


def remember_board(board: Leaderboard) -> None:
    """Make ``board`` the session's board and put it in the URL (shareable, survives refresh)."""
    st.session_state[BOARD_KEY] = board.id
    st.query_params["leaderboard"] = board.id


def board_picker(db: Client, label: str = "Leaderboard") -> Leaderboard | None:
    """A picker over every board, preset to the session's board; None when there are none."""
    boards = db.mri.list_leaderboards()
    if not boards:
        st.info("There are no leaderboards in this database yet: create one with `rater create` "
                "(or load the demo with `rater demo`).")
        return None
    current, problem = chosen_board(db)
    if problem:
        st.warning(escape_markdown(problem))  # it quotes the link's ?leaderboard= value
    by_id = {b.id: b for b in boards}
    names = {b.id: board_label(b) if len(c.boards) == 1 else f"{c.benchmark_name} / {board_label(b)}"
             for c in board_choices(db, boards) for b in c.boards}
    index = pick_board(boards, current.id if current else None)
    picked_id = st.selectbox(
        label, list(by_id), index=index if index is not None else 0,
        # Options are plain text (only labels are Markdown): the name is shown unescaped.
        format_func=names.__getitem__, key="board-picker",
    )
    picked = by_id.get(picked_id) if picked_id is not None else None
    if picked is not None and (current is None or picked.id != current.id):
        remember_board(picked)
    return picked


def rating_scope(db: Client, board: Leaderboard | None) -> tuple[list[Leaderboard], str]:
    """What the start form offers to rate, drawn before the form: the boards its picker lists
    and the picker's label ("" when there is one board to show, not pick).

    A board known already (``?leaderboard=ID``, or picked before) is the only one. A link
    ``?benchmark=ID`` offers that benchmark's criteria. Otherwise a benchmark with several
    criteria is picked first (this picker is outside the form, so that the criteria follow the
    choice at once); a database whose benchmarks each have one board gets the board picker it
    always had.
    """
    if board is not None:
        return [board], ""
    linked, problem = benchmark_from_query(db, st.query_params.get("benchmark"))
    if problem:
        st.warning(escape_markdown(problem))  # it quotes the link's ?benchmark= value
    choices = [linked] if linked is not None else board_choices(db)
    if linked is None and all(len(c.boards) == 1 for c in choices):
        return [c.boards[0] for c in choices], "Leaderboard"
    by_key = {c.key: c for c in choices}
    if linked is None:
        key = st.selectbox("Benchmark", list(by_key), format_func=lambda k: choice_label(by_key[k]),
                           key=BENCHMARK_PICKER)
        picked = by_key[key]
    else:
        picked = linked
        st.markdown(f"Benchmark: **{escape_markdown(picked.benchmark_name)}**")
    return list(picked.boards), ("Criterion" if len(picked.boards) > 1 else "")


def scope_picker(boards: list[Leaderboard], label: str) -> Leaderboard:
    """Inside the start form: the board to rate, picked among ``boards`` under ``label`` (a
    criterion is shown with its instruction), or shown when there is nothing to pick."""
    if not label:
        st.markdown(f"Leaderboard: **{escape_markdown(boards[0].name)}**")
        return boards[0]
    by_id = {b.id: b for b in boards}
    shown = board_label if label == "Leaderboard" else criterion_label
    return by_id[st.selectbox(label, list(by_id), format_func=lambda i: shown(by_id[i]))]
