"""Quality control of raters: hand-computed figures on matchups and votes written directly."""

from __future__ import annotations

import pytest

from rater import Client, NotFoundError
from rater.results.quality import RaterStats
from rater.store import catalog, votes

pytestmark = pytest.mark.both_backends

PROMPT = "A red cube"


@pytest.fixture
def board(client: Client, png):
    lb = client.mri.create_new_leaderboard("QC", "Which is better?", [PROMPT])
    for seed, name in enumerate(("A", "B", "C")):
        lb.evaluate_model(name, [png(seed)], [PROMPT])
    return lb


T0 = 1_750_000_000.0  # the store refuses implausible times (before 2000): test times are offsets


class Writer:
    """Serve and vote matchups with chosen timestamps (what the matchmaker and app would do)."""

    def __init__(self, board) -> None:
        self.board = board
        self.conn = board._client.store.conn
        self.media = {m["model"]: m for m in catalog.list_media(self.conn, board.id)}
        self.count = 0

    def serve(self, rater: str, left: str, right: str, at: float, repeat_of: str | None = None) -> str:
        self.count += 1
        mid = f"m{self.count}"
        lm, rm = self.media[left], self.media[right]
        votes.insert_matchup(self.conn, {
            "id": mid, "leaderboard_id": self.board.id, "prompt_id": lm["prompt_id"],
            "left_media": lm["id"], "left_model": lm["model_id"], "right_media": rm["id"],
            "right_model": rm["model_id"], "rater": rater, "served_at": T0 + at, "repeat_of": repeat_of,
        })
        return mid

    def vote(self, mid: str, rater: str, choice: str, at: float) -> None:
        assert votes.insert_vote(self.conn, mid, rater, choice, T0 + at)


@pytest.fixture
def history(board):
    w = Writer(board)
    # alice: A beats B, then the repeat (sides swapped) again picks A by clicking "right": agrees.
    m1 = w.serve("alice", "A", "B", 100.0)
    w.vote(m1, "alice", "left", 104.0)
    m2 = w.serve("alice", "B", "A", 110.0, repeat_of=m1)
    w.vote(m2, "alice", "right", 113.0)
    # alice: A ties C; the repeat picks C (left): a tie only agrees with a tie.
    m3 = w.serve("alice", "A", "C", 120.0)
    w.vote(m3, "alice", "tie", 130.0)
    m4 = w.serve("alice", "C", "A", 131.0, repeat_of=m3)
    w.vote(m4, "alice", "left", 133.0)
    # bob: the second pair is served (prepared ahead) before the first is voted on.
    m5 = w.serve("bob", "B", "C", 200.0)
    m6 = w.serve("bob", "A", "C", 200.5)
    w.vote(m5, "bob", "right", 205.0)
    w.vote(m6, "bob", "right", 208.0)
    # carol was served a pair and closed the tab.
    w.serve("carol", "A", "B", 300.0)
    return board


def test_figures_per_rater(history) -> None:
    stats = {s.name: s for s in history.raters()}
    assert stats["alice"] == RaterStats(
        name="alice", votes=4, repeats=2, agreement=0.5,
        left_rate=2 / 3,  # left, right, left among the three decided votes
        median_seconds=3.5,  # 4, 3 (from 110), 10 (from 120), 2 (from 131)
        excluded=False,
    )
    # bob's second pair was on screen from his first vote (205), not from when it was served.
    assert stats["bob"] == RaterStats("bob", 2, 0, None, 0.0, 4.0, False)
    assert stats["carol"] == RaterStats("carol", 0, 0, None, None, None, False)


def test_most_votes_first(history) -> None:
    assert [s.name for s in history.raters()] == ["alice", "bob", "carol"]


def test_repeat_of_unvoted_original_is_not_a_repeat(board) -> None:
    w = Writer(board)
    m1 = w.serve("dan", "A", "B", 1.0)
    m2 = w.serve("dan", "B", "A", 2.0, repeat_of=m1)
    w.vote(m2, "dan", "left", 3.0)
    (dan,) = board.raters()
    assert (dan.votes, dan.repeats, dan.agreement) == (1, 0, None)


def test_exclude_and_include_again(history) -> None:
    before = history.get_standings(n_bootstrap=0)
    assert before.attrs["excluded_votes"] == 0
    assert int(before["total_matches"].sum()) == 2 * 4  # repeats are never counted
    history.exclude_rater("bob")
    assert {s.name: s.excluded for s in history.raters()} == {"alice": False, "bob": True, "carol": False}
    excluded = history.get_standings(n_bootstrap=0)
    assert excluded.attrs["excluded_votes"] == 2
    assert int(excluded["total_matches"].sum()) == 2 * 2  # bob's two votes left out
    assert history.summary()["votes"] == 6  # still stored
    history.include_rater("bob")
    assert not any(s.excluded for s in history.raters())
    again = history.get_standings(n_bootstrap=0)
    assert again.attrs["excluded_votes"] == 0
    assert again[["name", "wins", "ties", "total_matches"]].equals(before[["name", "wins", "ties", "total_matches"]])


def test_excluding_an_unknown_rater_names_the_known_ones(history) -> None:
    with pytest.raises(NotFoundError, match=r"no rater named 'bobby'.*'alice', 'bob', 'carol'"):
        history.exclude_rater("bobby")


def test_no_raters_yet(board) -> None:
    assert board.raters() == []
