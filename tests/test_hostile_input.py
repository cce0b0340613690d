"""Hostile and broken input: every case is a clear error naming the problem, and nothing changes.

"Nothing changes" is checked on both backends by a dump of every table and the schema
(``tests/db_dump.py``) and by the media folder's file list with each file's sha256 (on
PostgreSQL: this host's media cache; the media bytes themselves are a table). On SQLite, where WAL
mode makes a plain byte compare of the database file meaningless (committed data may sit in
``-wal`` for a while), also: after ``PRAGMA wal_checkpoint(TRUNCATE)`` before *and* after the
call, the main database file is byte-for-byte identical and the ``-wal`` is empty (a rolled-back
write leaves no committed frame for the checkpoint to copy, so the file is untouched).

Database files that are not (or no longer) ours are in ``test_hostile_database.py``.

Decision on ``..`` in paths: a manifest may not climb out of its folder (a manifest from someone
else must not reach into arbitrary folders), but the Python API takes paths from the program
that calls it, which already has the user's file access, so ``..`` is accepted there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import make_png
from db_dump import snapshot

from rater import (
    Client,
    LeaderboardNotFound,
    MatchupNotFound,
    MediaError,
    UnregisteredPromptError,
    ValidationError,
    VoteError,
)
from rater.cli import cli

#: Every case runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

PROMPTS = ["A red sun over blue mountains", "A sailboat on calm water"]
HOSTILE = [
    '<script>alert("pwned")</script>',
    "<img src=x onerror=alert(1)> & \"quotes\" 'single'",
    "مرحبا بالعالم \u202eevil.exe",
    "שלום 🎨🖌️👩🏽‍🎨",
    "{{ jinja }} {% raw %} ${shell} `rm -rf /`",
]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state(client: Client) -> dict[str, Any]:
    """Everything a failed call must leave as it was (see the module docstring)."""
    found = snapshot(client.store)
    if client.store.path is None:  # a server database: nothing more to compare
        return found
    conn = client.store.conn
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "checkpoint blocked: a transaction was left open"
    path = client.store.path
    wal = Path(f"{path}-wal")
    return {**found, "db": _sha(path.read_bytes()), "wal": wal.stat().st_size if wal.exists() else 0}


@dataclass
class World:
    """A board with one model, a served matchup, and a folder for bad files."""

    client: Client
    tmp: Path

    @property
    def lb(self) -> Any:
        return self.client.mri.get_leaderboard_by_id(self.board_id)

    def file(self, name: str, data: bytes) -> Path:
        path = self.tmp / "bad" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def png(self, seed: int, name: str | None = None, size: int = 8) -> Path:
        return make_png(self.tmp / "good" / (name or f"{seed}.png"), seed, size)

    def add(self, media: list[Any], prompts: list[Any], name: str = "newcomer") -> Any:
        return self.lb.evaluate_model(name, media, prompts)

    def manifest(self, name: str, text: str | bytes) -> Any:
        from rater.intake.manifest import read_manifest

        path = self.tmp / "good" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        items = read_manifest(path)
        return self.add(items.media, items.prompts)

    def served(self) -> Any:
        """The matchup served to ``ann`` (served once, on first use)."""
        if not hasattr(self, "_served"):
            self._served = self.lb.next_matchup("ann")
            assert self._served is not None
        return self._served


@pytest.fixture
def world(db_location: str, tmp_path: Path) -> World:
    client = Client(db_location, create=True, max_media_bytes=4096)
    lb = client.mri.create_new_leaderboard("Hostile", "Which is better?", PROMPTS, True)
    w = World(client, tmp_path)
    w.board_id = lb.id  # type: ignore[attr-defined]
    w.add([w.png(1), w.png(2)], PROMPTS, name="alpha")
    w.add([w.png(3), w.png(4)], PROMPTS, name="beta")
    yield w
    client.close()


def _truncated_png(w: World) -> Path:
    data = w.png(50, size=64).read_bytes()
    return w.file("truncated.png", data[: len(data) // 2])


def _corrupt_png(w: World) -> Path:
    data = bytearray(w.png(51, size=64).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(16)
    return w.file("corrupt.png", bytes(data))


def _symlink_loop(w: World) -> Path:
    a, b = w.tmp / "bad" / "loop-a.png", w.tmp / "bad" / "loop-b.png"
    a.parent.mkdir(parents=True, exist_ok=True)
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def _fifo(w: World) -> Path:
    path = w.tmp / "bad" / "pipe.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)  # reading it would block forever: it must be refused unread
    return path


_HTML = b"<html><body><script>alert(document.cookie)</script>" + b"<p>hello</p>" * 40 + b"</body></html>"


def _link_out(w: World) -> str:
    """A symlink in the manifest's folder to a PNG outside it."""
    target = w.file("target.png", w.png(62).read_bytes())
    link = w.tmp / "good" / "out.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return "out.png"


def _vote(w: World, *, matchup: str | None = None, choice: str = "left", rater: str = "ann") -> Any:
    served = w.served()
    return w.lb.record_vote(matchup if matchup is not None else served.id, choice, rater)


Case = tuple[str, Callable[[World], Any], type[Exception], str]

API_CASES: list[Case] = [
    # prompts
    ("unregistered prompt", lambda w: w.add([w.png(10)], ["A purple cow"]),
     UnregisteredPromptError, r"prompt 'A purple cow' is not registered"),
    ("unregistered prompt suggests closest", lambda w: w.add([w.png(10)], ["A red sun over blue mountain"]),
     UnregisteredPromptError, r"did you mean 'A red sun over blue mountains'\?"),
    ("prompt differs in case", lambda w: w.add([w.png(10)], [PROMPTS[0].upper()]),
     UnregisteredPromptError, r"differs only in case or whitespace from 'A red sun"),
    ("prompt differs in whitespace", lambda w: w.add([w.png(10)], ["  A red sun  over blue mountains"]),
     UnregisteredPromptError, r"differs only in case or whitespace"),
    ("prompt is not text", lambda w: w.add([w.png(10)], [42]), ValidationError, r"prompts\[0\] must be text"),
    ("length mismatch", lambda w: w.add([w.png(10), w.png(11)], [PROMPTS[0]]),
     ValidationError, r"same length: got 2 media and 1 prompts"),
    ("empty lists", lambda w: w.add([], []), ValidationError, r"media is empty"),
    ("media is one string", lambda w: w.add(str(w.png(10)), [PROMPTS[0]]),  # type: ignore[arg-type]
     ValidationError, r"media must be a list"),
    # files
    ("missing file", lambda w: w.add([w.tmp / "nope.png"], [PROMPTS[0]]), MediaError, r"not found: .*nope\.png"),
    ("directory", lambda w: w.add([w.tmp], [PROMPTS[0]]), MediaError, r"is a directory"),
    ("zero-byte file", lambda w: w.add([w.file("empty.png", b"")], [PROMPTS[0]]),
     MediaError, r"empty \(0 bytes\)"),
    ("truncated image", lambda w: w.add([_truncated_png(w)], [PROMPTS[0]]),
     MediaError, r"corrupt or truncated image: .*truncated\.png"),
    ("corrupt image", lambda w: w.add([_corrupt_png(w)], [PROMPTS[0]]),
     MediaError, r"corrupt or truncated image: .*corrupt\.png"),
    ("text file renamed .png", lambda w: w.add([w.file("notes.png", b"just some notes\n" * 4)], [PROMPTS[0]]),
     MediaError, r"not a supported media file: .*notes\.png"),
    ("unsupported type (PDF)", lambda w: w.add([w.file("doc.mp4", b"%PDF-1.4\n" + bytes(200))], [PROMPTS[0]]),
     MediaError, r"not a supported media file: .*doc\.mp4"),
    ("unsupported image format (TIFF)", lambda w: w.add([w.file("img.png", b"II*\x00" + bytes(200))], [PROMPTS[0]]),
     MediaError, r"not a supported media file"),
    ("larger than max_media_bytes", lambda w: w.add([w.file("big.wav", b"RIFF" + bytes(5000))], [PROMPTS[0]]),
     MediaError, r"too large: .*big\.wav is 5,004 bytes, the limit is 4,096"),
    ("symlink loop", lambda w: w.add([_symlink_loop(w)], [PROMPTS[0]]),
     MediaError, r"cannot read media file .*loop-a\.png: Too many levels of symbolic links"),
    ("a named pipe", lambda w: w.add([_fifo(w)], [PROMPTS[0]]), MediaError, r"not a regular file: .*pipe\.png"),
    ("same media twice", lambda w: w.add([w.png(10), w.png(10)], [PROMPTS[0], PROMPTS[0]]),
     MediaError, r"media\[1\] .* is the same file as media\[0\]"),
    ("media already stored for the model", lambda w: w.add([w.png(1)], [PROMPTS[0]], name="alpha"),
     MediaError, r"already stored for model 'alpha'"),
    ("media item is not a path", lambda w: w.add([None], [PROMPTS[0]]), MediaError, r"media\[0\] must be a file path"),
    ("HTML after an ftypisom prefix", lambda w: w.add([w.file("page.mp4", b"\x00\x00\x00\x18ftypisom" + _HTML)], [PROMPTS[0]]),
     MediaError, r"corrupt or truncated MP4 file: .*page\.mp4"),
    ("HTML after an ID3 prefix", lambda w: w.add([w.file("page.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + _HTML)], [PROMPTS[0]]),
     MediaError, r"corrupt or truncated MP3 file: .*page\.mp3"),
    ("HTML after an OggS prefix", lambda w: w.add([w.file("page.ogg", b"OggS" + _HTML)], [PROMPTS[0]]),
     MediaError, r"corrupt or truncated OGG file: .*page\.ogg"),

    # model names
    ("model name empty", lambda w: w.add([w.png(10)], [PROMPTS[0]], name=""), ValidationError, r"model name is empty"),
    ("model name whitespace", lambda w: w.add([w.png(10)], [PROMPTS[0]], name=" \t "),
     ValidationError, r"model name is empty \(only whitespace\)"),
    ("model name 10,000 characters", lambda w: w.add([w.png(10)], [PROMPTS[0]], name="m" * 10_000),
     ValidationError, r"model name is 10,000 characters long; the limit is 200"),
    ("model name control characters", lambda w: w.add([w.png(10)], [PROMPTS[0]], name="evil\x00\x1b[31m"),
     ValidationError, r"model name contains control characters \('\\x00', '\\x1b'\)"),
    ("model name only invisible characters", lambda w: w.add([w.png(10)], [PROMPTS[0]], name="\u200b\u202e\u2060"),
     ValidationError, r"model name has nothing visible"),
    ("model name not text", lambda w: w.add([w.png(10)], [PROMPTS[0]], name=None),
     ValidationError, r"model name must be text"),
    # leaderboards
    ("unknown leaderboard id", lambda w: w.client.mri.get_leaderboard_by_id("nosuchid"),
     LeaderboardNotFound, r"no leaderboard with id 'nosuchid'"),
    ("SQL in a leaderboard id", lambda w: w.client.mri.get_leaderboard_by_id("x' OR '1'='1"),
     LeaderboardNotFound, r"no leaderboard with id \"x' OR '1'='1\""),
    ("missing prompt asset", lambda w: w.client.mri.create_new_leaderboard(
        "B", "Which?", ["a"], False, prompt_assets=[w.tmp / "gone.png"]), MediaError, r"not found: .*gone\.png"),
    ("leaderboard with no prompts", lambda w: w.client.mri.create_new_leaderboard("B", "Which?", [], False),
     ValidationError, r"prompts is empty"),
    ("leaderboard with duplicate prompts", lambda w: w.client.mri.create_new_leaderboard("B", "Which?", ["a", "a"], False),
     ValidationError, r"prompts\[1\] repeats prompts\[0\]"),
    ("leaderboard name control characters", lambda w: w.client.mri.create_new_leaderboard("B\x07", "Which?", ["a"], False),
     ValidationError, r"leaderboard name contains control characters"),
    ("whitespace-only prompt", lambda w: w.client.mri.create_new_leaderboard("B", "Which?", ["a", "  "], False),
     ValidationError, r"prompts\[1\] is empty \(only whitespace\)"),
    ("tags entry is not a list", lambda w: w.client.mri.create_new_leaderboard("B", "Which?", ["a"], False, tags=[None]),
     ValidationError, r"tags\[0\] must be a list of tags, got NoneType"),
    ("tags given as a generator", lambda w: w.client.mri.create_new_leaderboard(
        "B", "Which?", ["a"], False, tags=(t for t in [["x"]])), ValidationError, r"tags must be a list"),
    ("prompt asset is a number", lambda w: w.client.mri.create_new_leaderboard(
        "B", "Which?", ["a"], False, prompt_assets=[5]), ValidationError, r"prompt_assets\[0\] must be a file path or None"),
    # standings options
    ("standings tags not text", lambda w: w.lb.get_standings(tags=5), ValidationError, r"tags must be a tag or a list"),
    ("standings unknown method", lambda w: w.lb.get_standings(method="nope"), ValidationError, r"Unknown rating method 'nope'"),
    ("standings confidence above 1", lambda w: w.lb.get_standings(confidence=2), ValidationError, r"confidence=2 must be between 0 and 1"),
    ("standings n_bootstrap not a number", lambda w: w.lb.get_standings(n_bootstrap="x"), ValidationError,
     r"n_bootstrap='x' must be a whole number"),
    # manifests
    ("manifest CSV missing column", lambda w: w.manifest("m.csv", "media\n1.png\n"),
     ValidationError, r"missing column\(s\) prompt"),
    ("manifest CSV extra column", lambda w: w.manifest("m.csv", f"media,prompt,score\n1.png,{PROMPTS[0]},3\n"),
     ValidationError, r"unexpected column\(s\) 'score'"),
    ("manifest bad encoding", lambda w: w.manifest("m.csv", "media,prompt\n1.png,caf\xe9\n".encode("latin-1")),
     ValidationError, r"is not UTF-8 text"),
    ("manifest JSONL missing key", lambda w: w.manifest("m.jsonl", '{"media": "1.png"}\n'),
     ValidationError, r"line 1: missing column\(s\) prompt"),
    ("manifest JSONL extra key", lambda w: w.manifest("m.jsonl", '{"media": "1.png", "prompt": "x", "seed": 1}\n'),
     ValidationError, r"line 1: unexpected column\(s\) 'seed'"),
    ("manifest JSONL not JSON", lambda w: w.manifest("m.jsonl", '{"media": "1.png",\n'),
     ValidationError, r"line 1: not valid JSON"),
    ("manifest path with ..", lambda w: w.manifest("m.csv", f"media,prompt\n../good/1.png,{PROMPTS[0]}\n"),
     ValidationError, r"contains '\.\.'; paths may not leave the manifest's folder"),
    ("manifest unknown format", lambda w: w.manifest("m.txt", "1.png\n"), ValidationError, r"unknown format \.txt"),
    ("manifest absolute path outside its folder",
     lambda w: w.manifest("m.csv", f"media,prompt\n{w.file('elsewhere.png', w.png(61).read_bytes())},{PROMPTS[0]}\n"),
     ValidationError, r"line 2: media path '.*elsewhere\.png' is an absolute path to .*, outside the manifest's folder"),
    ("manifest symlink out of its folder", lambda w: w.manifest("m.csv", f"media,prompt\n{_link_out(w)},{PROMPTS[0]}\n"),
     ValidationError, r"line 2: media path 'out\.png' is a symlink to .*bad/target\.png, outside the manifest's folder"),

    ("manifest lists nothing", lambda w: w.manifest("m.csv", "media,prompt\n"), ValidationError, r"lists no media"),
    # votes
    ("vote on unknown matchup", lambda w: _vote(w, matchup="0" * 32),
     MatchupNotFound, r"no matchup '0{32}' on leaderboard"),
    ("vote with bad choice", lambda w: _vote(w, choice="both"),
     VoteError, r"choice must be one of left, right, tie, got 'both'"),
    ("vote with choice in wrong case", lambda w: _vote(w, choice="LEFT"), VoteError, r"got 'LEFT'"),
    ("vote from a rater not served the matchup", lambda w: _vote(w, rater="mallory"),
     VoteError, r"was served to another rater, not to 'mallory'"),
    ("vote from an empty rater id", lambda w: _vote(w, rater=" "), ValidationError, r"rater_id is empty"),
]


@pytest.mark.parametrize("label, call, error, message", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_refuses_and_changes_nothing(world: World, label: str, call, error, message: str) -> None:
    if label.startswith("vote"):
        world.served()  # serving is a legitimate write: take the snapshot after it
    before = state(world.client)
    with pytest.raises(error) as caught:
        call(world)
    text = str(caught.value)
    assert re.search(message, text), text
    assert "\n" not in text.strip() or label.startswith("manifest"), "an error message is one line"
    assert state(world.client) == before


def test_dotdot_in_python_api_paths_is_accepted(world: World) -> None:
    """The caller's own paths may use ``..`` (see the module docstring)."""
    path = world.png(60)
    climbing = path.parent / ".." / path.parent.name / path.name
    assert ".." in climbing.parts
    assert world.add([climbing], [PROMPTS[0]]).media_added == 1


def test_jsonl_manifest_with_unicode_line_separators(db_location: str, tmp_path: Path) -> None:
    """U+2028 / U+2029 are legal unescaped in JSON: they must not split a JSONL line."""
    prompt = "first line\u2028second\u2029third"
    with Client(db_location, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", [prompt], False)
        make_png(tmp_path / "m" / "a.png", 1)
        line = json.dumps({"media": "a.png", "prompt": prompt}, ensure_ascii=False)
        (tmp_path / "m" / "list.jsonl").write_text(line + "\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["--db", db_location, "add-model", lb.id,
                                          "--name", "m", "--manifest", str(tmp_path / "m" / "list.jsonl")])
        assert result.exit_code == 0, result.output
        assert list(lb.model_media("m")) == [prompt]


def test_hostile_text_is_accepted_and_stored_exactly(db_location: str, tmp_path: Path) -> None:
    db = db_location
    with Client(db, create=True) as client:
        lb = client.mri.create_new_leaderboard(HOSTILE[0], HOSTILE[2] + "\n" + HOSTILE[1], HOSTILE, True,
                                               tags=[[t] for t in ("<b>", "ü", "🎨", "a&b", "x")])
        for i, name in enumerate(HOSTILE):
            lb.evaluate_model(name, [make_png(tmp_path / f"{i}.png", 200 + i)], [HOSTILE[i]])
        board_id = lb.id
    with Client(db) as client:  # read back through a fresh connection
        lb = client.mri.get_leaderboard_by_id(board_id)
        assert lb.name == HOSTILE[0] and lb.instruction == HOSTILE[2] + "\n" + HOSTILE[1]
        assert lb.prompts == HOSTILE and lb.tags == [["<b>"], ["ü"], ["🎨"], ["a&b"], ["x"]]
        assert [m.name for m in lb.models()] == HOSTILE
        assert [list(lb.model_media(name)) for name in HOSTILE] == [[p] for p in HOSTILE]
    shown = CliRunner().invoke(cli, ["--db", str(db), "show", board_id])
    assert shown.exit_code == 0, shown.output
    for text in HOSTILE:  # printed verbatim: a terminal is not HTML, nothing to escape
        assert text in shown.output
    listed = CliRunner().invoke(cli, ["--db", str(db), "list"])
    assert f"{board_id}\t5 models\t0 votes\t{HOSTILE[0]}" in listed.output


# -- the command line -----------------------------------------------------------------------------

CLI_CASES = [
    ("missing required option", ["create", "--name", "x"], 2, "Missing option '--instruction'"),
    ("missing argument", ["show"], 2, "Missing argument 'LEADERBOARD_ID'"),
    ("unknown command", ["frobnicate"], 2, "No such command 'frobnicate'"),
    ("unknown leaderboard", ["show", "nosuchid"], 1, "no leaderboard with id 'nosuchid'"),
    ("bad choice value", ["standings", "{board}", "--format", "xml"], 2, "'xml' is not one of"),
    ("missing manifest", ["add-model", "{board}", "--name", "m", "--manifest", "nope.csv"], 1,
     "manifest not found"),
    ("unknown tag", ["standings", "{board}", "--tag", "<nope>"], 1, "tag '<nope>' is not used"),
    ("export unknown board", ["export-votes", "nosuchid", "{tmp}/out.jsonl"], 1, "no leaderboard with id"),
    ("import missing file", ["import-votes", "{tmp}/nope.jsonl"], 1, "vote file not found"),
    ("import not an export", ["import-votes", "{tmp}/good/1.png"], 1, "is not UTF-8 text"),
    ("import an endless device", ["import-votes", "/dev/zero"], 1, "/dev/zero is not a regular file"),
    ("backup onto the live database", ["backup", "{db}"], 1, "is the database being backed up"),
    ("backup onto an existing file", ["backup", "{tmp}/good/1.png"], 1, "already exists"),
    ("backup onto a server database", ["backup", "postgresql://nobody@127.0.0.1:1/elsewhere"], 1,
     "postgresql://nobody@127.0.0.1:1/elsewhere is a server database: a backup is an SQLite file"),
]


@pytest.mark.parametrize("label, args, code, message", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_errors_are_one_line(world: World, label: str, args: list[str], code: int, message: str) -> None:
    db = world.client.db_path
    args = [a.format(board=world.board_id, tmp=world.tmp, db=db) for a in args]  # type: ignore[attr-defined]
    before = state(world.client)
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    if code == 1:
        assert result.output.count("\n") == 1, "exit-1 errors are a single line"
    assert state(world.client) == before
    assert not Path("postgresql:").exists()  # a URL taken as a file path would make this folder
