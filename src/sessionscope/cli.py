"""The `sessionscope` command: serve, apps, demo, import, export, erase, copy."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import tempfile
from collections.abc import Iterable
from contextlib import nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import apps as apps_mod
from .errors import StoreUnavailable
from .settings import Settings

if TYPE_CHECKING:
    from .ingest.parse import NdjsonLines

# "markdown": a docstring's paragraphs are wrapped to the terminal (Typer's default, "rich", keeps the source's
# line ends, so a paragraph broke in the middle of lines)
_HELP = {"no_args_is_help": True, "rich_markup_mode": "markdown"}
app = typer.Typer(help="sessionscope: a self-hostable session store with a UXCam-compatible API.", **_HELP)
apps_app = typer.Typer(help="Create, list, rotate keys of and delete apps (tenants).", **_HELP)
app.add_typer(apps_app, name="apps")


def _version(show: bool) -> None:
    if show:
        from . import __version__

        typer.echo(f"sessionscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool | None, typer.Option("--version", help="Print the version and exit.", callback=_version,
                                                 is_eager=True)] = None,
) -> None:
    """sessionscope: a self-hostable session store with a UXCam-compatible API."""

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help="Store URL or DuckDB file path (default: SESSIONSCOPE_STORE, else sessionscope.duckdb in SESSIONSCOPE_DATA_DIR, ./data)."),
]


def _settings(store: str | None) -> Settings:
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:  # a bad SESSIONSCOPE_* variable: name it, no traceback
        problems = "; ".join(
            f"SESSIONSCOPE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        _fail(f"invalid setting: {problems}")
    if store:
        settings = settings.model_copy(update={"store": store})
    return settings


def _open(settings: Settings, existing: bool = False, reads_only: bool = False):  # type: ignore[no-untyped-def]
    """The store; `existing`: a command that only reads or changes what is there fails on an embedded store
    that is not there (a mistyped --store), rather than creating an empty one. `reads_only`: a command that
    only reads opens a DuckDB file it may not write (a snapshot, another user's file) read-only."""
    from .store import embedded_path, open_store

    url = settings.store_url()
    path = embedded_path(url)
    if existing and path is not None and not os.path.exists(path):
        _fail(f"no store at {path}; `sessionscope apps create NAME` or `sessionscope demo` creates one")
    try:
        try:
            return open_store(url, **settings.store_options())
        except StoreUnavailable:
            duckdb_file = ("://" not in url or url.startswith("duckdb://")) and path is not None and os.path.isfile(path)
            if not (reads_only and duckdb_file):
                raise
            return open_store(url, read_only=True, **settings.store_options())  # a file this user cannot write
    except (StoreUnavailable, ValueError) as exc:  # ValueError: a store URL of no known scheme
        _fail(str(exc))
    except OSError as exc:  # a path that is not what the store needs (a file for chDB's directory, say)
        _fail(f"cannot open the store {settings.store_url()}: {exc.strerror or exc}"
              + (f" ({exc.filename})" if exc.filename else ""))


def _app_name(name: str) -> str:
    """An app's name from the command line, as it will be kept; a one-line failure when it cannot be."""
    try:
        return apps_mod.checked_name(name)
    except ValueError as exc:
        _fail(str(exc))
        raise  # (_fail exits)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (default: SESSIONSCOPE_HOST or 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Listen port (default: SESSIONSCOPE_PORT or 8000).", min=1, max=65535)
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Run the API and dashboard."""
    import uvicorn

    from .api import create_app
    from .logs import configure

    settings = _settings(store).listening_on(host, port)
    configure(settings.log_format)
    sock = _listen(settings.host, settings.port)  # first: a taken port fails before the store is opened
    store_ = _open(settings)
    try:
        api = create_app(settings, store_)
    except OSError as exc:  # the data directory cannot hold the secret key or the videos
        _fail(f"cannot use the data directory {settings.data_dir}: {exc.strerror or exc}"
              + (f" ({exc.filename})" if exc.filename else ""))
    import re

    shown = re.sub(r"://([^:/@]*):[^@/]*@", r"://\1:***@", settings.store_url())  # no store password in logs
    message = f"sessionscope serving {shown} on http://{settings.host}:{settings.port}"
    if settings.log_format == "json":  # stdout stays machine-readable too
        import logging

        logging.getLogger("sessionscope").info(message)
    else:
        typer.echo(message)
    # log_config=None: uvicorn's own messages go through the handler configured above, in the same format
    config = uvicorn.Config(
        api, host=settings.host, port=settings.port, log_level="warning", access_log=False, log_config=None
    )
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (as uvicorn would bind it), or a one-line error saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = " (another process listens there: stop it, or choose another with --port or SESSIONSCOPE_PORT)"
        elif isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            hint = " (not an address of this machine: try 127.0.0.1 or 0.0.0.0, with --host or SESSIONSCOPE_HOST)"
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}")
    sock.set_inheritable(True)
    return sock


@apps_app.command("create")
def apps_create(
    name: Annotated[str, typer.Argument(help="A name for the app.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only {appid, apikey, ingest_key} as JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Create an app and print its keys (shown once)."""
    name = _app_name(name)
    creds = apps_mod.create_app(_open(_settings(store)), name)
    if as_json:
        typer.echo(json.dumps({"appid": creds.appid, "apikey": creds.apikey, "ingest_key": creds.ingest_key}))
        return
    typer.echo(f"appid:      {creds.appid}\napikey:     {creds.apikey}\ningest_key: {creds.ingest_key}")
    typer.echo("Keep the keys now: they are stored only as hashes and cannot be shown again.")


@apps_app.command("list")
def apps_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of {appid, name, created_at}.")] = False,
    store: StoreOpt = None,
) -> None:
    """List apps: id, creation time (UTC) and name, one a line."""
    apps = apps_mod.list_apps(_open(_settings(store), existing=True, reads_only=True))
    if as_json:
        typer.echo(json.dumps([{"appid": a.appid, "name": a.name, "created_at": f"{a.created_at:%Y-%m-%dT%H:%M:%SZ}"} for a in apps]))
        return
    for a in apps:
        typer.echo(f"{a.appid}  {a.created_at:%Y-%m-%d %H:%M:%S}  {a.name}")


@apps_app.command("rotate-key")
def apps_rotate_key(
    appid: Annotated[str, typer.Argument(help="The app's id.")],
    kind: Annotated[str, typer.Option("--kind", help="Which key: apikey (data access) or ingest_key.")] = "apikey",
    as_json: Annotated[bool, typer.Option("--json", help="Print only {appid, apikey} (or {appid, ingest_key}) as JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Replace an app's key; the old one stops working at once (on a ClickHouse server, within SESSIONSCOPE_AUTH_CACHE_SECONDS)."""
    try:
        key = apps_mod.rotate_key(_open(_settings(store), existing=True), appid, kind)
    except (LookupError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps({"appid": appid, kind: key}) if as_json else f"new {kind}: {key}")


@apps_app.command("delete")
def apps_delete(
    appid: Annotated[str, typer.Argument(help="The app's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking (needed when not at a terminal).")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only {appid, name, sessions, events, videos, video_files} as JSON.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Delete an app: its keys, sessions, events and replay videos (files included). It cannot be undone.

    Stop the server that holds a DuckDB file first, and run it with the server's SESSIONSCOPE_DATA_DIR (the
    app's replay folder there is removed). Without --yes it says what it would delete and asks."""
    from .erase import app_contents, delete_app

    settings = _settings(store)
    st = _open(settings, existing=True)
    try:
        contents = app_contents(st, settings, appid)
        if contents is None:
            _fail(f"no app with id {appid}; `sessionscope apps list` shows them")
            return
        what = (f"app {appid} ({contents.name}): {contents.sessions} sessions, {contents.events} events, "
                f"{contents.videos} replay videos ({contents.files} files)")
        if not yes:
            if not sys.stdin.isatty():
                _fail(f"not deleted: {what}; add --yes to delete it")
            typer.confirm(f"Delete {what}? This cannot be undone.", abort=True, err=True)
        try:
            delete_app(st, settings, appid)
        except StoreUnavailable as exc:
            _fail(f"the app was not deleted: {exc}")
        except OSError as exc:  # its replay folder: the rows are all still there
            _fail(f"the app was not deleted: cannot remove {exc.filename}: {exc.strerror or exc}; fix that and run "
                  "the command again")
    finally:
        st.close()
    if as_json:
        typer.echo(json.dumps({"appid": appid, "name": contents.name, "sessions": contents.sessions,
                               "events": contents.events, "videos": contents.videos, "video_files": contents.files}))
    else:
        typer.echo(f"deleted {what}")


@app.command()
def demo(
    sessions: Annotated[int, typer.Option(help="How many sessions to generate.", min=0)] = 20_000,
    days: Annotated[int, typer.Option(help="Spread them over the last D days.", min=1)] = 30,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 42,
    name: Annotated[str, typer.Option(help="The demo app's name.")] = "demo",
    reuse: Annotated[bool, typer.Option(help="If an app with this name exists, keep its data and issue new keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the credentials as JSON.")] = False,
    store: StoreOpt = None,
) -> None:
    """Create a demo app filled with realistic generated sessions."""
    from .loader import load_documents

    name = _app_name(name)
    settings = _settings(store)
    st = _open(settings)
    existing = apps_mod.find_app(st, name) if reuse else None
    if existing is not None:
        appid = existing.appid
        apikey = apps_mod.rotate_key(st, appid, "apikey")
        ingest_key = apps_mod.rotate_key(st, appid, "ingest_key")
        if not as_json:
            typer.echo(f"Reusing demo app {appid} ({name}) with the sessions it has; new keys issued. "
                       "(--sessions, --days and --seed make a new demo app: give another --name, or leave out --reuse.)")
    else:
        from .demo import generate_sessions

        creds = apps_mod.create_app(st, name)
        appid, apikey, ingest_key = creds.appid, creds.apikey, creds.ingest_key
        docs = generate_sessions(sessions, days=days, seed=seed, now=datetime.now(UTC).replace(microsecond=0))
        stats = load_documents(st, settings, appid, docs, total=sessions, label="Generating demo sessions", quiet=as_json)
        if stats.rejected:
            _fail(f"{stats.rejected} generated sessions were rejected: {stats.first_errors}")
        from .demo.replays import attach_replays

        replays = attach_replays(st, settings, appid)
        if not as_json and replays:
            typer.echo(f"Stored a (synthetic) replay video for the {replays} newest sessions recorded with video.")
    st.close()
    if as_json:
        typer.echo(json.dumps({"appid": appid, "apikey": apikey, "ingest_key": ingest_key}))
        return
    base = settings.public_url.rstrip("/")
    typer.echo(
        f"""
  App id:          {appid}
  Data access key: {apikey}
  Ingest key:      {ingest_key}
  Dashboard:       {base}/app/{appid}/sessions/list/1
  API docs:        {base}/docs

  Try it:
    curl -s -H 'appid: {appid}' -H 'apikey: {apikey}' \\
      '{base}/v2/session?page_size=2&filters=%5B%7B%22attribute%22%3A%22device_platform%22%2C%22operator%22%3A%22equal%22%2C%22value%22%3A%22ios%22%7D%5D'

  For the README's examples, in another terminal:
    export BASE={base}/v2 APPID={appid} APIKEY={apikey} INGEST_KEY={ingest_key}
"""
    )


IMPORT_SUFFIXES = (".ndjson", ".jsonl", ".json", ".ndjson.gz", ".jsonl.gz", ".json.gz", ".parquet")


def _check_ndjson(file: Path) -> None:
    """Refuse, before anything is imported, an NDJSON file that is not gzip though named .gz, or that holds
    one JSON array instead of a document a line (the same answer with --server as without)."""
    import gzip

    from .ingest.parse import _BOM

    try:
        with (gzip.open if file.name.lower().endswith(".gz") else open)(file, "rb") as f:
            head = f.read(1 << 16)
    except gzip.BadGzipFile:
        _fail(f"{file.name}: not gzip data, though its name ends in .gz")
    except EOFError:
        _fail(f"{file.name}: the file ends early (a cut-off .gz)")
    except OSError as exc:
        _fail(f"{file.name}: cannot read it: {exc.strerror or exc}")
    if head.removeprefix(_BOM).lstrip().startswith(b"["):
        _fail(f"{file.name} holds a JSON array; import reads one session document a line (NDJSON), e.g. "
              f"`jq -c '.[]' {file.name} > sessions.ndjson`, or POST the array to /v2/ingest/sessions")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="NDJSON (.ndjson, .jsonl or .json: one document a line; optionally .gz) or Parquet file.", dir_okay=False)],
    app_id: Annotated[str, typer.Option("--app", help="The app id to import into.")],
    batch_size: Annotated[int, typer.Option(help="Documents read and validated together (a local import writes 30,000 validated sessions to a transaction).", min=1)] = 10_000,
    workers: Annotated[
        int, typer.Option(help="Processes decoding and validating NDJSON lines (0: this process does).", min=0)
    ] = min(4, os.cpu_count() or 1),
    rejects: Annotated[
        Path | None,
        typer.Option(help="Write every rejected record to this file, one JSON object per line: "
                     '{"line" (or "row"): n, "sessionId": ..., "errors": [...]}.', dir_okay=False),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option("--server", help="Import through this running server's ingest API (e.g. http://127.0.0.1:8000) "
                     "instead of opening the store: the server keeps serving. Needs the app's ingest key."),
    ] = None,
    ingest_key: Annotated[
        str | None,
        typer.Option("--ingest-key", envvar="SESSIONSCOPE_INGEST_KEY", show_envvar=True,
                     help="The app's ingest key, with --server."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Bulk import session documents, with the same validation and idempotency as the HTTP API.

    Without --server the store is opened here (stop the server that holds a DuckDB file first); with
    --server URL --ingest-key KEY the file goes through that server's POST /v2/ingest/sessions.

    Exit status: 0 every record imported; 3 some or all were rejected (the valid ones imported); 1 the
    import could not run or stopped (a file, app, key or store problem); 2 the command line is wrong."""
    from .ingest import iter_parquet_file
    from .ingest.parse import iter_ndjson_lines
    from .loader import load_batches
    from .remote_import import RemoteImportError, post_batches

    if not file.is_file():
        _fail(f"{file}: no such file")
    if not file.name.lower().endswith(IMPORT_SUFFIXES):
        _fail(f"{file.name}: not a file import reads; it takes NDJSON ({', '.join(IMPORT_SUFFIXES[:6])}) or Parquet "
              "(.parquet); `sessionscope export` writes both")
    if rejects is not None and rejects.resolve() == file.resolve():
        _fail("--rejects names the file being imported")
    if server is not None and not ingest_key:
        _fail("--server needs the app's ingest key: --ingest-key KEY or SESSIONSCOPE_INGEST_KEY")
    if server is None and ingest_key:
        _fail("--ingest-key is for --server; a local import opens the store and needs no key")
    if server is not None and not server.startswith(("http://", "https://")):
        _fail(f"--server must be an http:// or https:// URL, got {server!r}")
    if not file.name.lower().endswith(".parquet"):
        _check_ndjson(file)
    st, settings = None, None
    if server is None:
        settings = _settings(store)
        st = _open(settings, existing=True)
        _known_app(st, app_id)
    try:
        rejected_to = rejects.open("wb") if rejects is not None else None
    except OSError as exc:
        if st is not None:
            st.close()
        _fail(f"--rejects: cannot write {rejects}: {exc.strerror}")
        return
    try:
        batches: Iterable[list[Any] | NdjsonLines]
        if file.name.lower().endswith(".parquet"):
            batches = iter_parquet_file(file, batch_size)
        else:
            batches = iter_ndjson_lines(file, batch_size)
        label = f"Importing {file.name}"
        if st is None:
            assert server is not None and ingest_key is not None
            stats = post_batches(server, app_id, ingest_key, batches, label=label, rejects=rejected_to)
        else:
            assert settings is not None
            stats = load_batches(st, settings, app_id, batches, total_bytes=file.stat().st_size,
                                 label=label, workers=workers, rejects=rejected_to)
        if rejected_to is not None:
            rejected_to.close()  # its last writes reach the file here: a failure is this command's
    except (ValueError, RemoteImportError) as exc:
        _fail(str(exc))
        return
    except EOFError:  # what was read before the cut was imported; importing again is idempotent
        _fail(f"{file.name}: the file ends early (a cut-off .gz), and the import stopped there; records before "
              "the cut may have been imported: import the whole file again (a session sent again replaces itself)")
        return
    except OSError as exc:  # the rejects file or a device failing while the import runs
        where = exc.filename or (f"--rejects {rejects}" if rejects is not None else file.name)
        _fail(f"the import stopped: cannot write {where}: {exc.strerror or exc}")
        return
    finally:
        if st is not None:
            st.close()
        if rejected_to is not None and not rejected_to.closed:
            with suppress(OSError):  # a failed write, reported above
                rejected_to.close()
    typer.echo(f"imported {stats.accepted} sessions, rejected {stats.rejected} ({stats.per_second:,.0f} sessions/s)")
    for line in stats.first_errors:
        typer.echo(f"  rejected: {line}")
    if stats.rejected > len(stats.first_errors):
        more = stats.rejected - len(stats.first_errors)
        where = f"all of them are in {rejects}" if rejects is not None else "--rejects FILE writes them all"
        typer.echo(f"  … and {more:,} more ({where})")
    if stats.rejected:
        raise typer.Exit(3)


def _known_app(st: Any, app_id: str) -> None:
    """Fail (closing the store) unless the store holds an app with this id."""
    if not apps_mod.APPID_RE.match(app_id) or not any(a.appid == app_id for a in apps_mod.list_apps(st)):
        st.close()
        _fail(f"no app with id {app_id}; create one with `sessionscope apps create NAME`")


@app.command()
def erase(
    app_id: Annotated[str, typer.Option("--app", help="The app whose users to erase.")],
    users: Annotated[
        list[str] | None, typer.Option("--user", help="A user's uxcamuserid, as the API shows it (repeat for more).")
    ] = None,
    identities: Annotated[
        list[str] | None,
        typer.Option("--identity", help="A user identity (kUXCam_UserIdentity): the users with a session that "
                     "carries it are erased (repeat for more)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only {appid, dry_run, users, sessions, events, videos, video_files, videos_not_found} as JSON.")
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Erase users' data (a request to be forgotten): every session of theirs, its events and replay video.

    Other users and their session numbers are untouched. Stop the server that holds a DuckDB file first, and
    run it with the server's SESSIONSCOPE_DATA_DIR: the replay files are removed from its videos/ folder (a
    recorded replay not found there is named in a warning). Exit status 0 also when no session matched
    (nothing of theirs is stored); 1 when nothing could be erased (the reason said)."""
    from .erase import FilesNotRemoved, erase_users

    if not users and not identities:
        _fail("name the users to erase: --user UXCAMUSERID or --identity IDENTITY (each may be repeated)")
    settings = _settings(store)
    st = _open(settings, existing=True)
    _known_app(st, app_id)
    try:
        erasure = erase_users(st, settings, app_id, users or [], identities or [], dry_run=dry_run)
    except StoreUnavailable as exc:
        _fail(f"nothing was erased: {exc}")
        return
    except FilesNotRemoved as exc:
        before = f"; {len(exc.removed)} of their replay files were removed before it" if exc.removed else ""
        _fail(f"no session was erased: {exc}{before}; fix that and run the command again")
        return
    finally:
        st.close()
    erased = erasure.erased
    if as_json:
        typer.echo(json.dumps({"appid": app_id, "dry_run": dry_run, "users": erased.users, "sessions": erased.sessions,
                               "events": erased.events, "videos": len(erased.videos),
                               "video_files": len(erasure.removed), "videos_not_found": erasure.missing}))
    elif not erased.users:
        typer.echo(f"no session of these users is stored in app {app_id}: nothing to erase")
    else:
        counts = (f"{len(erased.users)} user{'s' * (len(erased.users) != 1)}, {erased.sessions} sessions, "
                  f"{erased.events} events, {len(erased.videos)} replay videos ({len(erasure.removed)} files)")
        typer.echo(f"would erase from app {app_id}: {counts} (dry run: nothing changed)" if dry_run
                   else f"erased from app {app_id}: {counts}")
        for user in erased.users:
            typer.echo(f"  {user}")
    if erased.users and not dry_run and settings.store_url().startswith(("clickhouse://", "clickhouses://")):
        typer.echo("note: servers writing to this ClickHouse meanwhile may have stored some of it again (a write or an "
                   "upload in progress); run this command again in a minute to erase what came back", err=True)
    if erasure.missing:
        typer.echo(f"warning: {len(erasure.missing)} recorded replays have no file under "
                   f"{(settings.data_dir / 'videos' / app_id).resolve()} (sessions {', '.join(erasure.missing[:5])}"
                   f"{', ...' if len(erasure.missing) > 5 else ''}): if the server's SESSIONSCOPE_DATA_DIR is another "
                   "directory, their files are there; remove them by hand", err=True)


@app.command("export")
def export_(
    app_id: Annotated[str, typer.Option("--app", help="The app id to export from.")],
    output: Annotated[str, typer.Option("-o", "--output", help="The file to write, or - for standard output.")],
    fmt: Annotated[str, typer.Option("--format", help="ndjson (imports again whole), parquet (imports again, less keys the reference does not know), or csv.")] = "ndjson",
    resource: Annotated[str, typer.Option(help="What to export: session, user or event.")] = "session",
    filters: Annotated[str | None, typer.Option(help="Filters as in the API, a JSON array (default window: the last 30 days).")] = None,
    all_time: Annotated[bool, typer.Option("--all-time", help="Every upload time, not the last 30 days (a whole app's copy).")] = False,
    store: StoreOpt = None,
) -> None:
    """Export matching sessions (or users, events), with the same filters and window as the API, streamed.

    A file is written whole or not at all (under a temporary name until the end); with -o - the data go to
    standard output and the progress and summary to standard error."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .errors import ApiError
    from .export import prepare_export

    if resource not in ("session", "user", "event"):
        _fail(f"--resource must be session, user or event, got {resource!r}")
    to_stdout = output == "-"
    target = Path(output)
    if not to_stdout and target.is_dir():
        _fail(f"cannot write {output}: it is a directory; give a file name")
    if not to_stdout and not target.parent.is_dir():
        _fail(f"cannot write {output}: there is no directory {target.parent}")
    try:
        given = json.loads(filters) if filters else []
    except ValueError:
        given = None  # the export's own validation names it
    windowed = isinstance(given, list) and any(isinstance(f, dict) and f.get("attribute") == "date_range" for f in given)
    if all_time:
        from .detail import ALL_TIME

        if windowed:
            _fail("--all-time and a date_range filter both set the window; give one")
        if isinstance(given, list):
            filters = json.dumps([*given, ALL_TIME])  # after the given ones: an error names their own index
    settings = _settings(store)
    st = _open(settings, existing=True, reads_only=True)
    _known_app(st, app_id)
    # a regular file is written under a temporary name and renamed at the end; a device or pipe directly
    direct = to_stdout or (target.exists() and not target.is_file())
    partial: Path | None = None  # the temporary file, until it is renamed
    try:
        stream = prepare_export(st, settings, app_id, resource, {"filters": filters, "format": fmt}, _now())
        total = stream.count()
        if direct:
            sink: Any = nullcontext(sys.stdout.buffer) if to_stdout else target.open("wb")
        else:  # made exclusively (no file or link of that name is followed), with the modes a new file gets
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            partial = Path(name)
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
            sink = os.fdopen(fd, "wb")
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=Console(stderr=True)) as progress, sink as out:
            task = progress.add_task(f"Exporting {resource}s", total=total)
            for chunk in stream.chunks(lambda n: progress.advance(task, n)):
                out.write(chunk)
            out.flush()
        if partial is not None:
            os.replace(partial, target)
            partial = None
    except ApiError as exc:
        _fail(exc.message)
        return
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
        return
    finally:
        st.close()
        if partial is not None:
            partial.unlink(missing_ok=True)
    window = "" if all_time or windowed else " (uploaded in the last 30 days; --all-time for every one)"
    # beside data written to a device or a pipe (-o -, /dev/stdout), the summary goes to standard error
    typer.echo(f"exported {total} {resource}s to {'standard output' if to_stdout else output}{window}", err=direct)


@app.command("copy")
def copy_(
    source: Annotated[str, typer.Option("--from", help="Store to read: a URL or a DuckDB file's path, e.g. data/sessionscope.duckdb (the default store) or duckdb:///srv/sessions.duckdb.")],
    target: Annotated[str, typer.Option("--to", help="Store URL to write: chdb:///path or clickhouse://user:pass@host:8123/db.")],
    batch_size: Annotated[int, typer.Option(help="Rows per insert.", min=1)] = 100_000,
    replace: Annotated[bool, typer.Option("--replace", help="Delete what the target holds for the apps being copied (sessions it took since a first copy included), then copy them.")] = False,
) -> None:
    """Copy a store into ClickHouse or chDB: apps (their keys keep working), sessions, events, videos.

    A target that already holds any of the apps is refused (nothing is written) unless --replace."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from .copy import copy_store
    from .store import embedded_path, open_store

    if source == target:
        _fail("--from and --to name the same store")
    scheme = target.split("://", 1)[0] if "://" in target else "a file path"
    if scheme not in ("chdb", "clickhouse", "clickhouses"):  # checked before anything is opened or created
        _fail(f"--to must be a ClickHouse store (chdb:///path or clickhouse://user:pass@host:8123/db), got {scheme}")
    if scheme == "chdb" and source.startswith("chdb://"):
        _fail("--from and --to cannot both be chDB stores: one process runs one chDB engine; "
              "copy from a DuckDB file or into a ClickHouse server")
    path = embedded_path(source)
    if path is not None and not os.path.exists(path):
        _fail(f"no store at {path} (--from)")
    try:
        src = open_store(source, read_only=True)  # a copy never writes its source (a backup, a snapshot, an old schema)
    except (StoreUnavailable, ValueError, OSError) as exc:
        _fail(str(exc))
        return
    try:
        dst = open_store(target)
    except (StoreUnavailable, ValueError, OSError) as exc:
        src.close()
        _fail(f"cannot open {target}: {exc.strerror}" if isinstance(exc, OSError) and exc.strerror else str(exc))
        return
    columns = [TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(), TimeRemainingColumn()]
    try:
        progress = Progress(*columns)
        tasks: dict[str, Any] = {}  # the bars appear once the copy begins: a refusal is the only output

        def begin(totals: dict[str, int]) -> None:
            progress.start()
            tasks.update({t: progress.add_task(t, total=n) for t, n in totals.items()})

        try:
            stats = copy_store(
                src, dst, batch_rows=batch_size, replace=replace, started=begin,
                progress=lambda t, n: progress.update(tasks[t], completed=n),
            )
        finally:
            if tasks:  # a Progress stopped before it started still prints a line
                progress.stop()
    except ValueError as exc:  # a refusal (TargetHoldsApps) included
        _fail(str(exc))
        return
    finally:
        src.close()
        dst.close()
    typer.echo("copied " + ", ".join(f"{n:,} {t}" for t, n in stats.copied.items()) + f" to {target}")


def main() -> None:
    try:
        app()
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
