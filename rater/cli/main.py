"""The ``rater`` command line: click wiring only; each command calls the Python API."""

from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from rater.api.client import DEFAULT_DB_PATH
from rater.cli.audience import audience
from rater.cli.benchmarks import COMMANDS as BENCHMARK_COMMANDS
from rater.cli.exchange import COMMANDS as EXCHANGE_COMMANDS
from rater.cli.gold import gold
from rater.cli.model_info import model_info
from rater.cli.serve import COMMANDS as SERVE_COMMANDS
from rater.cli.participants import participant
from rater.cli.simulate import simulate
from rater.cli.standings import standings
from rater.cli.support import friendly_errors, media_options, open_client, refuse_password, warn_duplicates
from rater.errors import DatabaseNotFound
from rater.intake.manifest import read_manifest

@click.group()
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    metavar="FILE|URL",
    default=str(DEFAULT_DB_PATH),
    envvar="RATER_DB",
    show_default=True,
    help="The SQLite database (also $RATER_DB), with media in a media/ folder beside it; or a "
         "postgresql://user@host/db URL (a password only in $RATER_DB, never here).",
)
@click.version_option(package_name="rater")
@click.pass_context
def cli(ctx: click.Context, db: str) -> None:
    """Local human-preference leaderboards for generative models.

    Example:

        rater demo && rater list
    """
    if ctx.get_parameter_source("db") is ParameterSource.COMMANDLINE:
        refuse_password(db)
    ctx.obj = {"db": db}


@cli.command()
@friendly_errors
def init() -> None:
    """Create an empty database at --db (and its folder); an existing one is left as it is.

    On a PostgreSQL server (--db or RATER_DB postgresql://user@host/db) the database must
    exist, empty (createdb): init gives it the schema.

    Only init, create, demo make a database: every other command refuses a missing one, so a
    mistyped --db is an error, never a new empty database.

    Example:

    \b
        rater --db data/leaderboards.db init
        createdb rater && rater --db postgresql://me@localhost/rater init
    """
    try:
        client, existed = open_client(), True
    except DatabaseNotFound:  # no file, or an empty server database: given the schema now
        client, existed = open_client(create=True), False
    boards = len(client.mri.list_leaderboards())
    client.close()
    if existed:
        click.echo(f"{client.db_path} already exists ({boards} leaderboards); left as it is")
    else:
        click.echo(f"created an empty database at {client.db_path}")


@cli.command()
@click.option("--name", required=True, help="Leaderboard name.")
@click.option("--instruction", required=True, help='What raters answer, e.g. "Which image do you prefer?".')
@click.option("--prompts-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A text file with one registered prompt per line.")
@click.option("--prompt", "prompt_list", multiple=True, help="A registered prompt (repeatable).")
@click.option("--show-prompt/--hide-prompt", default=False, show_default=True,
              help="Whether raters see the prompt text.")
@click.option("--inverse", is_flag=True, help='The instruction asks for the worse one ("Which is worse?").')
@click.option("--strategy", type=click.Choice(["information", "uniform"]), default="information",
              show_default=True, help="Default matchmaking strategy.")
@click.option("--repeat-share", type=float, default=0.05, show_default=True,
              help="Share of quality-control repeats shown to raters (0 turns them off).")
@click.option("--show-standings/--hide-standings", default=False, show_default=True,
              help="Whether raters see the live standings in the app (owners always do).")
@click.option("--hide-prompts-on-site", is_flag=True,
              help="Do not publish the prompt texts on the static site (apart from --show-prompt).")
@friendly_errors
def create(name: str, instruction: str, prompts_file: Path | None, prompt_list: tuple[str, ...],
           show_prompt: bool, inverse: bool, strategy: str, repeat_share: float,
           show_standings: bool, hide_prompts_on_site: bool) -> None:
    """Create a leaderboard and print its id.

    The site publishes the prompt texts unless --hide-prompts-on-site, whether or not raters
    see them (--show-prompt).

    Example:

        rater create --name "AI Art" --instruction "Which image do you prefer?" --prompts-file prompts.txt
    """
    prompts = list(prompt_list)
    if prompts_file is not None:
        # Split on newlines only: str.splitlines() would also split on U+2028 inside a prompt.
        lines = prompts_file.read_text(encoding="utf-8").split("\n")
        prompts += [line.removesuffix("\r") for line in lines if line.strip()]
    if not prompts:
        raise click.UsageError("give prompts with --prompts-file FILE or --prompt TEXT")
    lb = open_client(lazy=True).mri.create_new_leaderboard(
        name, instruction, prompts, show_prompt, inverse_ranking=inverse, strategy=strategy,
        repeat_share=repeat_share, show_standings=show_standings,
        publish_prompts=not hide_prompts_on_site,
    )
    click.echo(lb.id)


@cli.command(name="list")
@click.option("--name", default="", help="Only leaderboards whose name contains this.")
@click.option("--amount", default=50, show_default=True, help="At most this many.")
@friendly_errors
def list_(name: str, amount: int) -> None:
    """List leaderboards, newest first: id, models, votes, name.

    Example:

        rater list --name art
    """
    client = open_client()
    boards = client.mri.find_leaderboards(name=name, amount=amount)
    if not boards:
        click.echo("no leaderboards" + (f" matching {name!r}" if name else ""), err=True)
    for lb in boards:
        summary = lb.summary()
        click.echo(f"{lb.id}\t{summary['models']} models\t{summary['votes']} votes\t{lb.name}")


@cli.command()
@click.argument("leaderboard_id")
@friendly_errors
def show(leaderboard_id: str) -> None:
    """Show a leaderboard: settings, prompts and models.

    Example:

        rater show k7gq2mxa
    """
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id)
    summary = lb.summary()
    click.echo(f"{lb.name}  [{lb.id}]")
    click.echo(f"instruction: {lb.instruction}")
    click.echo(f"show prompt: {'yes' if lb.show_prompt else 'no'}   inverse: {'yes' if lb.inverse_ranking else 'no'}"
               f"   strategy: {lb.strategy}   votes: {summary['votes']}"
               f"   standings shown to raters: {'yes' if lb.show_standings else 'no'}"
               f"   prompts published on the site: {'yes' if lb.publish_prompts else 'no'}")
    click.echo(f"prompts ({len(lb.prompts)}):")
    for i, (prompt, tags) in enumerate(zip(lb.prompts, lb.tags), 1):
        click.echo(f"  {i:>3}. {prompt}" + (f"  [{', '.join(tags)}]" if tags else ""))
    models = lb.models()
    click.echo(f"models ({len(models)}):")
    for model in models:
        click.echo(f"  {model.name}  ({model.media_count} media)")


@cli.command(name="add-model")
@click.argument("leaderboard_id")
@click.option("--name", required=True, help="The model's name.")
@click.option("--manifest", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV (columns media,prompt) or JSONL ({\"media\": ..., \"prompt\": ...}); "
                   "relative media paths are relative to the manifest's folder.")
@media_options
@friendly_errors
def add_model(leaderboard_id: str, name: str, manifest: Path, max_pixels: int, allow_outside: bool,
              strict: bool) -> None:
    """Add a model's media to a leaderboard from a manifest of media,prompt pairs.

    Every file is checked (images decoded, video and audio parsed) before anything is stored;
    large images also get a downscaled copy that raters are shown. Errors name the manifest's
    line. A file another model on the board already has (a copy mistake, usually) gets a
    warning on stderr naming that model; --strict refuses it instead.

    Example:

        rater add-model k7gq2mxa --name MyAIModel_v2.1 --manifest out/manifest.csv
    """
    client = open_client()
    client.max_pixels = max_pixels
    lb = client.mri.get_leaderboard_by_id(leaderboard_id)
    items = read_manifest(manifest, allow_outside=allow_outside)
    with warn_duplicates():
        result = lb.evaluate_model(name, items.media, items.prompts, strict=strict, sources=items.sources)
    verb = "created" if result.new_model else "extended"
    click.echo(f"{verb} model {result.model!r}: {result.media_added} media added "
               f"({result.new_files} new files)")


@cli.command()
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A folder holding a demo.json (default: the demo shipped with the package).")
@friendly_errors
def demo(source: Path | None) -> None:
    """Load the bundled demo leaderboards (safe to run twice: nothing is duplicated).

    The demo ships with the package, so this works from any folder.

    Example:

        rater --db data/leaderboards.db demo
    """
    from rater.api.demo import DEMO_DIR, demo_manifest, load_demo

    source = DEMO_DIR if source is None else source
    demo_manifest(source)  # a missing demo folder creates no database
    client = open_client(create=True)
    for line in load_demo(client, source, progress=lambda msg: click.echo(msg, err=True)):
        click.echo(line)


def _size(n: int) -> str:
    """``532 bytes``, ``12.3 MB``."""
    if n < 1000:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


@cli.command()
@click.option("--delete", is_flag=True, help="Remove what is listed (default: only list it).")
@friendly_errors
def gc(delete: bool) -> None:
    """List (with --delete: remove) leftovers of interrupted uploads in the media folder.

    Leftovers are unfinished uploads (.incoming-* files over an hour old), blob files no
    database row knows (over an hour old), and blobs no media or prompt uses. A blob any row
    uses is never touched; the final decision is taken under the database's write lock, so
    an upload running meanwhile keeps its files.

    Example:

    \b
        rater gc            # what would be removed, with sizes
        rater gc --delete
    """
    from rater.intake.gc import collect_garbage

    client = open_client()
    result = collect_garbage(client.store, delete=delete)
    client.close()
    if not result.leftovers and not result.unused_rows:
        click.echo(f"nothing to clean in {client.store.media_dir}")
        return
    for item in result.leftovers:
        click.echo(f"{_size(item.size):>12}  {item.path}  ({item.reason}, "
                   f"{item.age / 3600:.1f} h old)")
    rows = f" and {result.unused_rows} unused blob rows" if result.unused_rows else ""
    count = len(result.leftovers)
    files = f"{count} file{'' if count == 1 else 's'}, {_size(result.bytes)}{rows}"
    if delete:
        click.echo(f"deleted {files}")
    else:
        click.echo(f"would delete {files}: run `rater gc --delete` to remove them", err=True)


# Commands that live beside the modules they drive.
for _command in (*SERVE_COMMANDS, simulate, *EXCHANGE_COMMANDS, model_info, standings, *BENCHMARK_COMMANDS,
                 participant, audience, gold):
    cli.add_command(_command)
