"""``rater backup DEST``: a consistent copy taken while raters keep writing."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_png

import rater.matchmaking.service  # noqa: F401  (imported before forking, so writers start warm)
from rater import Client, DatabaseError
from rater.cli import cli
from rater.store.files import blob_file
from rater.store import catalog, exchange, integrity

PROMPTS = [f"prompt {i}" for i in range(5)]


def _board(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "live" / "lb.db"
    with Client(db) as client:
        lb = client.mri.create_new_leaderboard("Backup", "Which?", PROMPTS, False, strategy="uniform")
        for m in range(6):
            files = [make_png(tmp_path / "src" / f"{m}-{p}.png", 50 * m + p) for p in range(len(PROMPTS))]
            lb.evaluate_model(f"model-{m}", files, PROMPTS)
        return db, lb.id


def _writer(db: Path, board_id: str, prefix: str, stop, voted) -> None:
    client = Client(db)
    lb = client.mri.get_leaderboard_by_id(board_id)
    n = 0
    while not stop.is_set():
        rater = f"{prefix}-{n // 60}"  # 75 pairs per rater: move on before running out
        matchup = lb.next_matchup(rater, continue_when_settled=True)
        if matchup is not None:
            lb.record_vote(matchup.id, "left", rater)
            with voted.get_lock():
                voted.value += 1
        n += 1
    client.close()


def _vote_ids(client: Client, board_id: str) -> list[int]:
    return [row["id"] for row in exchange.exported_votes(client.store.conn, board_id)]


def test_online_backup_while_raters_write(tmp_path: Path) -> None:
    db, board_id = _board(tmp_path)
    ctx = mp.get_context("fork")
    stop, voted = ctx.Event(), ctx.Value("i", 0)
    writers = [ctx.Process(target=_writer, args=(db, board_id, f"w{i}", stop, voted)) for i in range(3)]
    for w in writers:
        w.start()
    copies = []
    try:
        for k in range(3):
            deadline, wanted = time.monotonic() + 60, voted.value + 20
            while voted.value < wanted and time.monotonic() < deadline:
                time.sleep(0.05)
            dest = tmp_path / f"copy-{k}" / "lb.db"
            result = CliRunner().invoke(cli, ["--db", str(db), "backup", str(dest)])
            assert result.exit_code == 0, result.output
            assert result.output.startswith("backed up ") and str(dest) in result.output
            copies.append(dest)
        during = voted.value
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=60)
    assert all(w.exitcode == 0 for w in writers)
    with Client(db) as live:
        final = _vote_ids(live, board_id)
    assert during >= 60 and len(final) >= during
    seen = []
    for dest in copies:
        assert not Path(f"{dest}-wal").exists(), "a copy is one self-contained file"
        with Client(dest) as copy:
            assert integrity.check_integrity(copy.store.conn) == []  # includes foreign keys
            lb = copy.mri.get_leaderboard_by_id(board_id)
            ids = _vote_ids(copy, board_id)
            # Prefix-consistent: exactly the live votes up to the copy's last one.
            assert ids == [i for i in final if i <= max(ids)]
            voted = {row["matchup_id"] for row in exchange.exported_votes(copy.store.conn, board_id)}
            served = {row["id"] for row in exchange.exported_matchups(copy.store.conn, board_id)}
            assert voted <= served  # every vote's matchup came along
            assert len(lb.models()) == 6
            for media in catalog.list_media(copy.store.conn, board_id):
                assert blob_file(copy.store.media_dir, media["sha256"], media["ext"]).is_file()
            seen.append(len(ids))
    assert seen == sorted(seen) and seen[-1] > seen[0], f"copies did not advance: {seen}"


def test_backup_refuses_to_clobber(tmp_path: Path, png) -> None:
    with Client(tmp_path / "lb.db") as client:
        client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        with pytest.raises(DatabaseError, match="is the database being backed up"):
            client.backup(tmp_path / "lb.db")
        with pytest.raises(DatabaseError, match="is the database being backed up"):
            client.backup(tmp_path / "." / "lb.db")
        with pytest.raises(DatabaseError, match="is a directory"):
            client.backup(tmp_path)
        taken = tmp_path / "other.txt"
        taken.write_text("precious", encoding="utf-8")
        with pytest.raises(DatabaseError, match="already exists: choose a new name or pass --force"):
            client.backup(taken)
        assert taken.read_text(encoding="utf-8") == "precious"
        result = client.backup(taken, overwrite=True)
        assert result.path == taken and result.bytes > 0
        assert not list(tmp_path.glob(".*partial*")), "no temporary file is left behind"


def test_backup_without_media_and_into_a_new_folder(tmp_path: Path, png) -> None:
    with Client(tmp_path / "live" / "lb.db") as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m", [png(1)], ["p"])
        bare = client.backup(tmp_path / "bare" / "lb.db", media=False)
        full = client.backup(tmp_path / "full" / "deeper" / "lb.db")
    assert bare.media_copied == 0 and not (tmp_path / "bare" / "media").exists()
    assert full.media_copied == 1 and full.matchups == 0 and full.votes == 0
    with Client(full.path) as copy:
        [path] = copy.mri.list_leaderboards()[0].model_media("m")["p"]
        assert path.read_bytes() == png(1).read_bytes()


def test_a_missing_media_file_does_not_stop_the_votes_being_backed_up(tmp_path: Path, png) -> None:
    with Client(tmp_path / "live" / "lb.db") as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m1", [png(1)], ["p"])
        lb.evaluate_model("m2", [png(2)], ["p"])
        matchup = lb.next_matchup("ann")
        lb.record_vote(matchup.id, "left", "ann")
        [lost] = lb.model_media("m1")["p"]
        lost.unlink()  # damaged media folder: exactly when a backup matters
        result = client.backup(tmp_path / "copy" / "lb.db")
    assert result.media_missing == (lost,)
    assert result.media_copied == 1 and result.votes == 1
    with Client(result.path) as copy:
        board = copy.mri.list_leaderboards()[0]
        assert board.summary()["votes"] == 1
        [kept] = board.model_media("m2")["p"]
        assert kept.read_bytes() == png(2).read_bytes()
    assert not list((tmp_path / "copy").glob(".*partial*"))


def test_a_failed_media_copy_leaves_no_backup(tmp_path: Path, png) -> None:
    with Client(tmp_path / "live" / "lb.db") as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m1", [png(1)], ["p"])
        dest = tmp_path / "copy" / "lb.db"
        dest.parent.mkdir()
        (dest.parent / "media").write_text("a file where the media folder should go")
        with pytest.raises(DatabaseError, match="failed while copying media.*no backup was written"):
            client.backup(dest)
    assert not dest.exists() and not list(dest.parent.glob(".*partial*"))


def test_backup_command_warns_about_missing_media(tmp_path: Path, png) -> None:
    from click.testing import CliRunner

    from rater.cli.main import cli

    db = tmp_path / "live" / "lb.db"
    with Client(db) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m1", [png(1)], ["p"])
        [lost] = lb.model_media("m1")["p"]
    lost.unlink()
    result = CliRunner().invoke(cli, ["--db", str(db), "backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert "backed up 0 votes" in result.stdout
    assert "warning: 1 media files the database refers to are missing" in result.stderr
    assert str(lost) in result.stderr
