"""Adding media: previews of large images, memory that does not grow with file size, a write
transaction that does not hold voters up while files are copied, and manifests that stay in
their folder."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from app_support import open_app, pair_urls, pair_view, start
from click.testing import CliRunner
from conftest import make_png
from db_dump import dump_database
from media_support import make_long_wav
from PIL import Image

from rater import Client, DatabaseError, ValidationError
from rater.app import pair_api
from rater.cli import cli
from rater.intake.manifest import read_manifest
from rater.intake.media import PREVIEW_SIDE, display_file, preview_path
from rater.store.files import blob_file

PROMPTS = ["A red sun over blue mountains", "A sailboat on calm water"]

pytestmark = pytest.mark.both_backends  # tests of a `client` or `db_location`: SQLite, then PostgreSQL


def refuse_inserts(client: Client, table: str, when: str = "TRUE") -> None:
    """Make the database refuse new rows of ``table`` (those where ``when`` holds, an SQL
    condition on ``NEW``) with the message 'refused', as a constraint would."""
    with client.store.write() as conn:
        if client.store.path is not None:
            conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {when} "
                         "BEGIN SELECT RAISE(ABORT, 'refused'); END")
            return
        conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$BEGIN RAISE EXCEPTION 'refused'; END$$")
        conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW "
                     f"WHEN ({when}) EXECUTE FUNCTION refuse()")


def big_image(path: Path, size: tuple[int, int] = (4000, 3000), fmt: str = "PNG", **save: object) -> Path:
    """A large image with detail (a gradient), so a preview really differs from a crop."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt, **save)
    return path


def media_files(client: Client) -> set[str]:
    media = client.store.media_dir
    return {p.name for p in media.rglob("*") if p.is_file()} if media.exists() else set()


# -- previews -----------------------------------------------------------------------------------------


def test_a_large_image_gets_a_preview_once_at_upload_and_keeps_its_original(client, tmp_path) -> None:
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    source = big_image(tmp_path / "in" / "big.png")
    small = make_png(tmp_path / "in" / "small.png", 3, size=64)
    lb.evaluate_model("m", [source, small], PROMPTS)
    [original] = lb.model_media("m")[PROMPTS[0]]
    assert original.read_bytes() == source.read_bytes()  # the site's full-size file
    preview = preview_path(original)
    assert preview.name == f"{original.stem}.preview-{PREVIEW_SIDE}.png"
    with Image.open(preview) as img:
        assert img.size == (1460, 1095) and img.format == "PNG"
    assert display_file(original) == preview
    [kept] = lb.model_media("m")[PROMPTS[1]]
    assert display_file(kept) == kept and not preview_path(kept).exists()  # small: shown as is
    made = preview.stat().st_mtime_ns
    lb.evaluate_model("other", [source], [PROMPTS[0]])  # the same bytes again: nothing remade
    assert preview.stat().st_mtime_ns == made


def test_a_jpeg_preview_is_a_jpeg_turned_as_the_browser_would_turn_it(client, tmp_path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    photo = big_image(tmp_path / "photo.jpg", (4000, 3000), "JPEG", quality=90, exif=exif.tobytes())
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    lb.evaluate_model("m", [photo], [PROMPTS[0]])
    [original] = lb.model_media("m")[PROMPTS[0]]
    with Image.open(display_file(original)) as img:
        assert img.format == "JPEG" and img.size == (1095, 1460)


def test_media_stored_before_previews_get_one_on_first_display(client, tmp_path) -> None:
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    lb.evaluate_model("m", [big_image(tmp_path / "big.png")], [PROMPTS[0]])
    [original] = lb.model_media("m")[PROMPTS[0]]
    preview = preview_path(original)
    made_at_upload = preview.read_bytes()
    preview.unlink()  # as an older version left it
    assert display_file(original) == preview and preview.read_bytes() == made_at_upload


def test_a_file_that_cannot_be_previewed_is_shown_as_it_is(tmp_path) -> None:
    broken = tmp_path / "ab" / ("ab" * 32 + ".png")
    broken.parent.mkdir()
    broken.write_bytes(b"not an image at all")
    missing = tmp_path / "ab" / ("cd" * 32 + ".jpg")
    assert display_file(broken) == broken and display_file(missing) == missing
    assert not any(p.name.startswith(".incoming-") for p in broken.parent.iterdir())


def test_the_rater_app_shows_the_preview_not_the_original(tmp_path, monkeypatch) -> None:
    db = tmp_path / "db" / "lb.db"
    with Client(db) as client:
        lb = client.mri.create_new_leaderboard("Big", "Which is better?", PROMPTS[:1], False)
        for i, size in enumerate([(4000, 3000), (3000, 4000)]):
            lb.evaluate_model(f"m{i}", [big_image(tmp_path / f"{i}.png", size)], PROMPTS[:1])
        previews = {preview_path(path) for name in ("m0", "m1") for path in lb.model_media(name)[PROMPTS[0]]}
        board_id = lb.id
    at = start(open_app(monkeypatch, db, board_id))
    view = pair_view(at)
    shown = {pair_api.media_path(view["session"], url.rsplit("/", 1)[1]) for url in pair_urls(at)}
    assert shown == previews and all(p.is_file() for p in shown), "each side is the stored preview"


# -- memory and the write transaction ------------------------------------------------------------------


def test_adding_a_large_file_holds_only_a_chunk_of_it_in_memory(client, tmp_path) -> None:
    clip = make_long_wav(tmp_path / "long.wav", 50)
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    tracemalloc.start()
    try:
        lb.evaluate_model("m", [clip], [PROMPTS[0]])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clip.stat().st_size > 49_000_000
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB of Python memory for a 50 MB file"
    [stored] = lb.model_media("m")[PROMPTS[0]]
    assert stored.stat().st_size == clip.stat().st_size


def test_on_a_server_each_mediums_bytes_are_kept_in_the_database_once(pg_location, tmp_path) -> None:
    """With PostgreSQL the bytes of every stored medium are in ``blob_data``, byte for byte the
    uploaded file (streamed in chunks: a clip of several of them), once however often added."""
    import hashlib

    image, clip = make_png(tmp_path / "a.png", 1), make_long_wav(tmp_path / "clip.wav", 3)
    with Client(pg_location, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
        lb.evaluate_model("m", [image, clip], PROMPTS)
        lb.evaluate_model("again", [image, clip], PROMPTS)  # warned as a copy, and stored once
        conn = client.store.conn
        for source in (image, clip):
            sha = hashlib.sha256(source.read_bytes()).hexdigest()
            row = conn.execute("SELECT length(data), encode(sha256(data), 'hex') FROM blob_data WHERE sha256 = ?",
                               (sha,)).fetchone()
            assert tuple(row) == (source.stat().st_size, sha)
        [(data,)] = conn.execute("SELECT data FROM blob_data WHERE sha256 = ?",
                                 (hashlib.sha256(image.read_bytes()).hexdigest(),)).fetchall()
        assert bytes(data) == image.read_bytes()
        assert conn.execute("SELECT count(*) FROM blob_data").fetchone()[0] == 2
        assert clip.stat().st_size > 4 << 19  # more than four chunks


def test_on_a_server_a_vote_is_not_held_up_while_a_files_bytes_are_sent(pg_location, tmp_path) -> None:
    """Sending a 100 MB file's bytes to the server takes seconds; votes from another connection
    meanwhile each commit at once: the bytes go before the write transaction, not inside it."""
    owner, voter = Client(pg_location, create=True), Client(pg_location)
    lb = owner.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    for i in range(2):
        lb.evaluate_model(f"m{i}", [make_png(tmp_path / f"{i}-{p}.png", 10 * i + p) for p in range(2)], PROMPTS)
    board = voter.mri.get_leaderboard_by_id(lb.id)
    served = [(board.next_matchup(f"r{k}").id, f"r{k}") for k in range(120)]
    clip = make_long_wav(tmp_path / "clip.wav", 100)
    upload = threading.Thread(target=lambda: lb.evaluate_model("newcomer", [clip], [PROMPTS[0]]))
    upload.start()
    waits = []
    while upload.is_alive() and served:
        matchup_id, rater = served.pop()
        began = time.perf_counter()
        board.record_vote(matchup_id, "left", rater)
        waits.append(time.perf_counter() - began)
        time.sleep(0.02)
    upload.join()
    assert len(waits) >= 10, "the upload ended too soon to tell"
    assert max(waits) < 1.0, f"a vote waited {max(waits):.1f} s for the upload"
    assert lb.model_media("newcomer")[PROMPTS[0]][0].stat().st_size == clip.stat().st_size
    owner.close()
    voter.close()


def test_a_vote_is_not_held_up_while_files_are_copied(tmp_path, monkeypatch, db_location) -> None:
    """While add-model copies a file (probed at its ``fsync``, the end of each copy), a vote
    from another connection commits at once: the copying is outside the write transaction."""
    owner = Client(db_location, create=True)
    voter = Client(db_location)
    lb = owner.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    for i in range(2):
        lb.evaluate_model(f"m{i}", [make_png(tmp_path / f"{i}.png", i)], [PROMPTS[0]])
    matchup = lb.next_matchup("ann")
    board = voter.mri.get_leaderboard_by_id(lb.id)
    seen: dict[str, object] = {}
    real_fsync = os.fsync

    def probe(fd: int) -> None:
        real_fsync(fd)
        if "waited" in seen:
            return
        vote = threading.Thread(target=lambda: seen.setdefault("receipt", board.record_vote(matchup.id, "left", "ann")))
        began = time.perf_counter()
        vote.start()
        vote.join(timeout=5)
        seen["waited"] = time.perf_counter() - began

    monkeypatch.setattr(os, "fsync", probe)
    lb.evaluate_model("newcomer", [make_long_wav(tmp_path / "clip.wav", 2)], [PROMPTS[0]])
    monkeypatch.undo()
    assert "receipt" in seen, f"the vote was still waiting after {seen['waited']:.1f} s"
    assert seen["waited"] < 2
    owner.close()
    voter.close()


def test_a_failed_transaction_leaves_no_rows_and_removes_the_files_it_copied(client, tmp_path) -> None:
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    lb.evaluate_model("old", [make_png(tmp_path / "old.png", 1)], [PROMPTS[0]])
    refuse_inserts(client, "media")  # a database that refuses the rows, after the copying
    before = media_files(client), dump_database(client.store.conn)
    with pytest.raises((sqlite3.Error, DatabaseError), match="refused"):
        lb.evaluate_model("new", [big_image(tmp_path / "big.png"), make_png(tmp_path / "old.png", 1)], PROMPTS)
    assert [m.name for m in lb.models()] == ["old"]
    # the big image and its preview are gone (on PostgreSQL its blob row and bytes too), the old one stays
    assert (media_files(client), dump_database(client.store.conn)) == before


def test_a_failed_upload_keeps_a_copied_file_that_another_upload_committed_meanwhile(tmp_path, monkeypatch,
                                                                                     db_location) -> None:
    """Upload A copies X and Y, then its rows are refused; between its copies, upload B of X
    found A's copy of X and committed rows using it. A's clean-up removes Y but keeps X: no
    committed row is left without its file."""
    first, second = Client(db_location, create=True), Client(db_location)
    board = first.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    x, y = make_png(tmp_path / "x.png", 1), make_png(tmp_path / "y.png", 2)
    refuse_inserts(first, "models", "NEW.name = 'a'")
    calls: list[int] = []
    real_fsync = os.fsync

    def probe(fd: int) -> None:
        real_fsync(fd)
        calls.append(fd)
        if len(calls) == 2:  # A has stored X and is copying Y
            other = threading.Thread(target=lambda: second.mri.get_leaderboard_by_id(board.id).evaluate_model("b", [x], [PROMPTS[0]]))
            other.start()
            other.join(timeout=30)

    monkeypatch.setattr(os, "fsync", probe)
    with pytest.raises((sqlite3.Error, DatabaseError), match="refused"):
        board.evaluate_model("a", [x, y], PROMPTS)
    monkeypatch.undo()
    assert [m.name for m in board.models()] == ["b"]
    [kept] = board.model_media("b")[PROMPTS[0]]
    assert kept.read_bytes() == x.read_bytes()
    assert media_files(first) == {kept.name}  # Y, copied for A alone, is gone
    first.close()
    second.close()


# -- manifests ----------------------------------------------------------------------------------------


def _manifest(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.csv"
    path.write_text("media,prompt\n" + "".join(f"{line},{PROMPTS[0]}\n" for line in lines), encoding="utf-8")
    return path


def test_a_manifest_refuses_media_outside_its_folder(tmp_path) -> None:
    outside = make_png(tmp_path / "elsewhere" / "secret.png", 1)
    folder = tmp_path / "run"
    make_png(folder / "ok.png", 2)
    (folder / "link.png").symlink_to(outside)
    (folder / "linked-dir").symlink_to(outside.parent, target_is_directory=True)
    for line, no, how in [(str(outside), 2, "an absolute path to"), ("link.png", 3, "a symlink to"),
                          ("linked-dir/secret.png", 4, "a symlink to")]:
        manifest = _manifest(folder, ["ok.png"] * (no - 2) + [line])
        with pytest.raises(ValidationError) as caught:
            read_manifest(manifest)
        assert str(caught.value) == (
            f"manifest {manifest}, line {no}: media path {line!r} is {how} {outside}, outside the "
            f"manifest's folder {folder} (add-model --allow-outside allows it)"
        )
        assert read_manifest(manifest, allow_outside=True).media[-1].resolve() == outside
    inside = _manifest(folder, [str(folder / "ok.png")])  # absolute, but inside: fine
    assert read_manifest(inside).media == [folder / "ok.png"]


def test_add_model_allow_outside_and_max_pixels(tmp_path, db_location) -> None:
    db = db_location
    with Client(db, create=True) as client:
        board_id = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False).id
    outside = make_png(tmp_path / "elsewhere" / "a.png", 1)
    manifest = _manifest(tmp_path / "run", [str(outside)])

    def add(*extra: str) -> object:
        return CliRunner().invoke(cli, ["--db", str(db), "add-model", board_id, "--name", "m",
                                        "--manifest", str(manifest), *extra])

    refused = add()
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert "line 2: media path" in refused.output and "--allow-outside" in refused.output
    too_big = add("--allow-outside", "--max-pixels", "50")
    assert too_big.exit_code == 1 and too_big.output.count("\n") == 1, too_big.output
    assert f"image is too large: {outside} is 8x8 pixels" in too_big.output
    added = add("--allow-outside")
    assert added.exit_code == 0, added.output
    assert "1 media added (1 new files)" in added.output
    with Client(db) as client:
        [stored] = client.mri.get_leaderboard_by_id(board_id).model_media("m")[PROMPTS[0]]
        assert stored == blob_file(client.store.media_dir, stored.stem, "png")
