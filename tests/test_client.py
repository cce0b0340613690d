"""The Python API of the foundation: creating, finding and filling leaderboards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from db_dump import snapshot
from rater import (
    Client,
    LeaderboardError,
    LeaderboardNotFound,
    MediaError,
    UnregisteredPromptError,
    ValidationError,
)

#: Every test with a ``client`` runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

PROMPTS = [
    "A serene mountain landscape at sunset",
    "A futuristic city with flying cars",
    "A portrait of a wise old wizard",
]


def test_issue_example_end_to_end(client: Client, png) -> None:
    lb = client.mri.create_new_leaderboard(
        name="AI Art Competition", instruction="Which image do you prefer?", prompts=PROMPTS, show_prompt=False
    )
    assert len(lb.id) == 8 and lb.id.isalnum()
    again = client.mri.get_leaderboard_by_id(lb.id)
    assert again.name == "AI Art Competition" and again.prompts == PROMPTS and again.show_prompt is False
    assert [b.id for b in client.mri.find_leaderboards(name="AI Art", amount=5)] == [lb.id]
    files = [png(1), png(2), png(3)]
    result = lb.evaluate_model(name="MyAIModel_v2.1", media=files, prompts=PROMPTS)
    assert result.media_added == 3 and result.new_model
    for f in files:  # the originals may be deleted: media were copied into the store
        os.remove(f)
    stored = lb.model_media("MyAIModel_v2.1")
    assert list(stored) == PROMPTS
    for paths in stored.values():
        assert len(paths) == 1 and paths[0].is_file()
        assert paths[0].parent.parent == client.store.media_dir


def test_leaderboard_alias_and_default_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = Client()
    assert c.leaderboard is c.mri
    assert c.db_path == Path("data/leaderboards.db") and not (tmp_path / "data").exists()
    c.mri.create_new_leaderboard("B", "Which?", ["p"])  # a creating call makes the file
    assert (tmp_path / "data/leaderboards.db").is_file()
    monkeypatch.setenv("RATER_DB", str(tmp_path / "env.db"))
    assert Client().db_path == tmp_path / "env.db"


def test_find_is_case_insensitive_newest_first_and_limited(client: Client) -> None:
    ids = [client.mri.create_new_leaderboard(f"Art board {i}", "Which?", ["p"], True).id for i in range(4)]
    client.mri.create_new_leaderboard("Music", "Which?", ["p"], True)
    found = client.mri.find_leaderboards(name="aRT", amount=3)
    assert [b.id for b in found] == ids[::-1][:3]
    assert len(client.mri.find_leaderboards()) == 5
    assert client.mri.find_leaderboards(name="zzz") == []


def test_optional_fields_round_trip(client: Client, png) -> None:
    lb = client.mri.create_new_leaderboard(
        "Edits", "Which image is worse?", ["make it blue", "add a hat"], True,
        tags=[["colour"], ["object", "clothes"]], prompt_assets=[png(10), png(11)],
        show_prompt_asset=True, inverse_ranking=True, strategy="uniform", repeat_share=0.1,
    )
    lb = client.mri.get_leaderboard_by_id(lb.id)
    assert lb.tags == [["colour"], ["object", "clothes"]]
    assert all(p is not None and p.is_file() for p in lb.prompt_assets)
    assert lb.show_prompt_asset and lb.inverse_ranking and lb.strategy == "uniform" and lb.repeat_share == 0.1


def test_several_media_per_prompt_and_adding_to_existing_model(client: Client, png, wav) -> None:
    lb = client.mri.create_new_leaderboard("Mixed", "Which?", PROMPTS, True)
    lb.evaluate_model("m", [png(1), png(2)], [PROMPTS[0], PROMPTS[0]])
    second = lb.evaluate_model("m", [wav(440)], [PROMPTS[1]])
    assert not second.new_model
    media = lb.model_media("m")
    assert len(media[PROMPTS[0]]) == 2 and media[PROMPTS[1]][0].suffix == ".wav"
    assert [(m.name, m.media_count) for m in lb.models()] == [("m", 3)]


def test_media_recognised_by_content_not_extension(client: Client, png, tmp_path: Path) -> None:
    lb = client.mri.create_new_leaderboard("Kinds", "Which?", PROMPTS, True)
    disguised = tmp_path / "really-a-png.jpg"
    disguised.write_bytes(png(5).read_bytes())
    lb.evaluate_model("m", [disguised], [PROMPTS[0]])
    assert lb.model_media("m")[PROMPTS[0]][0].suffix == ".png"
    fake = tmp_path / "notes.png"
    fake.write_text("hello, I am text")
    with pytest.raises(MediaError, match="not a supported media file: .*notes.png"):
        lb.evaluate_model("m", [fake], [PROMPTS[1]])


@pytest.mark.skipif(not (Path(__file__).parent / "fixtures" / "tiny.mp4").exists(), reason="no video fixture")
@pytest.mark.parametrize("name", ["tiny.mp4", "tiny.webm"])
def test_video_files_are_accepted_as_video(client: Client, name: str) -> None:
    lb = client.mri.create_new_leaderboard("Video", "Which clip?", PROMPTS, True)
    lb.evaluate_model("v", [Path(__file__).parent / "fixtures" / name], [PROMPTS[0]])
    row = client.store.conn.execute("SELECT kind FROM blobs").fetchone()
    assert row[0] == "video"


def bad_calls(png, tmp_path: Path):
    text_png = tmp_path / "text.png"
    text_png.write_text("not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(png(7).read_bytes()[:40])
    good = png(8)
    return [
        ("unregistered", ["A serene mountain landscape at sunset", "A purple cow"], [good, png(9)],
         UnregisteredPromptError, "'A purple cow' is not registered"),
        ("case only", ["a serene mountain landscape at sunset"], [good], UnregisteredPromptError,
         "differs only in case or whitespace from 'A serene mountain landscape at sunset'"),
        ("closest", ["A futuristic city with flying bikes"], [good], UnregisteredPromptError,
         "did you mean 'A futuristic city with flying cars'"),
        ("length mismatch", PROMPTS[:2], [good], ValidationError, "same length: got 1 media and 2 prompts"),
        ("empty", [], [], ValidationError, "media is empty"),
        ("missing file", PROMPTS[:2], [good, tmp_path / "nope.png"], MediaError, "not found: .*nope.png"),
        ("directory", PROMPTS[:1], [tmp_path], MediaError, "is a directory"),
        ("zero bytes", PROMPTS[:1], [empty], MediaError, "empty \\(0 bytes\\)"),
        ("truncated", PROMPTS[:1], [truncated], MediaError, "corrupt or truncated image"),
        ("text renamed png", PROMPTS[:1], [text_png], MediaError, "not a supported media file"),
        ("same file twice", [PROMPTS[0], PROMPTS[0]], [good, good], MediaError, "same file as media\\[0\\]"),
    ]


def test_every_bad_call_names_the_problem_and_changes_nothing(client: Client, png, tmp_path: Path) -> None:
    lb = client.mri.create_new_leaderboard("Errors", "Which?", PROMPTS, False)
    lb.evaluate_model("existing", [png(100)], [PROMPTS[0]])
    before = snapshot(client.store)
    for label, prompts, media, exc, message in bad_calls(png, tmp_path):
        with pytest.raises(exc, match=message):
            lb.evaluate_model("new-model", media, prompts)
        assert snapshot(client.store) == before, label
    with pytest.raises(MediaError, match="already stored for model 'existing'"):
        lb.evaluate_model("existing", [png(100)], [PROMPTS[0]])
    assert snapshot(client.store) == before


@pytest.mark.parametrize("name, message", [
    ("", "empty"), ("   ", "only whitespace"), ("x" * 10_000, "10,000 characters"),
    ("bad\x00name\x07", "control characters"),
])
def test_bad_model_names(client: Client, png, name: str, message: str) -> None:
    lb = client.mri.create_new_leaderboard("Names", "Which?", PROMPTS, False)
    with pytest.raises(ValidationError, match=message):
        lb.evaluate_model(name, [png(1)], [PROMPTS[0]])
    assert lb.models() == []


def test_hostile_text_is_stored_exactly(client: Client, png) -> None:
    name = '<script>alert("x")</script> مرحبا 🎨'
    lb = client.mri.create_new_leaderboard(name, "<b>Which</b>?", ['<img src=x onerror=alert(1)>'], True)
    lb.evaluate_model(name, [png(1)], ['<img src=x onerror=alert(1)>'])
    again = client.mri.get_leaderboard_by_id(lb.id)
    assert again.name == name and again.instruction == "<b>Which</b>?"
    assert again.models()[0].name == name


@pytest.mark.parametrize("kwargs, message", [
    ({"prompts": []}, "prompts is empty"),
    ({"prompts": ["a", "a"]}, "repeats prompts\\[0\\]"),
    ({"prompts": "one prompt"}, "must be a list"),
    ({"name": " "}, "leaderboard name is empty"),
    ({"instruction": ""}, "instruction is empty"),
    ({"show_prompt": "yes"}, "show_prompt must be True or False"),
    ({"tags": [["x"]]}, "one list of tags per prompt"),
    ({"strategy": "best"}, "strategy must be one of"),
    ({"repeat_share": 2}, "repeat_share must be between"),
])
def test_bad_leaderboard_definitions(client: Client, kwargs, message: str) -> None:
    args = {"name": "B", "instruction": "Which?", "prompts": ["a", "b"], "show_prompt": False} | kwargs
    with pytest.raises(ValidationError, match=message):
        client.mri.create_new_leaderboard(**args)
    assert client.mri.find_leaderboards() == []


def test_unknown_id_and_error_hierarchy(client: Client) -> None:
    with pytest.raises(LeaderboardNotFound, match="no leaderboard with id 'nope'"):
        client.mri.get_leaderboard_by_id("nope")
    assert issubclass(LeaderboardNotFound, LeaderboardError)
    assert issubclass(UnregisteredPromptError, LeaderboardError) and issubclass(MediaError, LeaderboardError)


@pytest.mark.parametrize("limit", ["x", 0, -5, 1.5, True])
def test_a_bad_media_size_limit_is_refused_before_anything_is_opened(tmp_path: Path, limit) -> None:
    with pytest.raises(ValidationError, match="max_media_bytes must be a whole number of bytes >= 1"):
        Client(tmp_path / "lb.db", max_media_bytes=limit)
    assert not (tmp_path / "lb.db").exists()


def test_evaluate_model_warns_about_another_models_file_and_strict_refuses(client, png) -> None:
    import warnings

    from rater.errors import DuplicateMediaWarning

    assert issubclass(DuplicateMediaWarning, UserWarning)
    lb = client.mri.create_new_leaderboard("Copies", "Which?", ["p", "q"], False)
    lb.evaluate_model("a", [png(1)], ["p"])
    with pytest.raises(MediaError, match=r"media\[0\] \(.*img-1\.png\) is also stored for model\(s\) 'a'.*nothing added"):
        lb.evaluate_model("b", [png(1), png(2)], ["q", "p"], strict=True)
    assert [m.name for m in lb.models()] == ["a"]
    with pytest.warns(DuplicateMediaWarning, match=r"1 of 2 media for model 'b'.*'a'") as caught:
        result = lb.evaluate_model("b", [png(1), png(2)], ["q", "p"])
    assert result.media_added == 2 and caught[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lb.evaluate_model("b", [png(3)], ["q"])  # a new file: no warning
