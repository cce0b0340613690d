"""``rater gc``: leftovers of interrupted uploads are found and removed; used blobs never are.

Real databases and real PNG files; leftovers are made the way a killed process leaves them
(a ``.incoming-*`` temporary file, a blob renamed into place whose transaction never committed)
and aged with ``os.utime``.
"""

from __future__ import annotations

import re

import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from rater import Client
from rater.cli import cli
from rater.intake.gc import GRACE_SECONDS, collect_garbage
from rater.intake.media import inspect_media, store_blob
from rater.store.files import blob_file
from rater.store import blobs, catalog

from conftest import make_png

PROMPTS = ["A red cube", "A blue sphere"]

pytestmark = pytest.mark.both_backends  # on PostgreSQL the media folder is this host's cache
OLD = time.time() - 2 * GRACE_SECONDS


def _age(path: Path, when: float = OLD) -> Path:
    os.utime(path, (when, when))
    return path


def _loose_blob(client: Client, png_path: Path) -> Path:
    """A blob file in the store with no row: what a kill between rename and COMMIT leaves."""
    media = inspect_media(png_path)
    store_blob(client.store.media_dir, media)
    return blob_file(client.store.media_dir, media.sha256, media.ext)


def _copy(path: Path, name: str) -> Path:
    target = path.with_name(name)
    target.write_bytes(path.read_bytes())
    return target


def _temp(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".incoming-{name}"
    path.write_bytes(b"half an upload" * 100)
    return path


@pytest.fixture
def setup(tmp_path: Path, db_location: str):
    """A board whose two models' media are all in use (aged, so only use protects them), a
    prompt asset used only by its prompt, and one of each kind of leftover."""
    client = Client(db_location, create=True)
    asset = make_png(tmp_path / "in" / "asset.png", 900)
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, prompt_assets=[asset, None])
    for m in range(2):
        lb.evaluate_model(f"m{m}", [make_png(tmp_path / "in" / f"{m}-{p}.png", 10 * m + p) for p in range(2)],
                          PROMPTS)
    used = sorted(p for p in client.store.media_dir.rglob("*.png"))
    assert len(used) == 5
    for path in used:
        _age(path)
    media = client.store.media_dir
    unused_media = inspect_media(make_png(tmp_path / "in" / "unused.png", 500))
    with client.store.write() as conn:  # a blob row nothing refers to
        catalog.insert_blob(conn, unused_media.sha256, unused_media.kind, unused_media.mime,
                            unused_media.ext, unused_media.size)
        blobs.keep_bytes(conn, unused_media.sha256, unused_media.source)  # PostgreSQL: its bytes too
    store_blob(media, unused_media)
    leftovers = {
        "old temp": _age(_temp(media / used[0].parent.name, "old")),
        "old loose blob": _age(_loose_blob(client, make_png(tmp_path / "in" / "loose.png", 600))),
        "unused blob": blob_file(media, unused_media.sha256, unused_media.ext),
    }
    loose = leftovers["old loose blob"]
    leftovers["preview of a loose blob"] = _age(_copy(loose, loose.name.replace(".png", ".preview-1460.png")))
    kept = {
        "fresh temp": _temp(media / used[1].parent.name, "fresh"),  # may be an upload under way
        "fresh loose blob": _loose_blob(client, make_png(tmp_path / "in" / "young.png", 700)),
        "not ours": media / "notes.txt",
        "misfiled": media / "zz" / f"{'ab' * 32}.png",  # a blob name, but not where we put it
        "preview of a used blob": _age(_copy(used[0], used[0].name.replace(".png", ".preview-1460.png"))),
    }
    kept["not ours"].write_text("the owner's own file", encoding="utf-8")
    kept["misfiled"].parent.mkdir()
    kept["misfiled"].write_bytes(b"x" * 10)
    _age(kept["not ours"]), _age(kept["misfiled"])
    yield client, lb, used, leftovers, kept
    client.close()


def test_gc_lists_by_default_and_deletes_only_leftovers_with_delete(setup, tmp_path: Path) -> None:
    client, lb, used, leftovers, kept = setup
    db = ["--db", str(client.db_path)]
    listing = CliRunner().invoke(cli, [*db, "gc"])
    assert listing.exit_code == 0, listing.output
    for path in leftovers.values():
        assert str(path) in listing.output and path.exists()  # a dry run by default
    for path in [*used, *kept.values()]:
        assert str(path) not in listing.output
    lines = listing.stdout.splitlines()
    assert len(lines) == 4 and re.search(r"\(unfinished upload, 2\.\d h old\)", listing.stdout)  # aged 2 h
    [temp_line] = [line for line in lines if str(leftovers["old temp"]) in line]
    assert temp_line.split()[:2] == ["1.4", "KB"]  # 1,400 bytes
    assert "would delete 4 files" in listing.stderr and "1 unused blob rows" in listing.stderr

    deleted = CliRunner().invoke(cli, [*db, "gc", "--delete"])
    assert deleted.exit_code == 0 and "deleted 4 files" in deleted.output
    assert not any(p.exists() for p in leftovers.values())
    assert all(p.is_file() for p in [*used, *kept.values()])  # every used blob survives
    conn = client.store.conn
    assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 5
    if client.store.path is None:  # PostgreSQL: the unused blob's bytes went with its row
        kept_bytes = {r[0] for r in conn.execute("SELECT sha256 FROM blob_data")}
        assert kept_bytes == {r[0] for r in conn.execute("SELECT sha256 FROM blobs")} and len(kept_bytes) == 5
    assert sum(len(v) for v in lb.model_media("m0").values()) == 2
    again = CliRunner().invoke(cli, [*db, "gc"])
    assert again.exit_code == 0 and again.output.startswith("nothing to clean")


def test_a_referenced_blob_survives_even_if_named_as_a_leftover(setup) -> None:
    client, lb, used, _, _ = setup
    result = collect_garbage(client.store, delete=True, grace=0)
    assert all(p.is_file() for p in used)
    assert not {item.path for item in result.leftovers} & set(used)
    # the board still serves pairs from every stored file
    matchup = lb.next_matchup("alice")
    assert matchup.left.path.is_file() and matchup.right.path.is_file()


def test_gc_waits_for_an_upload_in_progress_and_keeps_its_blob(tmp_path: Path, db_location: str) -> None:
    """An upload holds the write lock between writing its blob and committing the blob's row:
    gc, deciding under the same lock, must see the committed row and keep the file."""
    path = db_location
    gc_client, uploader = Client(path, create=True), None
    lb = gc_client.mri.create_new_leaderboard("B", "Which?", PROMPTS)
    uploader = Client(path)
    media = inspect_media(make_png(tmp_path / "in" / "slow.png", 42))
    target = blob_file(uploader.store.media_dir, media.sha256, media.ext)
    written, release = threading.Event(), threading.Event()

    def upload() -> None:
        store = uploader.store
        with store.write() as conn:
            model = catalog.get_or_create_model(conn, lb.id, "slow", time.time())
            [prompt] = [p["id"] for p in catalog.list_prompts(conn, lb.id) if p["text"] == PROMPTS[0]]
            catalog.insert_blob(conn, media.sha256, media.kind, media.mime, media.ext, media.size)
            catalog.insert_media(conn, lb.id, model, prompt, media.sha256, "slow.png", time.time())
            store_blob(store.media_dir, media)
            _age(target)  # as old as a leftover: only the lock protects it now
            written.set()
            release.wait(10)
        store.release_thread()

    worker = threading.Thread(target=upload)
    worker.start()
    assert written.wait(10)
    threading.Timer(0.5, release.set).start()  # commit while gc waits for the lock
    result = collect_garbage(gc_client.store, delete=True, grace=0)
    worker.join()
    assert target.is_file() and result.leftovers == ()
    assert lb.model_media("slow")[PROMPTS[0]] == [target]
    gc_client.close()
    uploader.close()


def test_add_model_cleans_stale_temp_files_first(tmp_path: Path, db_location: str) -> None:
    client = Client(db_location, create=True)
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS)
    stale = _age(_temp(client.store.media_dir / "ab", "killed"))
    fresh = _temp(client.store.media_dir / "cd", "running")
    lb.evaluate_model("m", [make_png(tmp_path / "in" / "a.png", 1)], [PROMPTS[0]])
    assert not stale.exists() and fresh.exists()
    client.close()
