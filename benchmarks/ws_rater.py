"""A simulated rater that speaks the Rate page's protocol, without a browser.

Used by ``benchmarks/rater_load.py`` and the multi-process tests. It does what a browser does
on the rating page (``rater/app/pair.js``): loads ``/`` (keeping the cookies it is given, as
nginx's sticky ``rater_worker`` cookie), opens ``/_stcore/stream``, asks for a run with the
page's query string (``?leaderboard=ID&rater=NAME``), reads the ForwardMsg deltas to the end of
the run and takes the view from the pair component's element (``rater.pair``). It fetches each
media URL once (a browser cache), the prepared pair's images ahead too. A vote is
``POST /_rater/answer`` over keep-alive HTTP, whose reply is the next view; a reply that says
``rerun`` is answered as the component does: a trigger of the component sent over the
websocket, and the page drawn anew. The websocket stays open throughout (the session lives
with it). Loopback only; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ANSWERS = ("left", "right")
COMPONENT = "rater.pair"
ANSWER_URL = "/_rater/answer"
TIMEOUT = 60.0  # seconds for any one step; a stuck server fails the run instead of hanging it
CONNECTIONS = 6  # per host, as a browser opens


@dataclass
class Screen:
    """What one script run drew (the pair component's view, texts, tables), or the view of the
    last answer's reply."""

    view: dict[str, Any] | None = None
    texts: list[str] = field(default_factory=list)  # Markdown, captions, alerts, the progress strip
    tables: list[bytes] = field(default_factory=list)  # st.dataframe contents (Arrow IPC)
    component_id: str = ""  # the pair component's element id (its trigger's widget id ends so)
    fragment_id: str = ""  # the fragment the component (or the answer buttons) is drawn in
    buttons: dict[str, str] = field(default_factory=dict)  # answer -> widget id (the button page)
    imgs: list[str] = field(default_factory=list)  # st.image URLs, in order (the button page)
    drawn_at: float = 0.0  # perf_counter() when the first answer button arrived (the button page)
    shown: int = 0  # how many of ``imgs`` came before it: the pair's; the prepared pair's follow

    @property
    def pair(self) -> dict[str, Any] | None:
        return (self.view or {}).get("pair")

    @property
    def matchup_id(self) -> str | None:
        """The matchup on screen."""
        return self.pair["id"] if self.pair else None

    @property
    def images(self) -> list[str]:
        """The URLs of the media on screen (the given medium, A, B)."""
        sides = [self.pair.get(k) for k in ("given", "left", "right")] if self.pair else []
        return [s["url"] for s in sides if s and "url" in s]


class Http:
    """A browser's HTTP/1.1 to one host: up to :data:`CONNECTIONS` keep-alive connections, the
    cookies it is given sent back on every request."""

    def __init__(self, host: str, port: int, local_ip: str | None = None) -> None:
        self.host, self.port, self.local_ip = host, port, local_ip
        self.cookies: dict[str, str] = {}
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(CONNECTIONS)

    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
        """One request: status, headers (lower-case names), body. A kept connection the server
        closed while idle is replaced, and the request sent again, as a browser does."""
        async with self.slots:
            while self.idle:
                conn = self.idle.pop()
                if conn[0].at_eof():
                    conn[1].close()
                    continue
                try:
                    return await self._send(conn, method, path, body, headers)
                except (ConnectionError, asyncio.IncompleteReadError):
                    conn[1].close()  # closed by the server before it read the request
            conn = await asyncio.wait_for(asyncio.open_connection(
                self.host, self.port, local_addr=(self.local_ip, 0) if self.local_ip else None), TIMEOUT)
            return await self._send(conn, method, path, body, headers)

    async def _send(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], method: str, path: str,
                    body: bytes | None, headers: dict[str, str] | None) -> tuple[int, dict[str, list[str]], bytes]:
        reader, writer = conn
        given = {**self.headers(), **(headers or {})}
        if body is not None:
            given["Content-Length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{k}: {v}" for k, v in given.items()), "", ""]
        writer.write("\r\n".join(lines).encode() + (body or b""))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        found: dict[str, list[str]] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            found.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in found:
            data = await asyncio.wait_for(reader.readexactly(int(found["content-length"][0])), TIMEOUT)
        elif "chunked" in found.get("transfer-encoding", [""])[0]:
            data = await asyncio.wait_for(_chunks(reader), TIMEOUT)
        else:
            data = await asyncio.wait_for(reader.read(), TIMEOUT)
            found.setdefault("connection", []).append("close")
        for value in found.get("set-cookie", []):
            self.cookies.update({k: m.value for k, m in SimpleCookie(value).items()})
        if any("close" in v.lower() for v in found.get("connection", [])):
            writer.close()
        else:
            self.idle.append(conn)
        return int(status_line.split()[1]), found, data

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    """A chunked body (no trailers)."""
    data = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)  # the chunk and its line end
        if size == 0:
            return data
        data += chunk[:-2]


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
        self.http = Http(self.host, self.port, local_ip)
        self.fetched: set[str] = set()
        self.media_bytes = 0
        self.reruns = 0  # replies that said "rerun": the page drawn anew over the websocket
        self.screen = Screen()
        self.pages: dict[str, str] = {}  # page name -> script hash, from the navigation message
        self.ws: websockets.ClientConnection | None = None

    def _headers(self) -> dict[str, str]:
        return self.http.headers()

    async def open(self) -> Screen:
        """Load the page, connect, and wait for the first pair (and load its media)."""
        status, _, _ = await self.http.request("GET", f"/?{self.query}")
        if status != 200:
            raise RuntimeError(f"GET / answered {status}")
        origin = f"http://{self.host}:{self.port}"
        self.ws = await asyncio.wait_for(websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=origin, additional_headers=self._headers(), max_size=None, open_timeout=TIMEOUT,
            local_addr=(self.local_ip, 0) if self.local_ip else None,
        ), TIMEOUT)
        await self._rerun()
        self.screen = await self._read_run()
        await self._load(self.screen.view)
        return self.screen

    async def _rerun(self, page: str = "", trigger: tuple[str, bool | str] | None = None) -> None:
        """Ask for a run: of ``page``, or of the fragment on screen with one trigger set: a
        button's (``True``), or the pair component's ``rerun`` (what ``setTriggerValue("rerun",
        ...)`` sends: a JSON list of events)."""
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = page
        if trigger is not None:
            msg.rerun_script.fragment_id = self.screen.fragment_id
            widget = msg.rerun_script.widget_states.widgets.add()
            widget.id = trigger[0]
            if isinstance(trigger[1], bool):
                widget.trigger_value = trigger[1]
            else:
                widget.json_trigger_value = trigger[1]
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())

    async def _fetch(self, url: str) -> None:
        if url in self.fetched:
            return
        self.fetched.add(url)
        status, _, body = await self.http.request("GET", url)
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}")
        self.media_bytes += len(body)

    async def _load(self, view: dict[str, Any] | None, on_shown=None) -> None:  # type: ignore[no-untyped-def]
        """Load the media of ``view``'s pair, then (``on_shown()``) those of the prepared pair,
        started at once as the component's ``warm`` does."""
        shown = Screen(view).images
        ahead = [asyncio.ensure_future(self._fetch(u)) for u in (view or {}).get("next", [])]
        try:
            await asyncio.gather(*(self._fetch(u) for u in shown))
            if on_shown is not None:
                on_shown()
        finally:
            await asyncio.gather(*ahead)

    async def _read_run(self, *, pair: bool = True) -> Screen:
        """Read one script run to its end; with ``pair``, it must have drawn the component
        with a pair."""
        assert self.ws is not None
        screen = Screen()
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
            if kind == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                screen = Screen()  # stopped for another run, which follows: the browser waits for it
                continue
            if kind == "script_finished":
                if pair and screen.pair is None:
                    raise RuntimeError(f"{self.name}: a run ended without a pair: {screen.texts[-3:]}")
                return screen
            if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
                continue
            element = msg.delta.new_element
            what = element.WhichOneof("type")
            if what == "markdown":
                screen.texts.append(element.markdown.body)
            elif what == "alert":
                screen.texts.append(element.alert.body)
            elif what == "exception":
                screen.texts.append(f"{element.exception.type}: {element.exception.message}")
            elif what == "dataframe":
                screen.tables.append(element.dataframe.arrow_data.data)
            elif what == "imgs":
                screen.imgs += [img.url for img in element.imgs.imgs]
            elif what == "button":
                choice = element.button.id.rpartition("-")[0].rpartition("-")[2]
                if choice in ("left", "right", "tie", "skip"):
                    screen.buttons[choice] = element.button.id
                    screen.fragment_id = msg.delta.fragment_id
                    if not screen.drawn_at:
                        screen.drawn_at, screen.shown = time.perf_counter(), len(screen.imgs)
            elif what == "bidi_component" and element.bidi_component.component_name == COMPONENT:
                screen.view = json.loads(element.bidi_component.json)
                screen.component_id = element.bidi_component.id
                screen.fragment_id = msg.delta.fragment_id
                screen.texts.append(screen.view.get("progress") or "")

    async def vote(self, choice: str | None = None) -> tuple[float, str]:
        """Answer the pair on screen (``left``/``right`` at random by default, or ``tie``,
        ``skip``); return (ms from the request to the next pair shown with its media loaded,
        the matchup id answered)."""
        choice = choice or self.rng.choice(ANSWERS)
        view, voted = self.screen.view, self.screen.matchup_id
        if view is None or voted is None:
            raise RuntimeError(f"{self.name}: no pair on screen")
        body = json.dumps({"session": view["session"], "matchup": voted, "choice": choice}).encode()
        seen: list[float] = []
        start = time.perf_counter()
        status, _, raw = await self.http.request("POST", ANSWER_URL, body, {"Content-Type": "application/json"})
        reply = json.loads(raw)
        if status != 200:
            raise RuntimeError(f"{self.name}: POST {ANSWER_URL} answered {status}: {reply.get('error')}")
        if reply.get("rerun"):  # the page is drawn anew (and says why)
            self.reruns += 1
            event = {"event": "rerun", "value": f"{reply.get('serial') or 0}:{int(1000 * time.time())}"}
            await self._rerun(trigger=(f"$$STREAMLIT_INTERNAL_KEY_{self.screen.component_id}__events",
                                       json.dumps([event])))
            screen = await self._read_run(pair=False)
        elif reply.get("error"):
            raise RuntimeError(f"{self.name}: the vote was refused: {reply['error']}")
        else:
            screen = Screen(reply, [reply.get("progress") or ""], [], self.screen.component_id,
                            self.screen.fragment_id)
        self.screen = screen
        await self._load(screen.view, lambda: seen.append(time.perf_counter()))
        if screen.pair is None:
            raise RuntimeError(f"{self.name}: no pair after the vote: {screen.texts[-3:]}")
        return 1000.0 * (seen[0] - start), voted

    async def received(self, seconds: float) -> list[str]:
        """The kinds of the messages the server sends in the next ``seconds`` (none while
        nothing runs for this session)."""
        assert self.ws is not None
        kinds: list[str] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                break
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kinds.append(msg.WhichOneof("type") or "")
        return kinds

    async def visit(self, page: str) -> Screen:
        """Open another page of the app ("Standings", "Raters") and return what it drew; the
        next :meth:`vote` needs a pair on screen again (visit "Rate")."""
        await self._rerun(page=self.pages[page])
        self.screen = await self._read_run(pair=page == "Rate")
        return self.screen

    async def close(self) -> None:
        self.http.close()
        if self.ws is not None:
            await self.ws.close()


class ButtonRater(WsRater):
    """A rater on the Rate page drawn with Streamlit's buttons (``benchmarks/rater_button_page.py``):
    an answer is a button's trigger over the websocket, and the script's rerun draws the next pair."""

    votes = 0  # counted by the page ("Your votes this session: N")

    async def _read_run(self, *, pair: bool = True) -> Screen:
        screen = await super()._read_run(pair=False)
        if screen.buttons:
            matchup = screen.buttons["left"].rpartition("-")[2]
            left, right = ({"kind": "image", "url": u} for u in screen.imgs[:2])
            screen.view = {"pair": {"id": matchup, "left": left, "right": right},
                           "next": screen.imgs[screen.shown:]}
        elif pair:
            raise RuntimeError(f"{self.name}: a run ended without a pair: {screen.texts[-3:]}")
        return screen

    async def vote(self, choice: str | None = None) -> tuple[float, str]:
        """Press an answer button; (ms from the click to the next pair drawn with its images
        loaded, the matchup id answered)."""
        choice = choice or self.rng.choice(ANSWERS)
        voted = self.screen.matchup_id
        if voted is None:
            raise RuntimeError(f"{self.name}: no pair on screen")
        start = time.perf_counter()
        await self._rerun(trigger=(self.screen.buttons[choice], True))
        self.screen = await self._read_run()
        if self.screen.matchup_id == voted:
            raise RuntimeError(f"{self.name}: the vote did not move on")
        if choice != "skip" and f"Your votes this session: {self.votes + 1} " not in " ".join(self.screen.texts):
            raise RuntimeError(f"{self.name}: the vote was not counted: {self.screen.texts[-1:]}")
        self.votes += choice != "skip"
        loaded: list[float] = []
        missing = [u for u in self.screen.images if u not in self.fetched]
        await self._load(self.screen.view, lambda: loaded.append(time.perf_counter()))
        return 1000.0 * ((loaded[0] if missing else self.screen.drawn_at) - start), voted


async def http_get(host: str, port: int, path: str, headers: dict[str, str],
                   local_ip: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """One GET on a connection of its own: status, headers (lower-case names), body."""
    http = Http(host, port, local_ip)
    try:
        return await http.request("GET", path, headers=headers)
    finally:
        http.close()
