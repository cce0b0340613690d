"""Simulated rating campaigns: how many votes each matchmaking strategy needs.

A campaign runs on a throwaway database through the same public API a real board uses
(``next_matchup``, ``record_vote``, ``get_standings``), with simulated raters whose choices
follow a known truth:

* every model has a true strength (evenly spread over ``+-spread`` logits) and, per prompt, a
  quality difference ``N(0, prompt_sd^2)`` centred so that the prompt effects of a model average
  to zero (its true place is therefore set by its strength alone);
* a rater prefers the left medium with probability ``F(d + position_bias)``, where ``d`` is the
  difference of the two media's true qualities and ``F`` the logistic (Bradley-Terry) or, for
  Thurstone noise, the normal CDF at ``d / 1.702`` (the same scale); a share ``random_share``
  of the raters vote at random.

Two experiments, each a median over seeds, for each strategy:

* **order**: votes until the published order (``get_standings(n_bootstrap=0)``, the same
  estimator for every strategy) reaches Kendall tau >= ``tau_target`` with the truth, checked
  every ``check_every`` votes;
* **newcomer**: starting from a settled board, a model with a random true strength is added;
  votes until its published rank is within +-1 of its true rank (checked after every vote).

:func:`run_campaigns` spreads the campaigns over processes; ``rater simulate`` and
``benchmarks/vote_efficiency.py`` print the summary.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.special import expit, ndtr

from ranking import RatingState

from rater.api.client import Client
from rater.api.leaderboard import Leaderboard
from rater.matchmaking.state import forget_states, seed_states
from rater.results.standings import load_votes

__all__ = [
    "EXPERIMENTS",
    "CampaignResult",
    "World",
    "kendall_tau",
    "make_media",
    "run_campaign",
    "run_campaigns",
]

EXPERIMENTS = ("order", "newcomer")


@dataclass(frozen=True)
class World:
    """The simulated setting (defaults: the figures quoted in the README)."""

    models: int = 20
    prompts: int = 30
    spread: float = 2.0
    prompt_sd: float = 0.3
    noise: str = "bradley_terry"  # or "thurstone"
    position_bias: float = 0.0
    random_share: float = 0.0
    raters: int = 40
    tau_target: float = 0.95
    check_every: int = 25
    max_votes: int = 20_000
    newcomer_max_votes: int = 1_000
    max_pair_votes: int = 60

    def __post_init__(self) -> None:
        if self.noise not in ("bradley_terry", "thurstone"):
            raise ValueError(f"noise must be 'bradley_terry' or 'thurstone', got {self.noise!r}")
        if self.models < 3 or self.prompts < 1 or self.raters < 1:
            raise ValueError("a world needs at least 3 models, 1 prompt and 1 rater")


@dataclass(frozen=True)
class CampaignResult:
    """One campaign: ``votes`` to reach the goal, or None if ``limit`` votes did not."""

    experiment: str
    strategy: str
    seed: int
    votes: int | None
    limit: int


def make_media(folder: Path, models: int, prompts: int) -> list[list[Path]]:
    """One tiny PNG per model and prompt, all with distinct bytes (ids encoded in pixels)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(models):
        row = []
        for q in range(prompts):
            img = Image.new("RGB", (4, 4), (k % 256, q % 256, (k * 7 + q * 13) % 256))
            img.putpixel((0, 0), (k // 256, q // 256, 255))
            path = folder / f"m{k}-p{q}.png"
            img.save(path, format="PNG")
            row.append(path)
        out.append(row)
    return out


def _media_paths(folder: Path, world: World) -> list[list[Path]]:
    paths = [[folder / f"m{k}-p{q}.png" for q in range(world.prompts)] for k in range(world.models + 1)]
    return paths if paths[-1][-1].exists() else make_media(folder, world.models + 1, world.prompts)


def kendall_tau(order: Sequence[str], truth: Sequence[str]) -> float:
    """Kendall's tau-a between two orderings of the same names (best first)."""
    pos = {name: k for k, name in enumerate(order)}
    ranks = np.array([pos[name] for name in truth])
    n = len(ranks)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    agree = np.sign(ranks[None, :] - ranks[:, None])[upper]
    return float(agree.sum() / upper.sum())


class _Truth:
    """True strengths, prompt effects and rater kinds of one seed."""

    def __init__(self, world: World, seed: int) -> None:
        rng = np.random.default_rng(seed)
        n = world.models
        self.strength = list(rng.permutation(np.linspace(-world.spread, world.spread, n)))
        # the newcomer of the "newcomer" experiment: anywhere on the board
        self.strength.append(float(rng.uniform(-world.spread, world.spread)))
        effect = rng.normal(0.0, world.prompt_sd, size=(n + 1, world.prompts))
        self.effect = effect - effect.mean(axis=1, keepdims=True)
        self.random_rater = rng.random(world.raters) < world.random_share
        self.world = world
        self.rng = np.random.default_rng(seed + 1_000_003)

    def order(self, models: int) -> list[str]:
        return [f"model{k}" for k in sorted(range(models), key=lambda k: -self.strength[k])]

    def choose(self, left: int, right: int, q: int, rater: int) -> str:
        if self.random_rater[rater]:
            return "left" if self.rng.random() < 0.5 else "right"
        d = (self.strength[left] + self.effect[left, q]) - (self.strength[right] + self.effect[right, q])
        d += self.world.position_bias
        p = expit(d) if self.world.noise == "bradley_terry" else ndtr(d / 1.702)
        return "left" if self.rng.random() < p else "right"


def _open_board(folder: Path, world: World, media: list[list[Path]], models: int) -> tuple[Client, Leaderboard]:
    client = Client(folder / "sim.db")
    client.store.set_synchronous("OFF")  # a throwaway database: skip the fsyncs
    prompts = [f"prompt {q}" for q in range(world.prompts)]
    lb = client.mri.create_new_leaderboard(
        "simulation", "Which is better?", prompts, repeat_share=0.0,
        max_pair_votes=world.max_pair_votes,
    )
    for k in range(models):
        lb.evaluate_model(f"model{k}", media[k], prompts)
    return client, lb


def _votes(
    lb: Leaderboard, truth: _Truth, strategy: str, settle: bool = False
) -> Iterator[tuple[int, int, int, str]]:
    """Serve and vote until the board settles (``settle``) or forever, yielding
    ``(votes so far, left model, right model, choice)``."""
    world, rng = truth.world, truth.rng
    count = 0
    while True:
        first = int(rng.integers(world.raters))
        for r in (first + k for k in range(world.raters)):
            rater = r % world.raters
            m = lb.next_matchup(f"rater{rater}", strategy, continue_when_settled=not settle)
            if m is not None:
                break
        else:
            return  # settled (or every rater has seen every pair)
        left, right = int(m.left.model[5:]), int(m.right.model[5:])
        choice = truth.choose(left, right, int(m.prompt.split()[-1]), rater)
        lb.record_vote(m.id, choice, m.rater)
        count += 1
        yield count, left, right, choice


class _FastOrder:
    """The published order, kept up to date vote by vote.

    ``compute_standings`` with the default ``plackett_luce`` method fits, for two-player votes,
    the Bradley-Terry model under OpenSkill's prior; :class:`ranking.RatingState` fits the same
    posterior mode incrementally, and models without votes go last by name as in the
    standings. A campaign's success is confirmed with ``get_standings`` itself.
    """

    def __init__(self, lb: Leaderboard) -> None:
        self.state = RatingState.from_votes(load_votes(lb._client.store, lb.id))

    def add(self, left: int, right: int, choice: str) -> None:
        self.state.add(f"model{left}", f"model{right}", {"left": 1.0, "right": 0.0, "tie": 0.5}[choice])

    def order(self) -> list[str]:
        mu = self.state.refit().mu
        played = self.state.n_games > 0
        names = self.state.models
        return sorted(names, key=lambda name: (not played[names.index(name)], -mu[names.index(name)], name))


def _published(lb: Leaderboard) -> list[str]:
    return list(lb.get_standings(n_bootstrap=0)["name"])


def _order_campaign(lb: Leaderboard, truth: _Truth, strategy: str) -> int | None:
    world = truth.world
    target = truth.order(world.models)
    fast = _FastOrder(lb)
    for count, left, right, choice in _votes(lb, truth, strategy):
        fast.add(left, right, choice)
        if count % world.check_every == 0 and kendall_tau(fast.order(), target) >= world.tau_target:
            if kendall_tau(_published(lb), target) >= world.tau_target:
                return count
        if count >= world.max_votes:
            break
    return None


def _newcomer_campaign(
    lb: Leaderboard, truth: _Truth, strategy: str, media: list[list[Path]]
) -> tuple[int | None, int | None]:
    """Votes until the newcomer first sits within +-1 rank of its true place, and votes after
    which it stays there until ``newcomer_max_votes`` (None: not by then)."""
    world = truth.world
    name = f"model{world.models}"
    lb.evaluate_model(name, media[world.models], [f"prompt {q}" for q in range(world.prompts)])
    true_rank = truth.order(world.models + 1).index(name)
    fast = _FastOrder(lb)
    first: int | None = None
    stays: int | None = None
    for count, left, right, choice in _votes(lb, truth, strategy):
        fast.add(left, right, choice)
        close = abs(fast.order().index(name) - true_rank) <= 1
        if close and first is None:
            first = count
        if close and stays is None:
            stays = count
        elif not close:
            stays = None
        if count >= world.newcomer_max_votes:
            break
    if stays is not None and abs(_published(lb).index(name) - true_rank) > 1:
        stays = None
    return first, stays


def _settled_board(folder: Path, world: World, seed: int, media: list[list[Path]]) -> Path:
    """A database holding a settled board of ``world.models`` models, rated with the
    information strategy (cached per seed; ``votes.txt`` beside it says how many votes)."""
    db = folder / f"settled-{seed}" / "sim.db"
    if not db.exists():
        seed_states(seed)
        client, lb = _open_board(db.parent, world, media, world.models)
        votes = 0
        for votes, *_ in _votes(lb, _Truth(world, seed), "information", settle=True):
            pass
        (db.parent / "votes.txt").write_text(str(votes))
        if not lb.status().settled:
            raise RuntimeError(f"seed {seed}: the board did not settle")
        forget_states(client.store)
        client.close()
    return db


def run_campaign(
    experiment: str, strategy: str, seed: int, world: World, media_folder: Path, work: Path
) -> list[CampaignResult]:
    """Run one campaign in its own temporary database under ``work``.

    The "newcomer" campaign gives two results: ``newcomer-first`` (votes until the new model
    first sits within +-1 rank of its true place) and ``newcomer`` (votes after which it stays
    there up to ``newcomer_max_votes``).
    """
    media = _media_paths(media_folder, world)
    truth = _Truth(world, seed)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        folder = Path(tmp)
        seed_states(seed * 2 + (strategy == "uniform"))
        if experiment == "order":
            client, lb = _open_board(folder, world, media, world.models)
            results = [CampaignResult("order", strategy, seed, _order_campaign(lb, truth, strategy),
                                      world.max_votes)]
        elif experiment == "newcomer":
            source = _settled_board(work, world, seed, media)
            shutil.copytree(source.parent, folder / "board")
            client = Client(folder / "board" / "sim.db")
            client.store.set_synchronous("OFF")
            lb = client.mri.find_leaderboards("simulation")[0]
            truth = _Truth(world, seed)  # fresh random stream for the campaign itself
            first, stays = _newcomer_campaign(lb, truth, strategy, media)
            results = [
                CampaignResult("newcomer-first", strategy, seed, first, world.newcomer_max_votes),
                CampaignResult("newcomer", strategy, seed, stays, world.newcomer_max_votes),
            ]
        else:
            raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}")
        forget_states(client.store)
        client.close()
    seed_states(None)
    return results


def _run(task: tuple[str, str, int, dict, str, str]) -> list[CampaignResult]:
    experiment, strategy, seed, fields, media_folder, work = task
    world = World(**fields)
    if experiment == "settle":
        db = _settled_board(Path(work), world, seed, _media_paths(Path(media_folder), world))
        votes = int((db.parent / "votes.txt").read_text())
        return [CampaignResult("settle", "information", seed, votes, world.max_votes)]
    return run_campaign(experiment, strategy, seed, world, Path(media_folder), Path(work))


def run_campaigns(
    world: World,
    seeds: Sequence[int],
    *,
    experiments: Sequence[str] = EXPERIMENTS,
    strategies: Sequence[str] = ("information", "uniform"),
    workers: int = 1,
    progress: Callable[[CampaignResult], None] | None = None,
) -> list[CampaignResult]:
    """Every (experiment, strategy, seed) campaign, on ``workers`` processes.

    :param progress: called with each result as it arrives (in completion order).
    """
    with tempfile.TemporaryDirectory(prefix="rater-sim-") as tmp:
        work = Path(tmp)
        make_media(work / "media", world.models + 1, world.prompts)
        common = (asdict(world), str(work / "media"), str(work))
        # settled boards are built once per seed, before the newcomer campaigns copy them
        settle = [("settle", "information", seed, *common) for seed in seeds] if (
            "newcomer" in experiments) else []
        tasks = [(e, s, seed, *common) for e in experiments for seed in seeds for s in strategies]
        results: list[CampaignResult] = []
        if workers <= 1:
            for task in settle:
                results.extend(_run(task))
            for task in tasks:
                results.extend(_run(task))
                if progress:
                    progress(results[-1])
            return results
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for done in pool.map(_run, settle):
                results.extend(done)
            for done in pool.imap_unordered(_run, tasks):
                results.extend(done)
                if progress:
                    progress(done[-1])
        return results
