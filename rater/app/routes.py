"""The rating app's own HTTP routes, served beside Streamlit's (see :mod:`rater.app.asgi`): the
answers of the pair component and the media it shows.

- ``POST /_rater/answer`` with ``{"session": TOKEN, "matchup": ID, "choice": "left"|"right"|
  "tie"|"skip"}``: :func:`rater.app.pair_api.answer`; the answer is the new view, as JSON.
- ``GET /_rater/media/TOKEN/NAME``: a medium the session was shown; 404 for anything else.
- Any other request under ``/_rater/``: 404 (405 for the answer route's other methods), not
  Streamlit's page, which its catch-all route would serve with a 200.

:class:`RatingRoutes` sends every request under ``/_rater/`` straight to these routes, past
Streamlit's own middleware (its sessions, compression, proxy headers and path checks, which these
routes do not use: the session token in the request is their only credential); that middleware
was a fifth of the server's time per vote. An answer runs on a worker thread, not on the event
loop, so a vote's fsync never holds up the websocket of another rater.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from .media_files import media_format
from .pair_api import MEDIA_ROUTE, answer, media_path

__all__ = ["ANSWER_ROUTE", "PREFIX", "RatingRoutes", "routes"]

#: Every path of the rating routes starts so.
PREFIX = "/_rater/"
ANSWER_ROUTE = PREFIX + "answer"
MAX_BODY = 4096  # bytes: an answer is a token, an id and a word
#: Bytes: an image up to this size is read and sent in one piece; a larger file, a video or an
#: audio file goes through FileResponse (chunks read on worker threads, ranges for seeking).
SMALL_FILE = 512 * 1024
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
#: Every method a route here answers itself: a method a route does not take would otherwise
#: fall through to Streamlit's catch-all page.
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _json(status: int, body: dict, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={**_PRIVATE, **headers})


async def _body(request: Request) -> bytes | None:
    """The request's body, or None as soon as it is longer than :data:`MAX_BODY` (a large body
    is never read whole: it is not ours)."""
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY:
        return None
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return None
    return raw


async def _answer(request: Request) -> Response:
    if request.method != "POST":
        return _json(405, {"error": "an answer is a POST"}, Allow="POST")
    raw = await _body(request)
    if raw is None:
        return _json(413, {"error": "request too large"})
    try:
        given = json.loads(raw)
    except ValueError:
        given = None
    if not isinstance(given, dict):
        return _json(400, {"error": "the request must be a JSON object"})
    status, view = await run_in_threadpool(
        answer, given.get("session"), given.get("matchup"), given.get("choice"))
    return _json(status, view)


async def _media(request: Request) -> Response:  # a dictionary lookup and a stat: no thread
    path = media_path(request.path_params["token"], request.path_params["name"])
    if path is None:
        return _not_found(request)
    # private: a medium is this session's; a day: the prepared pair's images are loaded ahead
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    kind = media_format(path)
    if kind.startswith("image/") and request.method == "GET":
        try:
            with open(path, "rb") as handle:  # small: read at once, not on a worker thread
                body = handle.read(SMALL_FILE + 1)
        except OSError:
            return _not_found(request)
        if len(body) <= SMALL_FILE:
            return Response(body, media_type=kind, headers=headers)
    return FileResponse(path, media_type=kind, headers=headers)  # ranges, large files, HEAD


def _not_found(request: Request) -> Response:
    return Response("not found", status_code=404, media_type="text/plain", headers=_PRIVATE)


def routes() -> list[Route]:
    """The routes to serve beside Streamlit's."""
    return [
        Route(ANSWER_ROUTE, _answer, methods=_METHODS),
        Route(MEDIA_ROUTE + "/{token}/{name}", _media, methods=["GET", "HEAD"]),
        Route(PREFIX + "{rest:path}", _not_found, methods=_METHODS),
    ]


class RatingRoutes:
    """ASGI middleware: requests under :data:`PREFIX` go to :func:`routes`, everything else to
    the app it wraps (Streamlit's, with its own middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.router = Router(routes())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.router(scope, receive, send)
        else:
            await self.app(scope, receive, send)
