"""A simulated rater that speaks Streamlit's websocket protocol, without a browser.

Used by ``benchmarks/rater_load.py`` and the multi-process tests. It does what the browser does
on the rating page: loads ``/`` (keeping the cookies it is given, as nginx's sticky-session
cookie), opens ``/_stcore/stream``, asks for a run with the page's query string
(``?leaderboard=ID&rater=NAME``), reads the ForwardMsg deltas, fetches each image URL once (a
browser cache), and presses an answer button by sending its widget id as a trigger.
Loopback only.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ANSWERS = ("A is better", "B is better")
TIMEOUT = 60.0  # seconds for any one step; a stuck server fails the run instead of hanging it


@dataclass
class Screen:
    """What one script run drew: answer buttons (label -> widget id) and the pair's images."""

    buttons: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    tables: list[bytes] = field(default_factory=list)  # st.dataframe contents (Arrow IPC)
    fragment_id: str = ""  # a button drawn in a fragment reruns only that fragment

    @property
    def matchup_id(self) -> str | None:
        """The matchup on screen (the answer buttons' keys end with it)."""
        wid = self.buttons.get(ANSWERS[0])
        return wid.rsplit("left-", 1)[-1] if wid else None


async def http_get(host: str, port: int, path: str, headers: dict[str, str],
                   local_ip: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """One HTTP/1.1 GET (``Connection: close``): status, headers (lower-case names), body."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(
        host, port, local_addr=(local_ip, 0) if local_ip else None), TIMEOUT)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    writer.write("\r\n".join(lines).encode())
    raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found: dict[str, list[str]] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split()[1]), found, body


class WsRater:
    """One simulated rater on one board.

    :param base_url: ``http://127.0.0.1:PORT/`` (the app, or nginx in front of it).
    :param local_ip: the loopback source address to connect from (e.g. ``127.0.0.7``).
    """

    def __init__(self, base_url: str, board_id: str, name: str, *, local_ip: str | None = None,
                 seed: int = 0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.query = f"leaderboard={board_id}&rater={name}"
        self.name = name
        self.local_ip = local_ip
        self.rng = random.Random(seed)
        self.cookies: dict[str, str] = {}
        self.fetched: set[str] = set()
        self.media_bytes = 0
        self.screen = Screen()
        self.pages: dict[str, str] = {}  # page name -> script hash, from the navigation message
        self.ws: websockets.ClientConnection | None = None

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def open(self) -> Screen:
        """Load the page, connect, and wait for the first pair."""
        status, headers, _ = await http_get(self.host, self.port, f"/?{self.query}", {}, self.local_ip)
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        for value in headers.get("set-cookie", []):
            self.cookies.update({k: m.value for k, m in SimpleCookie(value).items()})
        origin = f"http://{self.host}:{self.port}"
        self.ws = await asyncio.wait_for(websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=origin, additional_headers=self._headers(), max_size=None, open_timeout=TIMEOUT,
            local_addr=(self.local_ip, 0) if self.local_ip else None,
        ), TIMEOUT)
        await self._rerun(None)
        self.screen = await self._read_run(None)
        return self.screen

    async def _rerun(self, widget_id: str | None, fragment_id: str = "", page: str = "") -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = page
        msg.rerun_script.fragment_id = fragment_id
        if widget_id is not None:
            widget = msg.rerun_script.widget_states.widgets.add()
            widget.id = widget_id
            widget.trigger_value = True
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())

    async def _fetch(self, url: str) -> None:
        if url in self.fetched:
            return
        self.fetched.add(url)
        status, _, body = await http_get(self.host, self.port, url, self._headers(), self.local_ip)
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}")
        self.media_bytes += len(body)

    async def _read_run(self, previous: str | None, on_pair=None, *,  # type: ignore[no-untyped-def]
                        pair: bool = True) -> Screen:
        """Read one script run to its end. The pair counts as shown when a new "A" button has
        arrived (the pair's images come before it) and its images are fetched: ``on_pair()`` is
        called then. The hidden prepared pair's images are fetched too, as a browser would."""
        assert self.ws is not None
        screen, shown = Screen(), False
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
            if kind == "script_finished":
                if pair and not shown:
                    raise RuntimeError(f"{self.name}: a run ended without a new pair")
                return screen
            if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
                continue
            element = msg.delta.new_element
            what = element.WhichOneof("type")
            if what == "markdown":
                screen.texts.append(element.markdown.body)
            elif what == "dataframe":
                screen.tables.append(element.dataframe.arrow_data.data)
            if what == "imgs":  # the pair's come before its buttons, the prepared pair's after
                urls = [img.url for img in element.imgs.imgs]
                if ANSWERS[0] not in screen.buttons:
                    screen.images += urls
                else:
                    await asyncio.gather(*(self._fetch(u) for u in urls))
            elif what == "button" and element.button.label in (*ANSWERS, "Can't decide", "Skip"):
                screen.buttons[element.button.label] = element.button.id
                screen.fragment_id = msg.delta.fragment_id
                if element.button.label == ANSWERS[0] and screen.matchup_id != previous:
                    await asyncio.gather(*(self._fetch(u) for u in screen.images))
                    shown = True
                    if on_pair is not None:
                        on_pair()

    async def vote(self, choice: str | None = None) -> tuple[float, str]:
        """Press an answer (random A/B by default); return (ms to the next pair shown, the
        matchup id voted on)."""
        label = choice or self.rng.choice(ANSWERS)
        voted = self.screen.matchup_id
        if voted is None:
            raise RuntimeError(f"{self.name}: no pair on screen")
        seen: list[float] = []
        start = time.perf_counter()
        await self._rerun(self.screen.buttons[label], self.screen.fragment_id)
        self.screen = await self._read_run(voted, lambda: seen.append(time.perf_counter()))
        return 1000.0 * (seen[0] - start), voted

    async def visit(self, page: str) -> Screen:
        """Open another page of the app ("Standings", "Raters") and return what it drew; the
        next :meth:`vote` needs a pair on screen again (visit "Rate")."""
        await self._rerun(None, page=self.pages[page])
        self.screen = await self._read_run(None, pair=page == "Rate")
        return self.screen

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
