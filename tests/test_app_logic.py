"""The functions and the session object behind the rating app (no Streamlit involved)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rater import ValidationError, VoteError
from rater.matchmaking.service import BoardStatus, Matchup, MatchupSide, ModelStatus, VoteReceipt
from rater.results.quality import RaterStats
from rater.app.media_files import media_format, media_kind
from rater.app.session import (
    RatingSession,
    board_from_query,
    button_labels,
    check_rater_name,
    escape_markdown,
    nothing_left_message,
    passcode_ok,
    progress_lines,
    rater_rows,
    standings_rows,
)
from rater.store import votes

from app_support import make_board, shown


def status(settled=False, votes_=0, models=(("m1", "placed", 10, 1), ("m2", "placing", 4, 2)),
           message="placing m2: 4 votes so far") -> BoardStatus:
    return BoardStatus(settled, votes_, [ModelStatus(*m) for m in models], message, 0, 1)


def test_rater_names() -> None:
    assert check_rater_name("  Ana María ") == "Ana María"
    for bad in ("", "   ", "x" * 61, "tab\tname", None):
        with pytest.raises(ValidationError, match="your name"):
            check_rater_name(bad)


def test_passcodes() -> None:
    assert passcode_ok("anything", None) and passcode_ok("", "")
    assert passcode_ok("s3cret", "s3cret") and passcode_ok("pässwört", "pässwört")
    assert not passcode_ok("s3cre", "s3cret") and not passcode_ok(None, "s3cret")
    assert not passcode_ok("", "s3cret")


def test_button_labels(client, png) -> None:
    normal = make_board(client, png, models=2, prompts=1)
    inverse = make_board(client, png, models=2, prompts=1, inverse_ranking=True)
    for lb, word in ((normal, "better"), (inverse, "worse")):
        labels = button_labels(lb)
        assert (labels.left, labels.right, labels.tie, labels.skip) == (
            f"A is {word}", f"B is {word}", "Can't decide", "Skip")


def test_progress_lines() -> None:
    assert progress_lines(status(votes_=1234), 3) == [
        "Your votes this session: 3", "Votes on this leaderboard: 1,234",
        "Placing a new model: fewer than 10 votes so far",  # never its name
    ]
    many = status(models=(("m1", "placed", 40, 1), ("m2", "placing", 27, 2)), message="placing m2: 27 votes so far")
    assert progress_lines(many, 0)[-1] == "Placing a new model: 20+ votes so far"  # steps of ten
    assert progress_lines(status(True, 50, message="settled: thank you"), 0)[-1] == "Settled: thank you"


def test_nothing_left_messages() -> None:
    assert "nothing to compare yet" in nothing_left_message(status(models=(("m1", "placing", 0, 1),)))
    assert "nothing to compare yet" in nothing_left_message(
        status(models=(("m1", "placing", 0, None), ("m2", "placing", 0, None))))
    assert "settled" in nothing_left_message(status(settled=True))
    assert "seen every pair" in nothing_left_message(status(settled=True), keep_going=True)
    assert "seen every pair" in nothing_left_message(status())


WJ = "\u2060"  # the invisible word joiner escape_markdown puts inside emoji, icons and bare links


@pytest.mark.parametrize(("text", "source"), [
    ("**bold** [x](http://y) $x$ # h", rf"\*\*bold\*\* \[x\]\(http\:{WJ}//y\) \$x\$ \# h"),
    ("Is it $5 or $10?", r"Is it \$5 or \$10?"),
    ("_x_ ~~s~~ `c` | a | <b>x</b> &amp;", r"\_x\_ \~\~s\~\~ \`c\` \| a \| \<b\>x\</b\> \&amp;"),
    (":red[alert] :smile: :+1:", rf"\:{WJ}red\[alert\] \:{WJ}smile: \:{WJ}\+1\:"),
    (":material/home: :streamlit:", rf"\:{WJ}material/home: \:{WJ}streamlit\:"),
    ("www.x.org a@b.org mailto:c", rf"www{WJ}\.x\.org a@{WJ}b\.org mailto\:{WJ}c"),
    ("a -> b <= c --", rf"a \-{WJ}\> b \<{WJ}\= c \-{WJ}\-"),
    ("x->y model--v2", r"x\-\>y model\-\-v2"),  # arrows only between spaces: left alone
    ("Votes: 3, time 10:30", rf"Votes: 3, time 10\:{WJ}30"),  # ": " starts nothing
    ("Title\n===", r"Title \=\=\="),  # no setext heading: one line
    ("  1. a\n\n    code\r\n- b  ", r"1\. a code \- b"),  # no list, no code block
    ("plain text", "plain text"),
])
def test_markdown_is_shown_literally(text, source) -> None:
    assert escape_markdown(text) == source


def test_escaped_lines() -> None:
    assert escape_markdown("# one\n  two\n\n\n- three\r\n", lines=True) == (
        "\\# one  \ntwo\n\n\\- three")
    assert escape_markdown("one line", lines=True) == "one line"


@pytest.mark.parametrize("text", [
    "**bold** _x_ [click](https://evil.example) :red[alert] <b>x</b> $5 or $10",
    "\\ ` * _ { } [ ] ( ) # + - . ! | < > ~ $ : = & ' \" % , / ; ? @ ^",
    "naïve café 模型 🎨 a->b x:y",
])
def test_escaping_keeps_every_character(text) -> None:
    """Only backslashes and invisible joiners are added: the reader sees the text as typed."""
    assert shown(escape_markdown(text)) == text


@pytest.mark.parametrize(("name", "mime", "kind"), [
    ("a.mp4", "video/mp4", "video"), ("a.webm", "video/webm", "video"),
    ("a.wav", None, "audio"), ("a.mp3", "audio/mpeg", "audio"), ("a.png", "image/png", "image"),
])
def test_media_formats(name, mime, kind) -> None:
    assert media_kind(Path(name)) == kind
    if mime:
        assert media_format(name) == mime
    assert media_format(name).startswith(kind)


def test_board_from_query(client, png) -> None:
    lb = make_board(client, png, models=2, prompts=1)
    assert board_from_query(client, None) == (None, None)
    assert board_from_query(client, lb.id)[0].id == lb.id
    assert board_from_query(client, [lb.id])[0].id == lb.id
    board, problem = board_from_query(client, "zzzz")
    assert board is None and "'zzzz'" in problem


def test_tables() -> None:
    rows = rater_rows([RaterStats("ana", 10, 2, 0.5, 0.625, 3.25, True, 4, 1, 0.25, "gold accuracy 25%"),
                       RaterStats("ben", 0, 0, None, None, None, False)])
    assert rows == [
        {"Rater": "ana", "Votes": 10, "Repeats": 2, "Agreement %": 50.0, "Left rate %": 62.5,
         "Median seconds": 3.2, "Gold votes": 4, "Gold accuracy %": 25.0, "Excluded": True,
         "Reason": "gold accuracy 25%"},
        {"Rater": "ben", "Votes": 0, "Repeats": 0, "Agreement %": None, "Left rate %": None,
         "Median seconds": None, "Gold votes": 0, "Gold accuracy %": None, "Excluded": False,
         "Reason": None},
    ]
    df = pd.DataFrame({"rank": [1], "name": ["m"], "score": [1012.4], "ci_low": [990.6],
                       "ci_high": [1030.2], "rank_low": [1], "rank_high": [2], "tied_group": [0],
                       "wins": [3], "ties": [1], "total_matches": [5], "win_rate": [0.7]})
    out = standings_rows(df)
    assert list(out.columns) == ["rank", "name", "score", "ci_low", "ci_high", "rank_low",
                                 "rank_high", "wins", "ties", "total_matches", "win_rate"]
    assert out.iloc[0].to_dict() == {
        "rank": 1, "name": "m", "score": 1012.0, "ci_low": 991.0, "ci_high": 1030.0, "rank_low": 1,
        "rank_high": 2, "wins": 3, "ties": 1, "total_matches": 5, "win_rate": 70.0}


# -- the session: votes are written once, before moving on ---------------------------------------


@pytest.fixture
def board(client, png):
    return make_board(client, png, models=3, prompts=2, repeat_share=0.0)


def stored(client, matchup_id):
    return votes.get_vote(client.store.conn, matchup_id)


def test_double_click_counts_once(client, board) -> None:
    s = RatingSession(board, "ana")
    first = s.pair()
    assert s.vote(first.id, "left").counted
    assert s.vote(first.id, "right") is None  # the second click of a double click
    assert stored(client, first.id)["choice"] == "left" and s.session_votes == 1
    assert s.current is None and s.pair().id != first.id


def test_resubmission_from_a_new_browser_session_counts_once(client, board) -> None:
    before = RatingSession(board, "ana")
    pair = before.pair()
    before.vote(pair.id, "tie")
    after = RatingSession(board, "ana")  # a refresh starts a new session
    receipt = after.vote(pair.id, "left")
    assert receipt == VoteReceipt(pair.id, "tie", False)
    assert after.session_votes == 0 and stored(client, pair.id)["choice"] == "tie"


def test_a_stale_click_does_not_move_the_screen(client, board) -> None:
    s = RatingSession(board, "ana")
    first = s.pair()
    s.skip(first.id)
    second = s.pair()
    s.vote(first.id, "left")  # the old pair's button, clicked late: already answered (skipped)
    assert stored(client, first.id) is None and s.current.id == second.id


def test_prepared_pair_is_shown_next_and_never_twice_in_a_row(client, board) -> None:
    s = RatingSession(board, "ana")
    first = s.pair()
    s.prepare_next()
    prepared = s.upcoming
    assert prepared is not None and {prepared.left.media_id, prepared.right.media_id} != {
        first.left.media_id, first.right.media_id}
    s.vote(first.id, "right")
    assert s.pair() is prepared


def side(folder: Path, i: int) -> MatchupSide:
    path = folder / f"{i}.png"
    path.write_bytes(b"stand-in")  # on disk: the session skips pairs whose files are missing
    return MatchupSide(path, "image", f"model{i}", i, f"{i:064d}")


class FakeBoard:
    """Serves the same pair again and again; refuses votes when told to."""

    show_prompt_asset = False

    def __init__(self, folder: Path, refuse: bool = False) -> None:
        self.folder, self.refuse, self.served = folder, refuse, 0

    def next_matchup(self, rater, continue_when_settled=False):
        self.served += 1
        one, two = side(self.folder, 1), side(self.folder, 2)
        left, right = (one, two) if self.served % 2 else (two, one)
        return Matchup(f"m{self.served}", "b", "p", None, left, right, rater, False)

    def catalog_version(self):
        return 0

    def record_vote(self, matchup_id, choice, rater):
        if self.refuse:
            raise VoteError("disk full")
        return VoteReceipt(matchup_id, choice, True)


def test_a_prepared_pair_equal_to_the_current_one_is_dropped(tmp_path) -> None:
    s = RatingSession(FakeBoard(tmp_path), "ana")
    s.pair()
    s.prepare_next()
    assert s.upcoming is None


def test_a_refused_vote_keeps_the_pair_on_screen(tmp_path) -> None:
    s = RatingSession(FakeBoard(tmp_path, refuse=True), "ana")
    pair = s.pair()
    with pytest.raises(VoteError):
        s.vote(pair.id, "left")
    assert s.current is pair and s.answered(pair.id) is None  # the rater can try again
    with pytest.raises(ValidationError):
        s.vote(pair.id, "both")
