"""The matchmaker's in-memory picture of a board, kept up to date incrementally.

Selecting a pair must stay fast on a board with a million votes, so nothing is recomputed from
scratch per request: one :class:`BoardState` per ``(database file, leaderboard id)`` holds the
board's models, media and pair counts, and each request first reads only what is new (models,
media with an id above the last one seen, votes past the feed position last seen, see
:func:`rater.store.matchups.vote_position`; votes may come from other threads, processes or,
on PostgreSQL, hosts). The states live in a process-wide registry; each has its own lock, which callers
hold while they read or change it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from ranking import RatingState

from rater.matchmaking import model
from rater.matchmaking.model import LocalPosterior, Posterior, local_posterior, nudge, posterior_of, rating_state
from rater.store import Store, benchmarks, catalog, matchups, votes

__all__ = [
    "BoardState", "MediaItem", "PairCounts", "RaterView", "forget_states", "seed_states", "state_for",
]

_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5}
PENDING_SECONDS = 900.0  # a served, unvoted matchup stops counting as "in flight" after this
REFIT_SHARE = 2000  # refit once the unfitted votes reach this share of all votes...
REFIT_SECONDS = 2.0  # ...or this long after the last fit
# Big boards (a local posterior): a full refit costs ~100 ms at 10,000 models, and between
# refits every vote nudges its two models, so refits wait for this share of the votes (at
# least LOCAL_REFIT_VOTES of them) or this long.
LOCAL_REFIT_SHARE, LOCAL_REFIT_VOTES, LOCAL_REFIT_SECONDS = 200, 64, 10.0


@dataclass(frozen=True)
class MediaItem:
    """One stored medium of a model for a prompt."""

    id: int
    sha256: str
    ext: str
    kind: str


class PairCounts:
    """Counted votes per pair of models, kept sparse: only pairs that have met take memory.

    Pair ``k`` is models ``lo[k] < hi[k]`` with ``games[k]`` votes, of which ``lo[k]`` earned
    ``wins[k]`` (ties count half).
    """

    def __init__(self) -> None:
        self.slot: dict[int, int] = {}
        self.size = 0
        self._lo = np.zeros(16, dtype=np.intp)
        self._hi = np.zeros(16, dtype=np.intp)
        self._games = np.zeros(16)
        self._wins = np.zeros(16)
        self._sorted = np.zeros(0, dtype=np.intp)  # slots 0..len-1 by key, for get()
        self._sorted_keys = np.zeros(0, dtype=np.int64)  # their keys

    def add(self, a: np.ndarray, b: np.ndarray, score_a: np.ndarray) -> tuple[np.ndarray, ...]:
        """Count votes between ``a[k]`` and ``b[k]`` where ``a[k]`` scored ``score_a[k]``;
        returns them per pair, ``(lo, hi, score of lo, votes)``, pairs in ``(lo, hi)`` order."""
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        won = np.where(a < b, score_a, 1.0 - score_a)
        keys, inverse = np.unique((lo << 32) | hi, return_inverse=True)
        count = np.bincount(inverse, minlength=len(keys)).astype(float)
        total = np.bincount(inverse, weights=won, minlength=len(keys))
        slots = np.empty(len(keys), dtype=np.intp)
        for k, key in enumerate(keys.tolist()):
            slot = self.slot.get(key)
            if slot is None:
                slot = self.slot[key] = self._append(key >> 32, key & 0xFFFFFFFF)
            slots[k] = slot
        self._games[slots] += count
        self._wins[slots] += total
        return keys >> 32, keys & 0xFFFFFFFF, total, count

    def _append(self, lo: int, hi: int) -> int:
        if self.size == len(self._lo):
            grow = len(self._lo)
            self._lo, self._hi = np.pad(self._lo, (0, grow)), np.pad(self._hi, (0, grow))
            self._games, self._wins = np.pad(self._games, (0, grow)), np.pad(self._wins, (0, grow))
        self._lo[self.size], self._hi[self.size] = lo, hi
        self.size += 1
        return self.size - 1

    def get(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Votes between ``a[k]`` and ``b[k]`` (0 for pairs that never met): binary searches
        in the slots sorted by key, re-sorted once the unsorted newest slots pass 1/8."""
        keys = (np.minimum(a, b).astype(np.int64) << 32) | np.maximum(a, b)
        done = len(self._sorted)
        if self.size - done > max(64, done // 8):
            self._sorted = np.argsort(self._keys(0, self.size), kind="stable")
            self._sorted_keys = self._keys(0, self.size)[self._sorted]
            done = self.size
        tail = np.argsort(self._keys(done, self.size))
        out = np.zeros(len(keys))
        for slots, sorted_keys in ((self._sorted, self._sorted_keys),
                                   (done + tail, self._keys(done, self.size)[tail])):
            if len(slots) == 0:
                continue
            at = np.minimum(np.searchsorted(sorted_keys, keys), len(slots) - 1)
            hit = sorted_keys[at] == keys
            out[hit] = self._games[slots[at[hit]]]
        return out

    def _keys(self, start: int, stop: int) -> np.ndarray:
        return (self._lo[start:stop].astype(np.int64) << 32) | self._hi[start:stop]

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(lo, hi, games, wins)`` of every pair that has met."""
        k = self.size
        return self._lo[:k], self._hi[:k], self._games[:k], self._wins[:k]

    def dense(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n x n`` matrices ``games`` and ``wins`` (``wins[i, j]``: what ``i`` earned
        against ``j``), for the exact fit of small boards."""
        lo, hi, games, wins = self.edges()
        g, w = np.zeros((n, n)), np.zeros((n, n))
        g[lo, hi] = g[hi, lo] = games
        w[lo, hi], w[hi, lo] = wins, games - wins
        return g, w


class RaterView:
    """Which media pairs one rater has been served.

    Asked of the database each time (an index lookup, so pairs served by other processes count
    too), plus the pairs this process is serving right now but has not stored yet.
    """

    def __init__(self, conn: Any, leaderboard_id: str, rater: str, inflight: set[tuple[str, int, int]]) -> None:
        self.conn, self.leaderboard_id, self.rater, self.inflight = conn, leaderboard_id, rater, inflight

    def seen(self, x: int, y: int) -> bool:
        """Whether media ``x`` and ``y`` were shown together to this rater."""
        lo, hi = (x, y) if x < y else (y, x)
        return (self.rater, lo, hi) in self.inflight or matchups.pair_served(
            self.conn, self.leaderboard_id, self.rater, lo, hi)


class BoardState:
    """Models, media, vote counts and the fitted posterior of one board.

    Model ``k`` is the ``k``-th model in id order; prompt ``q`` the ``q``-th registered prompt.
    ``pairs`` holds the counted votes and scores of each pair of models that has met (ties
    count half, inverse boards flipped so higher is always better), ``model_games[a]`` the
    counted votes of model ``a`` and ``prompt_games[a, q]`` those on prompt ``q``; nothing is
    ``n x n``. Quality-control repeats and votes of excluded raters are not counted.
    """

    def __init__(self, leaderboard_id: str, seed: int | None = None) -> None:
        self.lock = threading.Lock()
        self.leaderboard_id = leaderboard_id
        self.rng = np.random.default_rng(seed)
        self.loaded = False
        self.seen = (0, 0, 0, 0, 0)

    def _load_board(self, conn: Any) -> None:
        leaderboard_id = self.leaderboard_id
        row = catalog.get_leaderboard(conn, leaderboard_id)
        self.inverse = bool(row and row["inverse_ranking"])
        prompts = catalog.list_prompts(conn, leaderboard_id)
        self.prompt_ids = [int(p["id"]) for p in prompts]
        self.prompt_texts = [str(p["text"]) for p in prompts]
        self.prompt_assets: list[tuple[str, str] | None] = [  # (sha256, ext) of each asset
            (p["asset_sha256"], p["asset_ext"]) if p["asset_sha256"] else None for p in prompts
        ]
        self.prompt_index = {pid: q for q, pid in enumerate(self.prompt_ids)}
        self.model_ids: list[int] = []
        self.model_names: list[str] = []
        self.model_index: dict[int, int] = {}
        self.media: dict[tuple[int, int], list[MediaItem]] = {}
        n_prompts = len(self.prompt_ids)
        self.has_media = np.zeros((0, n_prompts), dtype=bool)
        self.budget = np.zeros(0)  # each model's response budget on the board (inf: none)
        self.excluded: set[str] = set()
        self.seen = (0, 0, 0, 0, 0)  # change probe (matchups.change_probe) as last read
        self.pending: dict[str, tuple[int, int, float]] = {}
        self.inflight: set[tuple[str, int, int]] = set()  # (rater, media, media) being stored
        # board_status's last (placed, votes, rank) per model and the ModelStatus rows made
        self.status_rows: tuple[np.ndarray, list[Any]] = (np.zeros((3, 0), dtype=np.int64), [])
        self._reset_counts()
        self.loaded = True

    # -- loading ------------------------------------------------------------------------------

    def _reset_counts(self) -> None:
        n, n_prompts = len(self.model_ids), len(self.prompt_ids)
        self.pairs = PairCounts()
        self.model_games = np.zeros(n)
        self.prompt_games = np.zeros((n, n_prompts))
        self.votes_counted = 0
        self.rater_votes: dict[str, int] = {}  # each rater's votes that count unless excluded
        self._rating: RatingState | None = None
        self._posterior: Posterior | LocalPosterior | None = None
        self._unfitted = 0  # counted votes not in the last fit
        self._fitted_at = 0.0
        self._stale = False  # models were added since the last fit

    def _grow(self, n: int) -> None:
        extra = n - len(self.model_games)
        if extra <= 0:
            return
        self.model_games = np.pad(self.model_games, (0, extra))
        self.prompt_games = np.pad(self.prompt_games, ((0, extra), (0, 0)))
        self.has_media = np.pad(self.has_media, ((0, extra), (0, 0)))
        self.budget = np.pad(self.budget, (0, extra), constant_values=np.inf)
        self._rating = None  # refitted from the counts when next needed
        self._stale = True

    def refresh(self, conn: Any) -> None:
        """Read what changed since the last call: new models, media, votes, exclusions."""
        probe = matchups.change_probe(conn)
        if (not self.loaded or probe[3:] != self.seen[3:]  # an import became visible
                or any(now < before for now, before in zip(probe, self.seen))):
            self._load_board(conn)  # first use, or the file was replaced: start over
        if probe[2] != self.seen[2]:
            for model_id, name in matchups.board_model_rows(conn, self.leaderboard_id, self.seen[2]):
                self.model_index[int(model_id)] = len(self.model_ids)
                self.model_ids.append(int(model_id))
                self.model_names.append(str(name))
            self._grow(len(self.model_ids))
            budgets = benchmarks.run_budgets(conn, self.leaderboard_id)
            self.budget = np.array([budgets.get(m, np.inf) for m in self.model_ids], dtype=float)
        if probe[1] != self.seen[1]:
            rows = matchups.media_rows(conn, self.leaderboard_id, self.seen[1])
            for media_id, model_id, prompt_id, sha, ext, kind in rows:
                key = (self.model_index[int(model_id)], self.prompt_index[int(prompt_id)])
                self.media.setdefault(key, []).append(MediaItem(int(media_id), sha, ext, kind))
                self.has_media[key] = True
        excluded = votes.excluded_raters(conn, self.leaderboard_id)
        last_vote = self.seen[0]
        if excluded != self.excluded:
            changed, self.excluded = excluded ^ self.excluded, excluded
            # a rater with no counted-or-countable votes changes nothing (one who qualifies)
            if any(self.rater_votes.get(r) for r in changed):
                self._reset_counts()
                last_vote = 0
        if probe[0] != last_vote:
            self._apply(matchups.new_vote_rows(conn, self.leaderboard_id, last_vote, probe[0]))
        self.seen = probe

    def _apply(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        for row in rows:
            self.pending.pop(row[1], None)
        index = self.model_index  # votes of participants not rated here count nowhere
        countable = [r for r in rows if not r[7] and r[2] in index and r[3] in index]
        for r in countable:
            self.rater_votes[r[6]] = self.rater_votes.get(r[6], 0) + 1
        keep = [r for r in countable if r[6] not in self.excluded]
        if not keep:
            return
        index = self.model_index
        a = np.fromiter((index[r[2]] for r in keep), dtype=np.intp, count=len(keep))
        b = np.fromiter((index[r[3]] for r in keep), dtype=np.intp, count=len(keep))
        s = np.fromiter((_SCORE[r[4]] for r in keep), dtype=float, count=len(keep))
        q = np.fromiter((self.prompt_index[r[5]] for r in keep), dtype=np.intp, count=len(keep))
        if self.inverse:
            s = 1.0 - s
        np.add.at(self.model_games, a, 1.0)
        np.add.at(self.model_games, b, 1.0)
        np.add.at(self.prompt_games, (a, q), 1.0)
        np.add.at(self.prompt_games, (b, q), 1.0)
        self.votes_counted += len(keep)
        cells = self.pairs.add(a, b, s)
        if isinstance(self._posterior, LocalPosterior) and not self._stale:
            touched = np.unique(np.concatenate([a, b]))
            lo, hi, games, wins = self.pairs.edges()
            near = np.isin(lo, touched) | np.isin(hi, touched)
            self._posterior = nudge(self._posterior, touched, lo[near], hi[near], games[near], wins[near])
        if self._rating is not None:
            for lo, hi, score, count in zip(*cells):
                self._rating.add(int(lo), int(hi), float(score / count), float(count))
        self._unfitted += len(keep)

    # -- derived ------------------------------------------------------------------------------

    @property
    def posterior(self) -> Posterior | LocalPosterior:
        """The Bradley-Terry posterior of the counted votes: exact on boards of up to
        :data:`~rater.matchmaking.model.DENSE_MODELS` models, by blocks of the order above.

        Refitted after every new vote on small boards; on big ones once the votes since the
        last fit reach 1/:data:`REFIT_SHARE` of the total or :data:`REFIT_SECONDS` have passed
        (one vote among a million moves nothing, and a refit of 100 models costs ~3 ms). A
        local posterior is refitted less often (``LOCAL_REFIT_*``); in between, each vote
        moves the strengths of its two models by one Newton step.
        """
        now = time.monotonic()
        if isinstance(self._posterior, LocalPosterior):
            due = self._unfitted >= max(LOCAL_REFIT_VOTES, self.votes_counted // LOCAL_REFIT_SHARE) or (
                self._unfitted and now - self._fitted_at > LOCAL_REFIT_SECONDS)
        else:
            due = self._unfitted >= max(1, self.votes_counted // REFIT_SHARE) or (
                self._unfitted and now - self._fitted_at > REFIT_SECONDS)
        if self._posterior is None or self._stale or due:
            n = len(self.model_ids)
            if n <= model.DENSE_MODELS:
                if self._rating is None:
                    games, wins = self.pairs.dense(n)
                    self._rating = rating_state(self.model_names, wins, games)
                self._posterior = posterior_of(self._rating)
            else:
                self._rating = None
                start = self._posterior.mu if isinstance(self._posterior, LocalPosterior) else None
                self._posterior = local_posterior(n, *self.pairs.edges(), start)
            self._unfitted, self._fitted_at, self._stale = 0, now, False
        return self._posterior

    def pair_games(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Counted votes between models ``a[k]`` and ``b[k]``."""
        return self.pairs.get(a, b)

    def shares_prompt(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether models ``a[k]`` and ``b[k]`` (two different models) have media for a
        common prompt, so they can be matched."""
        a, b = np.asarray(a, dtype=np.intp), np.asarray(b, dtype=np.intp)
        if len(a) == 0:
            return np.zeros(0, dtype=bool)
        return (self.has_media[a] & self.has_media[b]).any(axis=1) & (a != b)

    def active(self) -> np.ndarray:
        """Models that share a prompt with at least one other model (they can be matched)."""
        shared = self.has_media.sum(axis=0) >= 2
        return (self.has_media & shared[None, :]).any(axis=1)

    def pending_counts(self, now: float) -> dict[tuple[int, int], int]:
        """Matchups served but not yet voted on, per model pair ``(min, max)``."""
        oldest = now - PENDING_SECONDS
        for mid in [mid for mid, (_, _, t) in self.pending.items() if t < oldest]:
            del self.pending[mid]
        return Counter((a, b) if a < b else (b, a) for a, b, _ in self.pending.values())

    # -- raters -------------------------------------------------------------------------------

    def rater_view(self, conn: Any, rater: str) -> RaterView:
        """What ``rater`` has already been shown."""
        return RaterView(conn, self.leaderboard_id, rater, self.inflight)


_STATES: dict[tuple[str, str], BoardState] = {}
_STATES_LOCK = threading.Lock()
_SEEDS: list[np.random.SeedSequence | None] = [None]
_FILE_KEYS: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()


def seed_states(seed: int | None) -> None:
    """Make the random choices of boards first used from now on reproducible (simulations)."""
    with _STATES_LOCK:
        _SEEDS[0] = None if seed is None else np.random.SeedSequence(seed)


def _file_key(store: Store) -> str:
    """The store's database file as the registry names it (resolved once per store)."""
    key = _FILE_KEYS.get(store)
    if key is None:
        key = _FILE_KEYS[store] = store.key
    return key


def state_for(store: Store, leaderboard_id: str) -> BoardState:
    """The registry's state for this board (created empty on first use; call ``refresh``)."""
    key = (_file_key(store), leaderboard_id)
    with _STATES_LOCK:
        state = _STATES.get(key)
        if state is None:
            seq = _SEEDS[0]
            seed = None if seq is None else int(seq.spawn(1)[0].generate_state(1)[0])
            state = _STATES[key] = BoardState(leaderboard_id, seed)
        return state


def forget_states(store: Store | None = None) -> None:
    """Drop cached states (of one database, or all): the next request reloads from the file."""
    with _STATES_LOCK:
        if store is None:
            _STATES.clear()
            return
        path = _file_key(store)
        for key in [k for k in _STATES if k[0] == path]:
            del _STATES[key]
