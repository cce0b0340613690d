"""The entry point: :class:`Client` and its leaderboard manager.

The names mirror the hosted service's SDK, so code written for it runs here::

    from rater import Client

    client = Client("data/leaderboards.db")
    lb = client.mri.create_new_leaderboard(
        name="AI Art Competition",
        instruction="Which image do you prefer?",
        prompts=["A serene mountain landscape at sunset"],
        show_prompt=False,
    )
    lb.evaluate_model("MyAIModel_v2.1", media=["out/mountain.png"],
                      prompts=["A serene mountain landscape at sunset"])
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import LeaderboardNotFound, ValidationError
from .ids import new_leaderboard_id
from .settings import check_tag_lists
from .audience_manager import AudienceManager
from .benchmark_manager import BenchmarkManager
from .leaderboard import Leaderboard
from rater.intake.media import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    check_limit,
    write_with_blobs,
)
from rater.store import Store, catalog, open_store
from rater.store.dialect import is_database_url
from rater.store.schema import DEFAULT_MIN_VOTES
from rater.intake.validation import check_count, check_flag, check_name, check_text

if TYPE_CHECKING:
    from rater.exchange.backup import BackupResult
    from rater.exchange.votes import ImportResult

__all__ = ["DEFAULT_DB_PATH", "Client", "LeaderboardManager", "is_database_url", "new_leaderboard_id"]

#: Where the database lives when no path is given (``RATER_DB`` overrides it).
DEFAULT_DB_PATH = "data/leaderboards.db"
STRATEGIES = ("information", "uniform")
class LeaderboardManager(BenchmarkManager):
    """Creates, fetches and finds leaderboards (``client.mri`` and ``client.leaderboard``)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def _store(self) -> Store:
        return self._client.store

    def create_new_leaderboard(
        self,
        name: str,
        instruction: str,
        prompts: Sequence[str],
        show_prompt: bool = False,
        *,
        tags: Sequence[Sequence[str]] | None = None,
        prompt_assets: Sequence[str | os.PathLike[str]] | None = None,
        show_prompt_asset: bool = False,
        inverse_ranking: bool = False,
        strategy: str = "information",
        repeat_share: float = 0.05,
        max_pair_votes: int = 60,
        show_standings: bool = False,
        publish_prompts: bool = True,
        min_votes: int = DEFAULT_MIN_VOTES,
    ) -> Leaderboard:
        """Create a leaderboard with a fixed list of registered prompts.

        :param name: shown to everyone; need not be unique.
        :param instruction: the question raters answer, e.g. "Which image do you prefer?".
        :param prompts: the registered prompts, in order; unique and non-empty.
        :param show_prompt: whether raters see the prompt text.
        :param tags: one list of tags per prompt, for per-tag standings.
        :param prompt_assets: one media file per prompt (e.g. the source image of an edit).
        :param show_prompt_asset: whether raters see the prompt asset.
        :param inverse_ranking: the instruction asks for the worse one ("Which is worse?").
        :param strategy: default matchmaking, ``"information"`` or ``"uniform"``.
        :param repeat_share: share of quality-control repeats shown to raters (0 turns them off).
        :param max_pair_votes: votes after which an unresolved adjacent pair counts as settled.
        :param show_standings: whether raters see the live standings in the rating app (owners
            always do); change it later with :meth:`Leaderboard.update`.
        :param publish_prompts: whether the static site publishes the prompt texts (apart from
            ``show_prompt``, what raters see); change it later with :meth:`Leaderboard.update`.
        :param min_votes: votes a model needs before it is ranked with the established models;
            below that it is *preliminary*: marked, kept off the podium and listed after them.
        :raises ValidationError: any argument is malformed; nothing is stored then.
        """
        if isinstance(prompts, str) or not isinstance(prompts, Sequence):
            raise ValidationError("prompts must be a list of prompt texts")
        if not prompts:
            raise ValidationError("prompts is empty: register at least one prompt")
        texts = [check_text(p, f"prompts[{i}]") for i, p in enumerate(prompts)]
        first: dict[str, int] = {}
        for i, text in enumerate(texts):
            if text in first:
                raise ValidationError(
                    f"prompts[{i}] repeats prompts[{first[text]}] ({text!r}): prompts must be unique"
                )
            first[text] = i
        tag_lists = check_tag_lists(tags, len(texts), allow_none=False)
        board = self._check_board(
            name, instruction, show_prompt=show_prompt, show_prompt_asset=show_prompt_asset,
            inverse_ranking=inverse_ranking, strategy=strategy, repeat_share=repeat_share,
            max_pair_votes=max_pair_votes, show_standings=show_standings,
            publish_prompts=publish_prompts, min_votes=min_votes)
        assets = self._check_assets(prompt_assets, len(texts))
        if show_prompt_asset and not any(assets):
            raise ValidationError("show_prompt_asset is on but no prompt_assets were given")
        self._store.require(create=True)  # the one call that makes a database, once all is valid
        with write_with_blobs(self._store, [a for a in assets if a is not None]) as (conn, _):
            while catalog.get_leaderboard(conn, board["id"]) is not None:
                board["id"] = new_leaderboard_id()
            for asset in assets:
                if asset is not None:
                    catalog.insert_blob(conn, asset.sha256, asset.kind, asset.mime, asset.ext, asset.size)
            from rater.store import benchmarks

            benchmarks.insert_benchmark(
                conn, {"id": board["id"], "name": board["name"], "created_at": board["created_at"]},
                [(t, t, g[0], g[1], a.sha256 if a else None) for t, g, a in zip(texts, tag_lists, assets)])
            catalog.insert_leaderboard(conn, {**board, "benchmark_id": board["id"]})
        return self.get_leaderboard_by_id(board["id"])

    @staticmethod
    def _check_board(name: str, instruction: str, **settings: Any) -> dict[str, Any]:
        """A new leaderboard row from checked settings (raises ValidationError naming the bad one)."""
        name = check_name(name, "leaderboard name")
        instruction = check_text(instruction, "instruction", max_length=2000)
        for what in ("show_prompt", "show_prompt_asset", "inverse_ranking", "show_standings", "publish_prompts"):
            check_flag(settings[what], what)
        strategy, repeat_share = settings["strategy"], settings["repeat_share"]
        if strategy not in STRATEGIES:
            raise ValidationError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        if isinstance(repeat_share, bool) or not isinstance(repeat_share, (int, float)) or not 0 <= repeat_share <= 0.5:
            raise ValidationError(f"repeat_share must be between 0 and 0.5, got {repeat_share!r}")
        check_count(settings["max_pair_votes"], "max_pair_votes", 1)
        check_count(settings["min_votes"], "min_votes")
        return {
            "id": new_leaderboard_id(), "name": name, "instruction": instruction,
            "show_prompt": int(settings["show_prompt"]), "show_prompt_asset": int(settings["show_prompt_asset"]),
            "inverse_ranking": int(settings["inverse_ranking"]), "strategy": strategy,
            "repeat_share": float(repeat_share), "max_pair_votes": settings["max_pair_votes"],
            "created_at": time.time(), "show_standings": int(settings["show_standings"]),
            "publish_prompts": int(settings["publish_prompts"]), "min_votes": settings["min_votes"],
        }

    def get_leaderboard_by_id(self, leaderboard_id: str) -> Leaderboard:
        """The leaderboard with this id.

        :raises LeaderboardNotFound: no leaderboard has that id.
        """
        row = catalog.get_leaderboard(self._store.conn, str(leaderboard_id))
        if row is None:
            raise LeaderboardNotFound(
                f"no leaderboard with id {leaderboard_id!r} in {self._store.location} "
                "(`rater list` shows the ids)"
            )
        return Leaderboard.from_row(self._client, row)

    def find_leaderboards(self, name: str = "", amount: int = 10) -> list[Leaderboard]:
        """Leaderboards whose name contains ``name`` (case-insensitive), newest first."""
        if not isinstance(amount, int) or amount < 0:
            raise ValidationError(f"amount must be a non-negative integer, got {amount!r}")
        rows = catalog.find_leaderboards(self._store.conn, str(name), amount)
        return [Leaderboard.from_row(self._client, row) for row in rows]

    def list_leaderboards(self) -> list[Leaderboard]:
        """Every leaderboard, oldest first."""
        return [self.get_leaderboard_by_id(i) for i in catalog.leaderboard_ids(self._store.conn)]


class Client:
    """A handle on one database: an SQLite file (with the media folder beside it), or a
    PostgreSQL server database shared by several hosts (media in the database, each host
    keeping a local cache of them: ``$RATER_MEDIA_CACHE``).

    Opening never creates anything: an existing file is opened (and checked) at once; a
    missing one is only made by a creating call, :meth:`LeaderboardManager.create_new_leaderboard`,
    or by ``create=True``. Until then every other call raises
    :class:`~rater.errors.DatabaseNotFound` naming the path, so a mistyped path is an error,
    never a new empty database. A server database must exist on the server (``createdb``);
    ``create=True`` gives an empty one the schema, and refuses one holding anything else.

    :param db_path: the SQLite file, or a ``postgresql://user@host:5432/db`` URL (a password
        in it is never shown: messages print ``***``; needs ``pip install 'rater[postgresql]'``).
        Defaults to ``$RATER_DB`` or ``data/leaderboards.db``.
    :param create: create a missing database (and its folder) now, as ``rater init`` does.
    :param max_media_bytes: media files larger than this are refused.
    :param max_pixels: images and video frames with more pixels than this are refused, checked
        from the file's header before decoding (the default, 50 megapixels, admits 8K frames
        and 48 MP photos).
    :raises ValidationError: ``max_media_bytes`` or ``max_pixels`` is not a positive whole number.
    :raises DatabaseError: the file exists but is not a usable rater database; the server cannot
        be reached (one line naming the URL without its password), or psycopg is missing.
    """

    def __init__(
        self, db_path: str | os.PathLike[str] | None = None, *, create: bool = False,
        max_media_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        check_limit(max_media_bytes, "max_media_bytes", "bytes")
        check_limit(max_pixels, "max_pixels", "pixels")
        path = db_path if db_path is not None else os.environ.get("RATER_DB", DEFAULT_DB_PATH)
        self.store = open_store(path, create=check_flag(create, "create"))
        self.max_media_bytes = max_media_bytes
        self.max_pixels = max_pixels
        self.mri = LeaderboardManager(self)
        self.leaderboard = self.mri
        self.audience = AudienceManager(self)

    @property
    def db_path(self) -> Path | str:
        """The database file (a server database's URL, without its password)."""
        return self.store.path if self.store.path is not None else self.store.location

    def backup(self, dest: str | os.PathLike[str], *, media: bool = True, overwrite: bool = False) -> BackupResult:
        """Copy the database to ``dest`` while raters may keep voting (one consistent moment,
        checked before it gets its name), with the media it uses in a ``media/`` folder beside it.

        See :func:`rater.exchange.backup.backup` for what is refused.
        """
        from rater.exchange.backup import backup

        return backup(self.store, dest, media=media, overwrite=overwrite)

    def import_votes(
        self, path: str | os.PathLike[str], into: str | None = None, *, allow_instruction_mismatch: bool = False
    ) -> ImportResult:
        """Merge a file written by :meth:`Leaderboard.export_votes` (here or on another host).

        :param into: the target board's id; by default the one board whose name and prompts
            match the file's. See :func:`rater.exchange.votes.import_votes`.
        """
        from rater.exchange.votes import import_votes

        def boards(board_id: str | None) -> list[Leaderboard]:
            return self.mri.list_leaderboards() if board_id is None else [self.mri.get_leaderboard_by_id(board_id)]

        return import_votes(self.store, boards, path, into, allow_instruction_mismatch=allow_instruction_mismatch)

    def close(self) -> None:
        """Close the database connections."""
        self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.store.location!r})"
