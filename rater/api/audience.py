"""Audiences: pools of raters who reach a leaderboard through a personal link (``client.audience``).

The names mirror the hosted SDK's (``docs/audiences.md``)::

    audience = client.audience.create_audience(name="Prompt alignment experts")
    board = bench.create_leaderboard(name="Alignment", instruction="...", audience_id=audience)
    links = audience.invite(board.id, count=20, quota=50, base_url="https://rate.example.org/")

A board attached to audiences is rated only by their members: each comes in by a personal
invite link (a random token; only its SHA-256 is stored, so a link is shown once, when made) or
by a crowd platform's study link (the audience's study secret, hashed too, and the platform's
worker id in the URL: Prolific's ``PROLIFIC_PID`` by default, MTurk's ``workerId`` on request).
A board attached to none stays open to everyone with the passcode. A member who reaches their
quota (or finds the board settled) gets a random completion code, stored for the payment report.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from rater.errors import NotFoundError, ValidationError
from rater.intake.model_card import check_link
from rater.intake.validation import check_count
from rater.store import audiences as sql, catalog


if TYPE_CHECKING:
    from rater.results.audience_report import ReportRow

    from .owner import BoardOwner

__all__ = ["DEFAULT_BASE_URL", "PLATFORMS", "Admission", "Audience", "Invite", "audience_id_of", "check_param",
           "digest"]

#: Where ``rater serve`` listens by default: the start of the links made without ``base_url``.
DEFAULT_BASE_URL = "http://127.0.0.1:8501/"
#: Each platform's worker id parameter and the others kept with the member (for the report).
PLATFORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "prolific": ("PROLIFIC_PID", ("STUDY_ID", "SESSION_ID")),
    "mturk": ("workerId", ("assignmentId", "hitId")),
}
_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
MAX_INVITES = 10_000


def digest(secret: str) -> str:
    """The SHA-256 hex digest stored in place of a token or study secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def audience_id_of(value: object) -> str:
    """The id of an :class:`Audience` or an id given as text."""
    found = getattr(value, "id", value)
    if not isinstance(found, str) or not found:
        raise ValidationError(f"audience must be an Audience or its id, got {value!r}")
    return found


@dataclass(frozen=True)
class Invite:
    """A personal link, shown once: the rater's pseudonym and the URL with its token."""

    rater: str
    url: str


@dataclass(frozen=True)
class Admission:
    """Who a valid link lets in, and on which board, until which quota."""

    audience_id: str
    audience_name: str
    member_id: int
    rater: str
    leaderboard_id: str
    quota: int | None
    completion_url: str
    completion_code: str | None


def _link(base_url: str, params: dict[str, str]) -> str:
    base = check_link(base_url, "base_url")
    if not base:
        raise ValidationError("base_url must be an http:// or https:// address, got ''")
    return base + ("&" if "?" in base else "?") + urlencode(params)


@dataclass(frozen=True)
class Audience:
    """A pool of raters. ``worker_param`` and ``extra_params`` name the study link's URL
    parameters (the worker id, and the others kept for the report)."""

    id: str
    name: str
    created_at: float
    platform: str
    worker_param: str
    extra_params: tuple[str, ...]
    _client: BoardOwner = field(repr=False, compare=False)

    @classmethod
    def from_row(cls, client: BoardOwner, row: dict[str, Any]) -> Audience:
        return cls(row["id"], row["name"], row["created_at"], row["platform"], row["worker_param"],
                   tuple(row["extra_params"]), client)

    @property
    def leaderboard_ids(self) -> list[str]:
        """The boards restricted to this audience."""
        return sql.audience_boards(self._client.store.conn, self.id)

    def _board(self, board: object) -> str:
        board_id = str(getattr(board, "id", board))
        if catalog.get_leaderboard(self._client.store.conn, board_id) is None:
            raise NotFoundError(f"no leaderboard with id {board_id!r} (`rater list` shows the ids)")
        return board_id

    def _attached(self, board: object) -> str:
        board_id = self._board(board)
        if board_id not in self.leaderboard_ids:
            raise ValidationError(f"leaderboard {board_id} is not restricted to audience {self.name!r}: "
                                  f"attach it first (`rater audience attach {self.id} {board_id}`)")
        return board_id

    def attach(self, board: object) -> bool:
        """Restrict the board to this audience (and any other it has); False if it already was.
        From now on only members rate it: the passcode alone no longer lets anyone in."""
        board_id = self._board(board)
        with self._client.store.write() as conn:
            return sql.attach(conn, board_id, self.id)

    def detach(self, board: object) -> bool:
        """Undo :meth:`attach`; a board left without audiences is open to everyone again."""
        board_id = self._board(board)
        with self._client.store.write() as conn:
            return sql.detach(conn, board_id, self.id)

    def add_compare_example(self, instruction: str, datapoint: Sequence[Any], truth: Any,
                            context: str | None = None) -> list[Any]:
        """A qualification pair, as the hosted SDK's audiences take it: ``datapoint`` is the two
        media (files, or sha256 of stored media), ``truth`` the right one, ``context`` the prompt
        text (or identifier) they belong to. It becomes a gold pair on every leaderboard this
        audience is attached to (see :meth:`rater.Leaderboard.add_gold_pair`), shown with that
        board's instruction; ``instruction`` must name the same question and is only checked to
        be given. All or nothing across the boards; returns the gold pairs made.

        :raises ValidationError: no board is attached yet, ``datapoint`` is not two items,
            ``truth`` is not one of them, or a board refuses the pair.
        """
        from rater.intake.validation import check_text

        check_text(instruction, "instruction", max_length=2000)
        if isinstance(datapoint, (str, bytes)) or not isinstance(datapoint, Sequence) or len(datapoint) != 2:
            raise ValidationError("datapoint must be the two media of the pair")
        if truth not in datapoint:
            raise ValidationError("truth must be one of the two datapoint media")
        worse = datapoint[1] if truth == datapoint[0] else datapoint[0]
        boards = [self._client.mri.get_leaderboard_by_id(b) for b in self.leaderboard_ids]
        if not boards:
            raise ValidationError(f"audience {self.name!r} is attached to no leaderboard yet: attach one first, "
                                  "then add its qualification pairs")
        made: list[Any] = []
        try:
            for board in boards:
                ident = None
                if context is not None:
                    by_text = {t: i for t, i in zip(board.prompts, board.identifiers)}
                    ident = by_text.get(context, context)
                made.append((board, board.add_gold_pair(truth, worse, ident)))
        except Exception:
            for board, pair in made:  # undo the boards already given the pair
                board.remove_gold_pair(pair.id)
            raise
        return [pair for _, pair in made]

    def invite(self, board: object, count: int, *, quota: int | None = None, expires_days: float | None = None,
               completion_url: str = "", base_url: str = DEFAULT_BASE_URL) -> list[Invite]:
        """``count`` personal links to rate ``board`` (restricted to this audience), each for a new
        pseudonymous rater ``aud-<audience id>-<n>``. The links are returned once: only their
        tokens' hashes are stored. All or nothing.

        :param quota: votes after which the rater is done and gets a completion code.
        :param expires_days: the links stop working after this many days.
        :param completion_url: where a finished rater is sent (e.g. the platform's completion page).
        """
        board_id = self._attached(board)
        count = check_count(count, "count", 1)
        if count > MAX_INVITES:
            raise ValidationError(f"count must be at most {MAX_INVITES:,}, got {count:,}")
        quota = None if quota is None else check_count(quota, "quota", 1)
        now = time.time()
        expires_at = None
        if expires_days is not None:
            if isinstance(expires_days, bool) or not isinstance(expires_days, (int, float)) or not expires_days > 0:
                raise ValidationError(f"expires_days must be a positive number of days, got {expires_days!r}")
            expires_at = now + float(expires_days) * 86_400
        completion_url = check_link(str(completion_url), "completion_url")
        _link(base_url, {})  # refuses a bad base_url before anything is stored
        out = []
        with self._client.store.write() as conn:
            first = sql.next_member_number(conn, self.id)
            for n in range(first, first + count):
                token = secrets.token_urlsafe(24)
                rater = f"aud-{self.id}-{n}"
                sql.add_member(conn, {"audience_id": self.id, "rater": rater, "source": "invite",
                                      "token_hash": digest(token), "leaderboard_id": board_id, "quota": quota,
                                      "expires_at": expires_at, "completion_url": completion_url,
                                      "params": {}, "created_at": now})
                out.append(Invite(rater, _link(base_url, {"invite": token})))
        return out

    def open_study(self, board: object, *, quota: int | None = None, completion_url: str = "",
                   platform: str | None = None, worker_param: str | None = None,
                   extra_params: list[str] | None = None, base_url: str = DEFAULT_BASE_URL) -> str:
        """The study link to give a crowd platform: it admits each worker into this audience under
        ``<platform>:<worker id>``, to rate ``board``. A new secret each call: the previous
        study link stops working. Prolific links carry its ``{{%PARAM%}}`` placeholders; MTurk
        appends ``workerId`` and ``assignmentId`` itself.

        :param platform: ``"prolific"`` or ``"mturk"`` (presets for the parameter names); default
            the audience's.
        :param worker_param: the URL parameter holding the worker id (overrides the preset).
        :param extra_params: other parameters kept with each member (e.g. ``STUDY_ID``).
        """
        board_id = self._attached(board)
        quota = None if quota is None else check_count(quota, "quota", 1)
        completion_url = check_link(str(completion_url), "completion_url")
        platform = self.platform if platform is None else platform
        if platform not in PLATFORMS:
            raise ValidationError(f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}")
        preset = PLATFORMS[platform] if platform != self.platform else (self.worker_param, self.extra_params)
        worker = check_param(worker_param if worker_param is not None else preset[0])
        extras = [check_param(p) for p in (preset[1] if extra_params is None else extra_params)]
        secret = secrets.token_urlsafe(18)
        params = {"audience": self.id, "study": secret, "leaderboard": board_id}
        if platform == "prolific":
            params.update({p: "{{%" + p + "%}}" for p in [worker, *extras]})
        link = _link(base_url, params).replace("%7B%7B%25", "{{%").replace("%25%7D%7D", "%}}")
        with self._client.store.write() as conn:
            sql.set_study(conn, self.id, digest(secret), board_id, quota, completion_url, worker, extras, platform)
        return link

    def members(self) -> list[dict[str, Any]]:
        """Every member (pseudonym, source, board, quota, expiry, revocation, completion code,
        platform parameters), in the order they joined; never a token."""
        return [{k: v for k, v in m.items() if k != "token_hash"}
                for m in sql.members(self._client.store.conn, self.id)]

    def report(self) -> list[ReportRow]:
        """One row per member for approving payments: votes, active minutes, median seconds per
        vote, repeat agreement, excluded or not, completion code (see
        :mod:`rater.results.audience_report`)."""
        from rater.results.audience_report import audience_report

        return audience_report(self._client.store, sql.members(self._client.store.conn, self.id))


def check_param(name: object) -> str:
    if not isinstance(name, str) or not _PARAM.fullmatch(name):
        raise ValidationError(f"a URL parameter name must be a letter then letters, digits or '_' "
                              f"(at most 40), got {name!r}")
    return name
