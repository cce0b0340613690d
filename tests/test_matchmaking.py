"""next_matchup / record_vote / board_status on real databases with real PNG files."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import make_png
from rater import Client, Leaderboard, MatchupNotFound, ValidationError, VoteError
from rater.matchmaking.service import Matchup
from rater.matchmaking.select import MIN_PLACED_VOTES
from rater.matchmaking.state import seed_states
from rater.store import votes

#: Every test runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

BoardFactory = Callable[..., Leaderboard]


@pytest.fixture(autouse=True)
def _seeded() -> None:
    seed_states(20240601)
    yield
    seed_states(None)


@pytest.fixture
def board(client: Client, tmp_path: Path) -> BoardFactory:
    """``board(models, prompts, media_per=1, **options)``: a board whose model ``k`` is named
    ``m{k}`` and has ``media_per`` distinct PNGs for every prompt."""
    counter = [0]

    def factory(models: int, prompts: int, media_per: int = 1, **options: object) -> Leaderboard:
        texts = [f"prompt {q}" for q in range(prompts)]
        lb = client.mri.create_new_leaderboard("Test board", "Which is better?", texts, **options)
        for m in range(models):
            add_model(lb, f"m{m}", texts, media_per)
        return lb

    def add_model(lb: Leaderboard, name: str, texts: list[str], media_per: int = 1) -> None:
        files, used = [], []
        for text in texts:
            for _ in range(media_per):
                counter[0] += 1
                files.append(make_png(tmp_path / "src" / f"{counter[0]}.png", counter[0]))
                used.append(text)
        lb.evaluate_model(name, files, used)

    factory.add_model = add_model  # type: ignore[attr-defined]
    return factory


def strength(name: str) -> int:
    return int(name[1:])


def vote_truth(lb: Leaderboard, m: Matchup) -> str:
    """The stronger model (higher number) always wins."""
    choice = "left" if strength(m.left.model) > strength(m.right.model) else "right"
    return lb.record_vote(m.id, choice, m.rater).choice


def test_matchup_is_one_prompt_two_models_and_stored_when_served(board: BoardFactory) -> None:
    lb = board(4, 3, media_per=2, repeat_share=0.0)
    media = {name: lb.model_media(name) for name in ("m0", "m1", "m2", "m3")}
    for _ in range(12):
        m = lb.next_matchup("alice")
        assert m is not None and m.leaderboard_id == lb.id and m.rater == "alice"
        assert m.left.model != m.right.model
        assert m.left.path in media[m.left.model][m.prompt]
        assert m.right.path in media[m.right.model][m.prompt]
        assert m.left.path.read_bytes() != m.right.path.read_bytes()
        assert m.left.kind == m.right.kind == "image" and m.prompt_asset is None
        stored = votes.get_matchup(lb._client.store.conn, m.id)
        assert stored is not None and stored["rater"] == "alice" and stored["repeat_of"] is None
        assert (stored["left_model"], stored["right_model"]) == (m.left.model, m.right.model)
        vote_truth(lb, m)


@pytest.mark.parametrize("strategy", ["information", "uniform"])
def test_sides_are_randomised(board: BoardFactory, strategy: str) -> None:
    lb = board(2, 40, repeat_share=0.0)
    left = Counter(lb.next_matchup("r", strategy).left.model for _ in range(40))  # type: ignore[union-attr]
    assert left["m0"] >= 8 and left["m1"] >= 8  # P(fail) ~ 1e-4 for a fair coin


def test_one_vote_per_matchup(board: BoardFactory) -> None:
    lb = board(3, 2, repeat_share=0.0)
    m = lb.next_matchup("alice")
    first = lb.record_vote(m.id, "left", "alice")
    again = lb.record_vote(m.id, "right", "alice")
    assert first.counted and first.choice == "left"
    assert not again.counted and again.choice == "left"  # the first vote stands
    assert votes.get_vote(lb._client.store.conn, m.id)["choice"] == "left"
    assert lb.status().votes == 1


def test_refused_votes(board: BoardFactory, client: Client) -> None:
    lb = board(3, 2, repeat_share=0.0)
    m = lb.next_matchup("alice")
    with pytest.raises(VoteError, match="another rater"):
        lb.record_vote(m.id, "left", "bob")
    with pytest.raises(MatchupNotFound, match="no matchup 'nope'"):
        lb.record_vote("nope", "left", "alice")
    with pytest.raises(VoteError, match="choice must be one of left, right, tie, got 'LEFT'"):
        lb.record_vote(m.id, "LEFT", "alice")
    other = client.mri.create_new_leaderboard("Other", "Which?", ["prompt 0"])
    with pytest.raises(MatchupNotFound):
        other.record_vote(m.id, "left", "alice")
    with pytest.raises(ValidationError, match="rater_id is empty"):
        lb.next_matchup("  ")
    with pytest.raises(ValidationError, match="strategy must be one of"):
        lb.next_matchup("alice", "random")
    assert votes.get_vote(lb._client.store.conn, m.id) is None


@pytest.mark.parametrize("strategy", ["information", "uniform"])
def test_never_the_same_media_pair_twice(board: BoardFactory, strategy: str) -> None:
    lb = board(3, 2, media_per=2, repeat_share=0.0)  # 3 model pairs x 2 prompts x 4 = 24 pairs
    seen = set()
    for _ in range(24):
        m = lb.next_matchup("alice", strategy, continue_when_settled=True)
        assert m is not None
        pair = frozenset((m.left.media_id, m.right.media_id))
        assert pair not in seen
        seen.add(pair)
        vote_truth(lb, m)
    assert lb.next_matchup("alice", strategy, continue_when_settled=True) is None
    assert lb.next_matchup("bob", strategy, continue_when_settled=True) is not None


def test_repeats_swap_sides_at_the_configured_share(board: BoardFactory) -> None:
    lb = board(6, 20, repeat_share=0.3)
    conn = lb._client.store.conn
    served: dict[str, Matchup] = {}
    repeats = 0
    for _ in range(150):
        m = lb.next_matchup("alice", continue_when_settled=True)
        assert m is not None
        if m.is_repeat:
            repeats += 1
            original = served[votes.get_matchup(conn, m.id)["repeat_of"]]
            assert (m.left.media_id, m.right.media_id) == (
                original.right.media_id, original.left.media_id)
            assert votes.get_vote(conn, original.id)["rater"] == "alice"
        served[m.id] = m
        vote_truth(lb, m)
    assert 0.18 <= repeats / 150 <= 0.42
    originals = [votes.get_matchup(conn, i)["repeat_of"] for i in served]
    repeated = [o for o in originals if o is not None]
    assert len(repeated) == len(set(repeated))  # a pair is repeated at most once
    # repeats are not new information: the matchmaker does not count them
    assert lb.status().votes == 150 - repeats


def test_no_repeats_when_share_is_zero(board: BoardFactory) -> None:
    lb = board(5, 10, repeat_share=0.0)
    for _ in range(80):
        m = lb.next_matchup("alice", continue_when_settled=True)
        assert m is not None and not m.is_repeat
        vote_truth(lb, m)


def settle(lb: Leaderboard, raters: int = 5, limit: int = 3000) -> int:
    """Vote the truth until the board settles; return the number of votes."""
    for k in range(limit):
        m = lb.next_matchup(f"r{k % raters}")
        if m is None:
            return k
        vote_truth(lb, m)
    raise AssertionError(f"not settled after {limit} votes: {lb.status().message}")


def test_settled_board_serves_nothing_unless_asked(board: BoardFactory) -> None:
    lb = board(4, 10, repeat_share=0.0, max_pair_votes=5)
    settle(lb)
    status = lb.status()
    assert status.settled and status.message == "settled: thank you"
    assert [s.status for s in status.models] == ["placed"] * 4
    assert [s.rank for s in status.models] == [4, 3, 2, 1]
    assert lb.next_matchup("r0") is None
    assert lb.next_matchup("r0", continue_when_settled=True) is not None


def test_new_model_is_matched_first_and_placed(board: BoardFactory) -> None:
    lb = board(5, 10, repeat_share=0.0, max_pair_votes=8)
    settle(lb)
    board.add_model(lb, "m9", [f"prompt {q}" for q in range(10)])  # type: ignore[attr-defined]
    status = lb.status()
    assert not status.settled and status.message == "placing m9: 0 votes so far"
    assert {s.name: s.status for s in status.models}["m9"] == "placing"
    for k in range(MIN_PLACED_VOTES):
        m = lb.next_matchup(f"r{k % 5}")
        assert "m9" in (m.left.model, m.right.model)
        vote_truth(lb, m)
    settle(lb)
    final = {s.name: s for s in lb.status().models}
    assert final["m9"].status == "placed" and final["m9"].rank == 1


@pytest.mark.parametrize("strategy", ["information", "uniform"])
def test_no_model_is_left_unrated(board: BoardFactory, strategy: str) -> None:
    lb = board(12, 6, repeat_share=0.0)
    for k in range(60):
        m = lb.next_matchup(f"r{k % 4}", strategy)
        vote_truth(lb, m)
    counts = {s.name: s.votes for s in lb.status().models}
    assert min(counts.values()) >= 3, counts


def test_votes_from_another_client_are_seen(board: BoardFactory, client: Client) -> None:
    lb = board(3, 4, repeat_share=0.0)
    assert lb.status().votes == 0
    with Client(client.db_path) as other:
        lb2 = other.mri.get_leaderboard_by_id(lb.id)
        for _ in range(3):
            vote_truth(lb2, lb2.next_matchup("bob"))
    assert lb.status().votes == 3


def test_threads_serve_and_vote_concurrently(board: BoardFactory) -> None:
    lb = board(6, 10, repeat_share=0.05)
    errors: list[BaseException] = []

    def rate(name: str) -> None:
        try:
            for _ in range(15):
                m = lb.next_matchup(name, continue_when_settled=True)
                vote_truth(lb, m)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = lb.summary()["votes"]
    assert total == 60


def test_repeat_votes_stay_out_of_standings(board: BoardFactory) -> None:
    lb = board(4, 10, repeat_share=0.5)
    repeats = 0
    for _ in range(40):
        m = lb.next_matchup("alice", continue_when_settled=True)
        repeats += m.is_repeat
        vote_truth(lb, m)
    assert repeats > 0
    assert lb.summary()["votes"] == 40
    assert int(lb.get_standings(n_bootstrap=0)["total_matches"].sum()) == 2 * (40 - repeats)
    assert len(votes.vote_columns(lb._client.store.conn, lb.id, include_repeats=True)) == 40


def test_excluding_a_rater_takes_their_votes_out(board: BoardFactory) -> None:
    lb = board(3, 5, repeat_share=0.0)
    for rater in ("alice", "bob", "bob"):
        vote_truth(lb, lb.next_matchup(rater))
    assert lb.status().votes == 3
    with lb._client.store.write() as conn:
        votes.set_rater_excluded(conn, lb.id, "bob", True)
    assert lb.status().votes == 1
    with lb._client.store.write() as conn:
        votes.set_rater_excluded(conn, lb.id, "bob", False)
    assert lb.status().votes == 3


def test_status_of_a_board_without_pairs(board: BoardFactory) -> None:
    lb = board(1, 2)
    status = lb.status()
    assert not status.settled and status.votes == 0 and status.pairs_total == 0
    assert status.message == "waiting for models: two models need media for the same prompt"
    assert lb.next_matchup("alice") is None


def test_votes_are_spread_over_prompts(board: BoardFactory) -> None:
    lb = board(6, 10, repeat_share=0.0)
    prompts: dict[str, list[str]] = {}
    for k in range(90):
        m = lb.next_matchup(f"r{k % 6}", continue_when_settled=True)
        for side in (m.left, m.right):
            prompts.setdefault(side.model, []).append(m.prompt)
        vote_truth(lb, m)
    for model, used in prompts.items():
        assert len(set(used)) >= min(len(used), 10) - 1, (model, Counter(used))


def test_inverse_board_ranks_the_chosen_model_lower(board: BoardFactory) -> None:
    lb = board(3, 10, repeat_share=0.0, inverse_ranking=True, max_pair_votes=6)
    settle(lb)  # "which is worse?": the stronger model is chosen, so it ranks last
    assert [s.rank for s in lb.status().models] == [1, 2, 3]
