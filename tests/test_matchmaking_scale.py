"""The matchmaker on big boards (issue #17): a sparse fit, covariances by blocks of the order
and candidates from a stretch of the order, checked against the exact dense computation."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pytest

from test_matchmaking_bench import _bench

from ranking import RatingState
from rater import Client, Leaderboard
from rater.matchmaking import model
from rater.matchmaking.model import LocalPosterior, Posterior
from rater.matchmaking.pick import REGION, open_places
from rater.matchmaking.select import (
    CANDIDATE_WINDOW,
    MIN_PLACED_VOTES,
    SEPARATION_Z,
    analyse,
    information_values,
    separated,
)
from rater.matchmaking.state import BoardState, forget_states, seed_states, state_for
from rater.store import catalog

@pytest.fixture(autouse=True)
def _seeded() -> None:
    seed_states(17)
    yield
    seed_states(None)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-model board, 3 prompts, 20 votes per model, 90% between near neighbours."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    with Client(path) as client:
        _bench().build(client, 2000, 3, 1, 20_000, 50, near=10)
    return path


def _state(lb: Leaderboard) -> BoardState:
    store = lb._client.store
    state = state_for(store, lb.id)
    state.refresh(store.conn)
    return state


def _exact(state: BoardState) -> tuple[np.ndarray, np.ndarray]:
    """Reference: ranking.RatingState's dense fit and covariance of the same counts."""
    n = len(state.model_ids)
    games, wins = state.pairs.dense(n)
    rating = RatingState(state.model_names, games, wins, prior_precision=1.0 / model.PRIOR_SD**2)
    return rating.mu, rating.cov


def test_big_board_keeps_no_square_matrix_and_scores_only_neighbour_pairs(big: Path) -> None:
    with Client(big) as client:
        lb = client.mri.find_leaderboards("speed")[0]
        forget_states(client.store)
        state = _state(lb)
        n = len(state.model_ids)
        post = state.posterior
        assert isinstance(post, LocalPosterior)
        arrays = [v for v in vars(state).values() if isinstance(v, np.ndarray)]
        arrays += [v for v in vars(post).values() if isinstance(v, np.ndarray)]
        assert max(a.size for a in arrays) < n * n / 20  # the dense version held n x n counts
        analysis = analyse(state, lb.max_pair_votes)
        place = np.empty(n, dtype=np.intp)
        place[analysis.order] = np.arange(len(analysis.order))
        centres = open_places(state, analysis, {})
        assert 1 <= len(centres) <= 4
        for c in centres:
            region = np.arange(max(0, c - REGION // 2), min(n, c + REGION // 2))
            ca, cb, values = information_values(state, analysis, lb.max_pair_votes, {}, None, region)
            assert 0 < len(ca) <= REGION * CANDIDATE_WINDOW  # not n * (n - 1) / 2 = 1,999,000
            assert len(values) == len(ca) and np.isfinite(values).all()
            assert (np.abs(place[ca] - place[cb]) <= CANDIDATE_WINDOW).all()
            assert (np.abs(place[ca] - c) <= REGION // 2).all()


def test_big_board_fit_and_status_agree_with_the_exact_computation(big: Path) -> None:
    with Client(big) as client:
        lb = client.mri.find_leaderboards("speed")[0]
        forget_states(client.store)
        state = _state(lb)
        post = state.posterior
        mu, cov = _exact(state)
        assert np.abs(post.mu - mu).max() < 1e-6
        analysis = analyse(state, lb.max_pair_votes, check_budget=10_000)
        a, b = analysis.order[:-1], analysis.order[1:]
        exact_var = cov[a, a] + cov[b, b] - 2 * cov[a, b]
        assert (post.var_diff(a, b) <= exact_var * (1 + 1e-9)).all()  # block variances: lower bounds
        exact_sep = np.abs(mu[a] - mu[b]) >= SEPARATION_Z * np.sqrt(exact_var)
        capped = state.pair_games(a, b) >= lb.max_pair_votes
        assert (analysis.resolved == (exact_sep | capped)).all()
        # a status call checks a few pairs at a time and never claims an unchecked separation
        forget_states(client.store)
        status = lb.status()
        exact_placed = {state.model_names[k] for k in range(len(mu))}
        assert status.pairs_total == len(a) and status.pairs_resolved <= int((exact_sep | capped).sum())
        assert status.settled == all(m.status == "placed" for m in status.models)
        assert sorted(m.rank for m in status.models) == list(range(1, len(mu) + 1))
        assert {m.name for m in status.models} == exact_placed
        for m in status.models:
            assert m.status == "placing" or m.votes >= MIN_PLACED_VOTES


def test_separation_on_a_local_posterior_is_the_exact_rule() -> None:
    """Block variances are lower bounds, so pairs they separate are checked exactly before
    they count (a chain of 100 models, every other link decisive, plus random pairs up to 40
    places apart; blocks of 32 models)."""
    rng = np.random.default_rng(3)
    n = 100
    lo, hi = np.arange(n - 1), np.arange(1, n)
    games = np.full(n - 1, 400.0)
    wins = np.where(np.arange(n - 1) % 2 == 0, 300.0, 200.0)
    far_lo = rng.integers(0, n - 40, size=300)
    keys = np.unique(far_lo * n + far_lo + rng.integers(5, 40, size=300))
    lo, hi = np.concatenate([lo, keys // n]), np.concatenate([hi, keys % n])
    games = np.concatenate([games, np.ones(len(keys))])
    wins = np.concatenate([wins, np.ones(len(keys))])
    post = model.local_posterior(n, lo, hi, games, wins)
    g, w = np.zeros((n, n)), np.zeros((n, n))
    g[lo, hi] = g[hi, lo] = games
    w[lo, hi], w[hi, lo] = wins, games - wins
    rating = RatingState([f"m{k}" for k in range(n)], g, w, prior_precision=1.0 / model.PRIOR_SD**2)
    mu, cov = rating.mu, rating.cov
    np.testing.assert_allclose(post.mu, mu, atol=1e-6)
    a, b = post.order[:-1], post.order[1:]
    exact_var = cov[a, a] + cov[b, b] - 2 * cov[a, b]
    gap, sd = np.abs(post.mu[a] - post.mu[b]), np.sqrt(post.var_diff(a, b))
    assert (sd**2 <= exact_var * (1 + 1e-9)).all()
    exact = np.abs(mu[a] - mu[b]) >= SEPARATION_Z * np.sqrt(exact_var)
    looks = gap >= SEPARATION_Z * sd
    assert 20 <= exact.sum() < len(a) // 2 and not (exact & ~looks).any()
    wanted = np.ones(len(a), dtype=bool)
    assert not separated(post, a, b, gap, sd, wanted, 0).any()  # nothing checked yet: none
    some = separated(post, a, b, gap, sd, wanted, 10)
    assert 0 < some.sum() <= 10 and (some <= exact).all()
    assert (separated(post, a, b, gap, sd, wanted, 10_000) == exact).all()


def test_big_board_serves_valid_pairs_newcomer_first_never_a_pair_twice(big: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.db"
    path.write_bytes(big.read_bytes())
    with Client(path) as client:
        lb = client.mri.find_leaderboards("speed")[0]
        store = client.store
        prompt_ids = [p["id"] for p in catalog.list_prompts(store.conn, lb.id)]
        with store.write() as conn:  # a newcomer with media for every prompt, no votes yet
            mid = catalog.get_or_create_model(conn, lb.id, "newcomer", time.time())
            for q, pid in enumerate(prompt_ids):
                sha = hashlib.sha256(f"newcomer/{q}".encode()).hexdigest()
                catalog.insert_blob(conn, sha, "image", "image/png", "png", 100)
                catalog.insert_media(conn, lb.id, mid, pid, sha, "", time.time())
        media = {name: lb.model_media(name) for name in ("newcomer",)}
        seen: set[tuple[int, int]] = set()
        for k in range(MIN_PLACED_VOTES + 8):
            counts = {s.name: s.votes for s in lb.status().models}
            fewest = min(counts.values())
            m = lb.next_matchup("ann", continue_when_settled=True)
            assert m is not None and m.left.model != m.right.model
            pair = (min(m.left.media_id, m.right.media_id), max(m.left.media_id, m.right.media_id))
            assert pair not in seen
            seen.add(pair)
            if fewest < MIN_PLACED_VOTES:  # models still being placed come first, fewest votes first
                assert fewest in (counts[m.left.model], counts[m.right.model])
            if k == 0:  # the only model without votes
                assert "newcomer" in (m.left.model, m.right.model)
                side = m.left if m.left.model == "newcomer" else m.right
                assert side.path in media["newcomer"][m.prompt]
            lb.record_vote(m.id, "left", "ann")
        assert isinstance(_state(lb).posterior, LocalPosterior)
        newcomer = next(s for s in lb.status().models if s.name == "newcomer")
        assert newcomer.votes >= MIN_PLACED_VOTES // 2 and newcomer.rank is not None


def test_small_board_local_choice_equals_the_full_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the stretch of the order covers the board, the local computation is the dense
    one: same candidates, same values, same best pair, same stopping rule."""
    with Client(tmp_path / "small.db") as client:
        lb = _bench().build(client, 14, 3, 1, 400, 5)
        state = _state(lb)
        dense = state.posterior
        assert isinstance(dense, Posterior)
        dense_analysis = analyse(state, lb.max_pair_votes)
        n = len(state.model_ids)
        newcomer = int(dense_analysis.order[5])
        dense_values = [information_values(state, dense_analysis, lb.max_pair_votes, {}, focus)
                        for focus in (None, newcomer)]
        monkeypatch.setattr(model, "DENSE_MODELS", 0)
        forget_states(client.store)  # the board loaded afresh, with a local posterior
        state = _state(lb)
        local = state.posterior
        assert isinstance(local, LocalPosterior)
        np.testing.assert_allclose(local.mu, dense.mu, atol=1e-8)
        local_analysis = analyse(state, lb.max_pair_votes, check_budget=100)
        assert (local_analysis.order == dense_analysis.order).all()
        assert (local_analysis.resolved == dense_analysis.resolved).all()
        everything = np.arange(n)
        for focus, (ca, cb, values) in zip((None, newcomer), dense_values):
            la, lb_, lv = information_values(state, local_analysis, lb.max_pair_votes, {}, focus, everything)
            assert (la == ca).all() and (lb_ == cb).all()
            np.testing.assert_allclose(lv, values, rtol=1e-6, atol=1e-12)
            assert int(np.argmax(lv)) == int(np.argmax(values))
