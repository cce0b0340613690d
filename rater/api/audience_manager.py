"""``client.audience``: creates, finds and admits into audiences (see :mod:`rater.api.audience`)."""

from __future__ import annotations

import hmac
import re
import secrets
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from rater.errors import AudienceNotFound, LinkRefused, NotFoundError, ValidationError
from rater.intake.validation import check_count, check_name
from rater.store import audiences as sql

from .audience import PLATFORMS, Admission, Audience, audience_id_of, digest
from .ids import new_leaderboard_id

if TYPE_CHECKING:
    from .owner import BoardOwner

__all__ = ["AudienceManager"]

_WORKER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")


class AudienceManager:
    """Creates, finds and admits into audiences (``client.audience``)."""

    def __init__(self, client: BoardOwner) -> None:
        self._client = client

    def create_audience(self, name: str, *, platform: str = "prolific") -> Audience:
        """A new, empty audience (named as you like; names need not be unique).

        :param platform: the crowd platform whose worker id study links read, ``"prolific"``
            (``PROLIFIC_PID``, keeping ``STUDY_ID`` and ``SESSION_ID``) or ``"mturk"``
            (``workerId``, keeping ``assignmentId`` and ``hitId``).
        """
        name = check_name(name, "audience name")
        if platform not in PLATFORMS:
            raise ValidationError(f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}")
        worker, extras = PLATFORMS[platform]
        row = {"id": new_leaderboard_id(), "name": name, "created_at": time.time(), "platform": platform,
               "worker_param": worker, "extra_params": list(extras)}
        self._client.store.require(create=True)
        with self._client.store.write() as conn:
            while sql.get_audience(conn, row["id"]) is not None:
                row["id"] = new_leaderboard_id()
            sql.insert_audience(conn, row)
        return self.get_audience_by_id(row["id"])

    def get_audience_by_id(self, audience_id: str) -> Audience:
        """The audience with this id.

        :raises AudienceNotFound: none has it.
        """
        row = sql.get_audience(self._client.store.conn, str(audience_id))
        if row is None:
            raise AudienceNotFound(f"no audience with id {audience_id!r} (`rater audience list` shows them)")
        return Audience.from_row(self._client, row)

    def find_audiences(self, name: str = "", amount: int = 10) -> list[Audience]:
        """Audiences whose name contains ``name`` (case-insensitive), newest first."""
        amount = check_count(amount, "amount")
        return [Audience.from_row(self._client, r) for r in sql.find_audiences(self._client.store.conn, str(name), amount)]

    def list_audiences(self) -> list[Audience]:
        """Every audience, oldest first."""
        return [self.get_audience_by_id(i) for i in sql.audience_ids(self._client.store.conn)]

    def audience(self, name_or_id: str) -> Audience:
        """The audience of this id, else the one audience of exactly this name (for the CLI).

        :raises AudienceNotFound: none, or several share the name (their ids are listed).
        """
        conn = self._client.store.conn
        row = sql.get_audience(conn, str(name_or_id))
        if row is not None:
            return Audience.from_row(self._client, row)
        named = [r for r in sql.find_audiences(conn, str(name_or_id), 1000) if r["name"] == name_or_id]
        if len(named) == 1:
            return Audience.from_row(self._client, named[0])
        if named:
            raise AudienceNotFound(f"{len(named)} audiences are named {name_or_id!r} (ids "
                                   f"{', '.join(r['id'] for r in named)}): give the id")
        raise AudienceNotFound(f"no audience with id or name {name_or_id!r} (`rater audience list` shows them)")

    def member_raters(self, audience: object) -> set[str]:
        """The rater ids of an audience's members (revoked ones too: their votes were admitted).

        :raises AudienceNotFound: no such audience.
        """
        audience_id = self.get_audience_by_id(audience_id_of(audience)).id
        return {m["rater"] for m in sql.members(self._client.store.conn, audience_id)}

    def board_audiences(self, board_id: str) -> list[str]:
        """The ids of the audiences a board is restricted to; empty when it is open to everyone."""
        return sql.board_audiences(self._client.store.conn, str(board_id))

    # -- links ----------------------------------------------------------------------------------

    def _admission(self, member: dict[str, Any], audience: dict[str, Any], now: float) -> Admission:
        if member["revoked_at"] is not None:
            raise LinkRefused("This link was revoked: it no longer lets anyone rate. Ask the "
                              "organiser for a new one if you think this is a mistake.")
        if member["expires_at"] is not None and member["expires_at"] <= now:
            day = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(member["expires_at"]))
            raise LinkRefused(f"This link expired on {day}: ask the organiser for a new one.")
        board = member["leaderboard_id"]
        if board is None or audience["id"] not in sql.board_audiences(self._client.store.conn, board):
            raise LinkRefused("This link's leaderboard is no longer open to its audience: ask the organiser.")
        return Admission(audience["id"], audience["name"], member["id"], member["rater"], board,
                         member["quota"], member["completion_url"], member["completion_code"])

    def admit_invite(self, token: object) -> Admission:
        """Who the invite token lets in.

        :raises LinkRefused: unknown, expired or revoked token, or its board no longer open to
            its audience.
        """
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise LinkRefused("This link is not valid: check that you opened the whole link you were sent.")
        hashed = digest(token)
        conn = self._client.store.conn
        member = sql.member_by_token(conn, hashed)
        if member is None or not hmac.compare_digest(member["token_hash"], hashed):
            raise LinkRefused("This link is not valid (no such invitation): check that you opened "
                              "the whole link you were sent.")
        audience = sql.get_audience(conn, member["audience_id"])
        assert audience is not None  # a member's audience cannot be deleted under it (foreign key)
        return self._admission(member, audience, time.time())

    def admit_worker(self, audience_id: object, secret: object, params: dict[str, str]) -> Admission:
        """Admit a crowd worker from a study link: ``params`` are the link's other query
        parameters (the worker id under the audience's ``worker_param``). The first visit makes
        them a member, under ``<platform>:<worker id>``; later visits find them again.

        :raises LinkRefused: unknown audience, wrong or outdated study secret, no or a malformed
            worker id, or a revoked worker.
        """
        conn = self._client.store.conn
        audience = sql.get_audience(conn, str(audience_id)) if isinstance(audience_id, str) else None
        stored = audience["study_hash"] if audience else None
        given = digest(secret) if isinstance(secret, str) else ""
        if audience is None or stored is None or not hmac.compare_digest(stored, given):
            raise LinkRefused("This study link is not valid (or was replaced by a newer one): "
                              "ask the study's organiser.")
        worker = params.get(audience["worker_param"], "")
        if not isinstance(worker, str) or not _WORKER_ID.fullmatch(worker):
            raise LinkRefused(f"This study link has no usable worker id ({audience['worker_param']}): "
                              "open it from the study page of your platform.")
        kept = {p: params[p] for p in audience["extra_params"] if isinstance(params.get(p), str)}
        bad = [p for p, v in kept.items() if not _WORKER_ID.fullmatch(v)]
        if bad:
            raise LinkRefused(f"This study link's {bad[0]} is malformed: open it from your platform's study page.")
        rater = f"{audience['platform']}:{worker}"
        now = time.time()
        member = sql.get_member(conn, audience["id"], rater)  # later visits (every click) only read
        if member is None:
            with self._client.store.write() as wconn:
                member = sql.get_member(wconn, audience["id"], rater)  # two tabs at once: one row
                if member is None:
                    sql.add_member(wconn, {"audience_id": audience["id"], "rater": rater, "source": "study",
                                           "token_hash": None, "leaderboard_id": audience["study_board"],
                                           "quota": audience["study_quota"],
                                           "completion_url": audience["study_completion_url"],
                                           "expires_at": None, "params": kept, "created_at": now})
                    member = sql.get_member(wconn, audience["id"], rater)
        assert member is not None
        return self._admission(member, audience, now)

    def revoke(self, token_or_rater: str) -> list[str]:
        """Revoke an invite link (by its token) or a rater (by pseudonym or ``prolific:<id>``, in
        every audience they belong to): their link stops working at once; their votes stay
        (exclude them with :meth:`Leaderboard.exclude_rater`). Returns the raters revoked.

        :raises NotFoundError: no member has this token or rater id.
        """
        value = str(token_or_rater)
        with self._client.store.write() as conn:
            found = sql.member_by_token(conn, digest(value))
            targets = [found] if found else [m for a in sql.audience_ids(conn)
                                             if (m := sql.get_member(conn, a, value)) is not None]
            if not targets:
                raise NotFoundError(f"no invite token or audience member {value!r} "
                                    "(`rater audience report NAME` lists the members)")
            for member in targets:
                sql.revoke(conn, member["id"], time.time())
        return [m["rater"] for m in targets]

    def votes_cast(self, admission: Admission) -> int:
        """Votes the admitted rater has cast on their board."""
        return sql.rater_votes(self._client.store.conn, admission.leaderboard_id, admission.rater)

    def complete(self, admission: Admission) -> str:
        """The rater's completion code: made (random) and stored on the first call, the same after."""
        while True:
            try:
                with self._client.store.write() as conn:
                    return sql.set_completion(conn, admission.member_id, secrets.token_hex(5).upper(), time.time())
            except sqlite3.IntegrityError:  # the code another rater has (one chance in a trillion)
                continue
