"""build-site never replaces a site by accident: partial builds keep the other boards, a
symlinked --out is followed, foreign folders and empty databases are refused, a full disk
leaves the published site as it was, and killed builds' folders are cleaned up."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder import build_site
from site_builder.cli import build_site as build_site_command
from site_support import MODELS, make_database, make_named_database, parse, tree, vote_until


@pytest.fixture(scope="module")
def two_boards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("publish")
    db, images, audio = make_database(folder)
    return {"folder": folder, "db": db, "images": images, "audio": audio}


def _cards(site: Path) -> list[str]:
    return [a["href"] for a in parse(site / "index.html").select("a.board-card")]


def _run(*args: str) -> object:
    return CliRunner().invoke(build_site_command, list(args))


def test_leaderboard_builds_that_board_and_keeps_the_others(two_boards: dict,
                                                            tmp_path: Path) -> None:
    db, images, audio = two_boards["db"], two_boards["images"], two_boards["audio"]
    site = tmp_path / "site"
    build_site(db, site, progress=None)
    audio_pages = tree(site / "boards" / audio.id)
    partial = build_site(db, site, [images.id], force=True, progress=None)
    assert partial.rebuilt == [images.id] and partial.kept == [audio.id]
    assert _cards(site) == [f"boards/{images.id}/index.html", f"boards/{audio.id}/index.html"]
    assert tree(site / "boards" / audio.id) == audio_pages, "the other board is kept as it was"
    for page in (site / "boards" / audio.id).rglob("*.html"):  # its media came along too
        for img in parse(page).find_all(["img", "audio", "source"], src=True):
            assert (page.parent / img["src"]).resolve().is_file(), (page, img["src"])
    records = json.loads((site / "build.json").read_text(encoding="utf-8"))["leaderboards"]
    assert list(records) == [images.id, audio.id]
    only = build_site(db, site, [audio.id], only=True, progress=None)
    assert only.kept == [] and _cards(site) == [f"boards/{audio.id}/index.html"]
    assert not (site / "boards" / images.id).exists()


def test_symlinked_out_is_followed_and_kept(two_boards: dict, tmp_path: Path) -> None:
    real = tmp_path / "www" / "real-site"
    real.mkdir(parents=True)
    link = tmp_path / "site"
    link.symlink_to(real, target_is_directory=True)
    assert _run("--db", str(two_boards["db"]), "--out", str(link)).exit_code == 0
    assert link.is_symlink() and (real / "index.html").is_file()
    again = _run("--db", str(two_boards["db"]), "--out", str(link), "--force")
    assert again.exit_code == 0, again.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "build.json").is_file()
    assert sorted(p.name for p in (tmp_path / "www").iterdir()) == ["real-site"]


def test_current_folder_and_foreign_files_are_refused(two_boards: dict, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    build_site(two_boards["db"], site, progress=None)
    before = tree(tmp_path)
    monkeypatch.chdir(site)  # `cd site && build-site --out .`
    for out in (".", str(site), str(tmp_path)):
        result = _run("--db", str(two_boards["db"]), "--out", out, "--force")
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
        assert "current folder" in result.output or "not empty" in result.output
    monkeypatch.chdir(tmp_path)
    (site / "CNAME").write_text("leaderboards.example.org\n")
    result = _run("--db", str(two_boards["db"]), "--out", "site", "--force")
    assert result.exit_code == 1 and "'CNAME'" in result.output, result.output
    assert tree(tmp_path) == {**before, "site/CNAME": b"leaderboards.example.org\n"}


def _empty_copy(db: Path, target: Path) -> Path:
    """A copy of ``db`` with every leaderboard deleted (the same schema, zero boards)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
        copy.execute("PRAGMA foreign_keys = ON")
        for table in ("votes", "matchups", "media", "raters", "models", "prompts", "leaderboards"):
            copy.execute(f"DELETE FROM {table}")
    source.close()
    copy.close()
    return target


def test_a_database_without_the_published_boards_is_refused(two_boards: dict,
                                                            tmp_path: Path) -> None:
    site = tmp_path / "site"
    build_site(two_boards["db"], site, progress=None)
    before = tree(site)
    empty = _empty_copy(two_boards["db"], tmp_path / "other" / "empty.db")
    result = _run("--db", str(empty), "--out", str(site))
    assert result.exit_code == 1 and "no leaderboards" in result.output, result.output
    other_db, _board = make_named_database(tmp_path / "other2", ["one", "two"], votes=4)
    result = _run("--db", str(other_db), "--out", str(site))
    assert result.exit_code == 1 and "--only" in result.output, result.output
    assert tree(site) == before
    assert _run("--db", str(empty), "--out", str(site), "--only").exit_code == 0
    assert _cards(site) == []


def test_full_disk_leaves_the_published_site(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    db, board = make_named_database(tmp_path / "data", ["alpha", "beta", "gamma"], votes=20)
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        site = mount / "site"
        assert _run("--db", str(db), "--out", str(site)).exit_code == 0
        before = tree(site)
        free = shutil.disk_usage(mount).free
        (mount / "filler").write_bytes(b"\0" * max(free - 16_384, 0))
        vote_until(board, 2, ["alpha", "beta", "gamma"], prefix="late")
        result = _run("--db", str(db), "--out", str(site))
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert lines[-1].startswith("Error: could not write the site") and "space" in lines[-1]
        assert "Traceback" not in result.output
        assert tree(site) == before
        assert sorted(p.name for p in mount.iterdir()) == ["filler", "site"]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_folders_of_killed_builds_are_removed(two_boards: dict, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f".site.building-{int(gone.stdout)}"
    (dead / "boards").mkdir(parents=True)
    (dead / "boards" / "page.html").write_text("half a build")
    old = tmp_path / f".site.old-{int(gone.stdout)}"
    old.mkdir()
    running = tmp_path / f".site.building-{os.getppid()}"  # a live process: still building
    running.mkdir()
    unrelated = tmp_path / ".other.building-1"
    unrelated.mkdir()
    build_site(two_boards["db"], tmp_path / "site", progress=None)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == [".other.building-1", running.name]


def test_partial_build_of_a_new_vote_keeps_history_of_both(two_boards: dict,
                                                          tmp_path: Path) -> None:
    db, images = two_boards["db"], two_boards["images"]
    site = tmp_path / "site"
    build_site(db, site, progress=None)
    assert vote_until(images, 1, MODELS, prefix="partial") == 1
    again = build_site(db, site, [images.id], progress=None)
    assert again.rebuilt == [images.id]
    history = json.loads((site / "history.json").read_text(encoding="utf-8"))
    assert two_boards["audio"].id in history["builds"][0]["boards"]
