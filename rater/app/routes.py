"""The rating app's own HTTP routes, served beside Streamlit's (``st.App(routes=...)``, see
:mod:`rater.app.asgi`): the answers of the pair component and the media it shows.

- ``POST /_rater/answer`` with ``{"session": TOKEN, "matchup": ID, "choice": "left"|"right"|
  "tie"|"skip"}``: :func:`rater.app.pair_api.answer`; the answer is the new view, as JSON.
- ``GET /_rater/media/TOKEN/NAME``: a medium the session was shown; 404 for anything else.

Both run on Starlette's worker threads (plain ``def`` endpoints), not on the event loop, so a
vote's fsync never holds up the websocket of another rater.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .media_files import media_format
from .pair_api import MEDIA_ROUTE, answer, media_path

__all__ = ["ANSWER_ROUTE", "routes"]

ANSWER_ROUTE = "/_rater/answer"
MAX_BODY = 4096  # bytes: an answer is a token, an id and a word
_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _json(status: int, body: dict) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_PRIVATE)


async def _answer(request: Request) -> Response:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _json(413, {"error": "request too large"})
    try:
        given = json.loads(raw)
    except ValueError:
        given = None
    if not isinstance(given, dict):
        return _json(400, {"error": "the request must be a JSON object"})
    from starlette.concurrency import run_in_threadpool

    status, view = await run_in_threadpool(
        answer, given.get("session"), given.get("matchup"), given.get("choice"))
    return _json(status, view)


def _media(request: Request) -> Response:
    path = media_path(request.path_params["token"], request.path_params["name"])
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain", headers=_PRIVATE)
    # private: a medium is this session's; a day: the prepared pair's images are loaded ahead
    return FileResponse(path, media_type=media_format(path), headers={
        "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})


def routes() -> list[Route]:
    """The routes to serve beside Streamlit's."""
    return [
        Route(ANSWER_ROUTE, _answer, methods=["POST"]),
        Route(MEDIA_ROUTE + "/{token}/{name}", _media, methods=["GET", "HEAD"]),
    ]
