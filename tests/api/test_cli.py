"""The `sessionscope` command line (SPEC §1, §8.3, §13): apps and keys, bulk import, help."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sessionscope.demo import generate_sessions
from sessionscope.demo.replay_video import make_mp4
from support.server import Creds, Server, cli, free_port

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_TIME = {
    "attribute": "date_range",
    "operator": "between_dates",
    "value": {"lower": "2000-01-01", "upper": "2099-12-31"},
}


def db_path(server: Server) -> str:
    return server.store_url.removeprefix("duckdb:///")


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """A failing command: non-zero exit and a one-line reason (on stderr, beside any progress bar)."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    text = result.stderr.strip() or result.stdout.strip()
    lines = [line for line in text.splitlines() if line.strip() and "━" not in line]
    assert len(lines) == 1, text
    return lines[0]


def list_all(client, creds: Creds) -> list[dict]:  # type: ignore[no-untyped-def]
    rows, page = [], 1
    while True:
        r = client.get(
            "/v2/session",
            params={"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME])},
            headers=creds.read_headers,
        )
        assert r.status_code == 200, r.text
        rows += r.json()["data"]
        if r.json()["pagination"]["next"] is None:
            return rows
        page += 1


# --- apps and keys -----------------------------------------------------------------------------------


def test_apps_create_json_prints_exactly_the_three_keys(fresh_server: Server) -> None:
    result = cli(fresh_server.env, "apps", "create", "my app", "--json")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    data = json.loads(lines[0])
    assert set(data) == {"appid", "apikey", "ingest_key"}
    assert re.fullmatch(r"[0-9a-f]{24}", data["appid"])
    for kind in ("apikey", "ingest_key"):
        key = data[kind]
        assert isinstance(key, str) and len(key) >= 24  # >= 128 random bits in a URL-safe alphabet
        assert key not in result.stderr
    assert data["apikey"] != data["ingest_key"]
    other = json.loads(cli(fresh_server.env, "apps", "create", "my app", "--json").stdout)
    assert other["appid"] != data["appid"]
    assert {other["apikey"], other["ingest_key"]}.isdisjoint({data["apikey"], data["ingest_key"]})


def test_keys_are_not_stored_in_clear(fresh_server: Server) -> None:
    creds = [fresh_server.create_app(f"app-{i}") for i in range(2)]
    rotated = json.loads(cli(fresh_server.env, "apps", "rotate-key", creds[0].appid, "--json").stdout)[
        "apikey"
    ]
    keys = [k for c in creds for k in (c.apikey, c.ingest_key)] + [rotated]
    con = duckdb.connect(db_path(fresh_server), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert "apps" in tables
        apps = con.execute("SELECT * FROM apps").fetchall()
        assert {c.appid for c in creds} <= {v for row in apps for v in row}
        for table in tables:  # in no column of any table
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                text = " ".join(str(v) for v in row)
                for key in keys:
                    assert key not in text, f"a key is stored in clear in {table}"
    finally:
        con.close()
    data_dir = fresh_server.data_dir
    for f in data_dir.rglob("*"):
        if f.is_file():
            raw = f.read_bytes()
            for key in keys:
                assert key.encode() not in raw, f"a key appears in {f.name}"


def test_apps_list_shows_the_apps(fresh_server: Server) -> None:
    a = fresh_server.create_app("first-app")
    b = fresh_server.create_app("second app")
    out = cli(fresh_server.env, "apps", "list")
    assert out.returncode == 0
    lines = {line for line in out.stdout.splitlines() if line.strip()}
    assert any(a.appid in line and "first-app" in line for line in lines), out.stdout
    assert any(b.appid in line and "second app" in line for line in lines), out.stdout
    for key in (a.apikey, a.ingest_key, b.apikey, b.ingest_key):
        assert key not in out.stdout + out.stderr


@pytest.mark.parametrize("appid", ["0123456789abcdef01234567", "not-an-app", ""])
def test_rotate_key_of_unknown_app_fails_in_one_line(fresh_server: Server, appid: str) -> None:
    fresh_server.create_app("exists")
    result = cli(fresh_server.env, "apps", "rotate-key", appid, "--json", check=False)
    line = one_line_failure(result)
    assert result.stdout.strip() == "" or "{" not in result.stdout
    if appid:
        assert appid in line


def test_rotate_key_with_unknown_kind_fails_in_one_line(fresh_server: Server) -> None:
    a = fresh_server.create_app("exists")
    line = one_line_failure(
        cli(fresh_server.env, "apps", "rotate-key", a.appid, "--kind", "password", check=False)
    )
    assert "apikey" in line and "ingest_key" in line


# --- import --------------------------------------------------------------------------------------------


def write_inputs(tmp: Path, docs_nd: list[dict], docs_gz: list[dict], docs_pq: list[dict]) -> dict[str, Path]:
    nd = tmp / "sessions.ndjson"
    nd.write_text("\n".join(json.dumps(d) for d in docs_nd) + "\n")
    gz = tmp / "sessions.ndjson.gz"
    with gzip.open(gz, "wt") as f:
        for d in docs_gz:
            f.write(json.dumps(d) + "\n")
    pqf = tmp / "sessions.parquet"
    pq.write_table(pa.Table.from_pylist(docs_pq), pqf)
    return {"ndjson": nd, "gz": gz, "parquet": pqf}


def test_import_ndjson_gzip_and_parquet(fresh_server: Server, tmp_path: Path) -> None:
    docs = {
        "ndjson": list(generate_sessions(300, days=20, seed=41, now=NOW)),
        "gz": list(generate_sessions(250, days=20, seed=42, now=NOW)),
        "parquet": list(generate_sessions(200, days=20, seed=43, now=NOW)),
    }
    files = write_inputs(tmp_path, docs["ndjson"], docs["gz"], docs["parquet"])
    apps = {kind: fresh_server.create_app(f"import-{kind}") for kind in docs}
    for _ in range(2):  # the second import is a no-op: same sessions, no duplicates
        for kind, path in files.items():
            result = cli(fresh_server.env, "import", str(path), "--app", apps[kind].appid, check=False)
            assert result.returncode == 0, result.stderr + result.stdout
            assert f"imported {len(docs[kind])} sessions" in result.stdout, result.stdout
    fresh_server.start()
    # while the server holds the file, an import fails cleanly
    busy = cli(fresh_server.env, "import", str(files["ndjson"]), "--app", apps["ndjson"].appid, check=False)
    one_line_failure(busy)
    with fresh_server.client() as client:
        for kind, expected in docs.items():
            rows = {r["sessionId"]: r for r in list_all(client, apps[kind])}
            assert len(rows) == len(list_all(client, apps[kind]))
            assert set(rows) == {d["sessionId"] for d in expected}, kind
            for d in expected[:50]:
                row = rows[d["sessionId"]]
                assert row["property"]["uploadedServerTime"] == d["property"]["uploadedServerTime"], kind
                assert row["property"]["durationSec"] == d["property"]["durationSec"], kind
                screens = d["property"].get("totalScreen", len(d["screens"]) if "screens" in d else None)
                assert row["property"]["totalScreen"] == screens, kind
                assert row["device"]["model"] == d["device"].get("model"), kind
                assert row["user"]["uxcamuserid"] == d["user"]["uxcamuserid"], kind
                for k, v in d["user"].items():
                    if k not in ("uxcamuserid", "kUXCam_UserIdentity", "alias"):
                        assert row["user"][k] == v, (kind, k)
            # events came along: the per-session event names match
            sample = next(d for d in expected if d.get("events"))
            name = sample["events"][0]["name"]
            flt = [
                ALL_TIME,
                {"attribute": "event_name", "operator": "equal", "value": name},
                {"attribute": "session_id", "operator": "equal", "value": sample["sessionId"]},
            ]
            r = client.get(
                "/v2/session", params={"filters": json.dumps(flt)}, headers=apps[kind].read_headers
            )
            assert [x["sessionId"] for x in r.json()["data"]] == [sample["sessionId"]], kind
    fresh_server.stop()
    con = duckdb.connect(db_path(fresh_server), read_only=True)
    try:
        for kind, expected in docs.items():
            n, distinct = con.execute(
                "SELECT count(*), count(DISTINCT session_id) FROM sessions WHERE app_id = ?",
                [apps[kind].appid],
            ).fetchone()
            assert (n, distinct) == (len(expected), len(expected)), kind
    finally:
        con.close()


def test_import_reports_rejections_and_bad_files(fresh_server: Server, tmp_path: Path) -> None:
    a = fresh_server.create_app("import-errors")
    good = list(generate_sessions(5, days=5, seed=44, now=NOW))
    mixed = tmp_path / "mixed.ndjson"
    mixed.write_text(
        "\n".join([json.dumps(good[0]), json.dumps({"sessionId": "no identity"}), json.dumps(good[1])])
    )
    result = cli(fresh_server.env, "import", str(mixed), "--app", a.appid, check=False)
    assert result.returncode != 0
    assert (
        "imported 2 sessions, rejected 1" in result.stdout
        and "Traceback" not in result.stdout + result.stderr
    )
    assert "rejected: line 2 (no identity): sessionId: must be 1-64 characters" in result.stdout, result.stdout
    broken = tmp_path / "broken.ndjson"
    broken.write_text(json.dumps(good[2]) + "\n{not json\n" + json.dumps(good[4]) + "\n")
    result = cli(fresh_server.env, "import", str(broken), "--app", a.appid, check=False)
    assert result.returncode == 3 and "Traceback" not in result.stdout + result.stderr
    assert "imported 2 sessions, rejected 1" in result.stdout
    assert "rejected: line 2: not valid JSON" in result.stdout, result.stdout
    rows = tmp_path / "rows.parquet"
    bad = {**good[1], "sessionId": "bad-duration", "property": {**good[1]["property"], "durationSec": -4.0}}
    pq.write_table(pa.Table.from_pylist([good[0], good[2], bad]), rows)
    result = cli(fresh_server.env, "import", str(rows), "--app", a.appid, check=False)
    assert result.returncode == 3 and "rejected: row 3 (bad-duration): property.durationSec: " in result.stdout, result.stdout
    assert "more" not in result.stdout  # one rejection, shown
    nd = tmp_path / "ok.ndjson"
    nd.write_text(json.dumps(good[3]))
    line = one_line_failure(
        cli(fresh_server.env, "import", str(nd), "--app", "0123456789abcdef01234567", check=False)
    )
    assert "0123456789abcdef01234567" in line
    result = cli(fresh_server.env, "import", str(tmp_path / "missing.ndjson"), "--app", a.appid, check=False)
    assert result.returncode == 1 and "missing.ndjson: no such file" in result.stderr, result  # not 3: nothing ran


def test_import_writes_every_rejection_to_a_file(fresh_server: Server, tmp_path: Path) -> None:
    """The first five rejections are printed, then how many more; --rejects FILE holds all of them, placed by
    line, for a historic import to fix and re-run."""
    a = fresh_server.create_app("import-rejects")
    good = list(generate_sessions(12, days=5, seed=45, now=NOW))
    lines, bad = [], {}
    for i, doc in enumerate(good):
        lines.append(json.dumps(doc))
        if i % 2:
            sid = f"bad-{i}"
            lines.append(json.dumps({**doc, "sessionId": sid, "property": {**doc["property"], "durationSec": -i}}))
            bad[len(lines)] = sid
    lines.insert(3, "{oops")
    bad = {n + (n >= 4): sid for n, sid in bad.items()} | {4: None}  # the lines after the broken one move down
    path = tmp_path / "history.ndjson"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "rejects.ndjson"
    result = cli(fresh_server.env, "import", str(path), "--app", a.appid, "--rejects", str(out), check=False)
    assert result.returncode == 3, result
    assert f"imported 12 sessions, rejected {len(bad)}" in result.stdout, result.stdout
    assert result.stdout.count("  rejected: ") == 5
    assert f"… and {len(bad) - 5} more (all of them are in {out})" in result.stdout, result.stdout
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["line"]: r["sessionId"] for r in records} == bad
    sent = path.read_text().splitlines()
    for r in records:
        if r["sessionId"] is None:
            assert len(r["errors"]) == 1 and r["errors"][0].startswith("not valid JSON: "), r
            assert r["text"] == "{oops" and "document" not in r, r
        else:
            assert r["errors"] == ["property.durationSec: must be a number ≥ 0"], r
            assert r["document"] == json.loads(sent[r["line"] - 1]), r  # the record as it was sent
    again = cli(fresh_server.env, "import", str(path), "--app", a.appid, check=False)
    assert "--rejects FILE writes them all" in again.stdout, again.stdout
    # fixed, the rejected documents import from the rejects file's own records
    fixed = tmp_path / "fixed.ndjson"
    fixed.write_text("".join(
        json.dumps({**r["document"], "property": {**r["document"]["property"], "durationSec": 1.5}}) + "\n"
        for r in records if "document" in r
    ))
    result = cli(fresh_server.env, "import", str(fixed), "--app", a.appid, check=False)
    assert result.returncode == 0 and f"imported {len(bad) - 1} sessions, rejected 0" in result.stdout, result


# --- help -------------------------------------------------------------------------------------------------

COMMANDS = [
    [],
    ["serve"],
    ["apps"],
    ["apps", "create"],
    ["apps", "list"],
    ["apps", "rotate-key"],
    ["demo"],
    ["import"],
]


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["demo", "--sessions", "-5"], {}, "--sessions"),
        (["demo", "--days", "0"], {}, "--days"),
        (["serve", "--port", "99999"], {}, "--port"),
        (["apps", "list"], {"SESSIONSCOPE_PORT": "99999"}, "SESSIONSCOPE_PORT"),
        # settings that would start a server unable to do its work fail at start, in one line
        (["serve"], {"SESSIONSCOPE_INGEST_WORKERS": "-2"}, "SESSIONSCOPE_INGEST_WORKERS"),
        (["serve"], {"SESSIONSCOPE_MAX_BATCH_SESSIONS": "0"}, "SESSIONSCOPE_MAX_BATCH_SESSIONS"),
        (["serve"], {"SESSIONSCOPE_MEMORY_LIMIT": "banana"}, "'banana' is not a size like 512MB"),
        (["serve"], {"SESSIONSCOPE_THREADS": "-3"}, "SESSIONSCOPE_THREADS"),
        (["serve"], {"SESSIONSCOPE_RATE_LIMIT_PER_SECOND": "-5"}, "SESSIONSCOPE_RATE_LIMIT_PER_SECOND"),
        (["apps", "list", "--store", "chdb://{tmp}/sessions.csv"], {}, "cannot open the store chdb://"),
        (["apps", "list", "--store", "bogus://x"], {}, "unsupported store URL scheme 'bogus'"),
        (["import", "{tmp}/sessions.csv", "--app", "0123456789abcdef01234567"], {}, "NDJSON"),
        # a mistyped store is not created empty by a command that reads it
        (["apps", "list", "--store", "{tmp}/typo/x.duckdb"], {}, "no store at {tmp}/typo/x.duckdb"),
        (["apps", "rotate-key", "0123456789abcdef01234567", "--store", "duckdb://{tmp}/typo/x.duckdb"], {},
         "no store at {tmp}/typo/x.duckdb"),
        (["export", "--app", "0123456789abcdef01234567", "-o", "{tmp}/out.ndjson", "--store", "chdb://{tmp}/typo"], {},
         "no store at {tmp}/typo"),
        (["copy", "--from", "duckdb://{tmp}/typo/x.duckdb", "--to", "chdb://{tmp}/ch"], {}, "no store at {tmp}/typo/x.duckdb"),
    ],
)
def test_bad_arguments_fail_before_touching_anything(
    fresh_server: Server, tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    (tmp_path / "sessions.csv").write_text("sessionId,duration\ns1,3\n")
    a = fresh_server.create_app("only")
    result = cli({**fresh_server.env, **env}, *[arg.format(tmp=tmp_path) for arg in args], check=False)
    assert result.returncode != 0 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert says.format(tmp=tmp_path) in result.stdout + result.stderr, result.stdout + result.stderr
    assert not (tmp_path / "typo").exists() and not (tmp_path / "ch").exists()
    listed = cli(fresh_server.env, "apps", "list").stdout.splitlines()  # no demo app was left behind
    assert len(listed) == 1 and a.appid in listed[0], listed


def test_demo_prints_credentials_that_work_and_a_line_to_export_them(fresh_server: Server) -> None:
    out = cli(fresh_server.env, "demo", "--sessions", "60", "--days", "5").stdout
    exported = re.search(r"^\s*export BASE=(\S+) APPID=(\S+) APIKEY=(\S+) INGEST_KEY=(\S+)$", out, re.M)
    assert exported, out
    base, appid, apikey, ingest_key = exported.groups()
    assert base == f"{fresh_server.base_url}/v2"
    assert f"App id:          {appid}" in out and f"Data access key: {apikey}" in out and f"Ingest key:      {ingest_key}" in out
    curl_url = re.search(r"'(http\S+/v2/session\?\S+)'", out).group(1)
    fresh_server.start()
    with fresh_server.client() as client:
        listed = client.get(f"{base}/session", params={"page_size": 100}, headers={"appid": appid, "apikey": apikey})
        assert listed.status_code == 200 and len(listed.json()["data"]) == 60, listed.text
        ios = client.get(curl_url, headers={"appid": appid, "apikey": apikey}).json()["data"]
        assert ios and all(s["device"]["platform"] == "ios" for s in ios)  # the example's filter
        # the newest sessions recorded with video have a playable replay (up to 25 of them), the others none
        rows = client.get(f"{base}/session", params={"page_size": 100, "with_video": "true"},
                          headers={"appid": appid, "apikey": apikey}).json()["data"]
        with_video = sorted((r for r in rows if r["property"]["hasVideo"]),
                            key=lambda r: (r["property"]["uploadedServerTime"], r["sessionId"]), reverse=True)
        assert with_video, "the demo's sessions include some recorded with video"
        linked = [r["sessionId"] for r in rows if r["video"].startswith(f"{fresh_server.base_url}/v2/video/")]
        assert sorted(linked) == sorted(r["sessionId"] for r in with_video[:25])
        assert f"Stored a (synthetic) replay video for the {len(linked)} newest sessions recorded with video." in out
        replay = client.get(next(r["video"] for r in rows if r["sessionId"] == linked[0]))
        assert replay.status_code == 200 and replay.content == make_mp4()
        sent = client.post(f"{base}/ingest/sessions", json=[{"sessionId": "readme-1", "user": {"kUXCam_UserIdentity": "U#1"}}],
                           headers={"appid": appid, "X-Ingest-Key": ingest_key})
        assert sent.json() == {"success": True, "accepted": 1, "rejected": []}, sent.text


def test_serve_on_a_taken_port_fails_in_one_line_before_opening_the_store(fresh_server: Server, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        store = f"chdb://{tmp_path}/ch"
        result = cli(fresh_server.env, "serve", "--port", str(port), "--store", store, check=False)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use" in out and "Traceback" not in out
    assert "serving" not in out  # nothing claims to serve
    assert not (tmp_path / "ch").exists()  # the store was not created for a server that cannot start


def test_help_for_every_command(tmp_path: Path) -> None:
    env = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'x.duckdb'}").env
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom sessionscope.cli import app\n"
        "runner = CliRunner()\nimport json\nout = {}\n"
        f"for args in {COMMANDS!r}:\n"
        "    r = runner.invoke(app, [*args, '--help'])\n"
        "    out[' '.join(args)] = (r.exit_code, r.output)\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    for args in COMMANDS:
        exit_code, text = outputs[" ".join(args)]
        assert exit_code == 0, (args, text)
        assert "Usage" in text and "--help" in text, (args, text)
    assert "--store" in outputs["serve"][1] and "--port" in outputs["serve"][1]
    assert "--json" in outputs["apps create"][1]
    assert "--app" in outputs["import"][1]
    for sub in ("serve", "apps", "demo", "import"):
        assert sub in outputs[""][1]
    # the installed entry point answers too, and no database file was created by asking for help
    script = Path(sys.executable).parent / "sessionscope"
    r = subprocess.run([str(script), "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Usage" in r.stdout
    assert not (tmp_path / "x.duckdb").exists()
    # a description's paragraphs are wrapped to the terminal, not where its source lines end
    wide = {**env, "COLUMNS": "200", "TERMINAL_WIDTH": "200"}
    r = subprocess.run([str(script), "erase", "--help"], env=wide, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "holds a DuckDB file first, and run it with the server's SESSIONSCOPE_DATA_DIR: the replay files" in r.stdout


def test_import_through_a_running_server(tmp_path: Path) -> None:
    """--server: the file goes through POST /v2/ingest/sessions of a server that keeps running; a batch over
    its limits is split until it fits; lines and rejections are reported as a local import reports them."""
    server = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'sessions.duckdb'}",
                    extra_env={"SESSIONSCOPE_MAX_BATCH_SESSIONS": "7", "SESSIONSCOPE_MAX_BODY_BYTES": "60000"})
    a = server.create_app("remote-import")
    docs = list(generate_sessions(40, days=5, seed=46, now=NOW))
    lines = [json.dumps(d) for d in docs]
    lines.insert(5, "{not json")
    bad = {**docs[0], "sessionId": "bad-remote", "property": {**docs[0]["property"], "durationSec": -2}}
    lines.insert(30, json.dumps(bad))
    path = tmp_path / "history.ndjson"
    path.write_text("\n".join(lines) + "\n")
    server.start()
    try:
        args = ("import", str(path), "--app", a.appid, "--server", server.base_url, "--batch-size", "25")
        env = {**server.env, "SESSIONSCOPE_INGEST_KEY": a.ingest_key}
        for base in (server.base_url, server.base_url + "/v2/"):  # a second run replaces what the first stored
            result = cli(env, *args[:5], base, *args[6:], check=False)  # the API's address (BASE) works too
            assert result.returncode == 3, result
            assert "imported 40 sessions, rejected 2" in result.stdout, result.stdout
            assert "rejected: line 6: not valid JSON" in result.stdout, result.stdout
            assert "rejected: line 31 (bad-remote): property.durationSec: must be a number ≥ 0" in result.stdout
        with server.client() as client:
            got, page = {}, 1
            while page:
                r = client.get("/v2/session", params={"page": page, "page_size": 500, "filters": json.dumps([ALL_TIME])},
                               headers=a.read_headers)
                got |= {s["sessionId"]: s for s in r.json()["data"]}
                page = r.json()["pagination"]["next"]
        assert sorted(got) == sorted(d["sessionId"] for d in docs)
        for d in docs:
            assert got[d["sessionId"]]["property"]["durationSec"] == d["property"].get("durationSec"), d["sessionId"]
            assert got[d["sessionId"]]["property"]["uploadedServerTime"] == d["property"]["uploadedServerTime"]
        wrong = cli({**server.env, "SESSIONSCOPE_INGEST_KEY": "ik_wrong"}, *args, check=False)
        assert wrong.returncode == 1 and "the server answered 401" in wrong.stderr, wrong
    finally:
        server.stop()
    gone = cli(env, *args, check=False)  # the server stopped: said at once
    assert gone.returncode == 1 and f"cannot reach {server.base_url}" in gone.stderr, gone
    assert one_line_failure(cli(server.env, *args, check=False)).startswith("error: --server needs the app's ingest key")


def test_a_new_data_directory_is_private(tmp_path: Path) -> None:
    """Sessions are personal data: the data directory a command creates is readable by its owner only."""
    data_dir = tmp_path / "srv" / "data"
    env = Server(data_dir=data_dir, store_url=f"duckdb:///{data_dir / 'sessions.duckdb'}").env
    cli(env, "apps", "create", "private", "--json")
    assert (data_dir / "sessions.duckdb").exists()
    assert data_dir.stat().st_mode & 0o777 == 0o700, oct(data_dir.stat().st_mode)


# --- mistakes a user makes (from a review of every command's failure paths) --------------------------------


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    """DuckDB opens a data file given as a database as an in-memory one over it: an app created there was
    printed and lost. Every command refuses such a path, and a directory, in one line."""
    data = tmp_path / "sessions.ndjson"
    data.write_text('{"sessionId": "a"}\n')
    env = Server(data_dir=tmp_path, store_url=f"duckdb:///{data}").env
    port = str(free_port())
    for args in (["apps", "create", "x"], ["apps", "list"], ["serve", "--port", port],
                 ["copy", "--from", str(data), "--to", f"chdb:///{tmp_path / 'ch'}"]):
        line = one_line_failure(cli(env, *args, check=False))
        assert "it is not a DuckDB database file" in line, (args, line)
    assert data.read_text() == '{"sessionId": "a"}\n' and not (tmp_path / "ch").exists()
    line = one_line_failure(cli({**env, "SESSIONSCOPE_STORE": f"duckdb:///{tmp_path}"}, "apps", "list", check=False))
    assert "it is a directory" in line, line


def test_copy_between_two_chdb_stores_is_refused_before_creating_either(tmp_path: Path) -> None:
    env = Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'x.duckdb'}").env
    line = one_line_failure(cli(env, "copy", "--from", f"chdb:///{tmp_path / 'a'}", "--to", f"chdb:///{tmp_path / 'b'}",
                                check=False))
    assert "cannot both be chDB stores" in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_export_to_standard_output_and_to_paths_it_cannot_write(fresh_server: Server, tmp_path: Path) -> None:
    a = fresh_server.create_app("export-paths")
    docs = list(generate_sessions(30, days=5, seed=47, now=NOW))
    path = tmp_path / "in.ndjson"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    cli(fresh_server.env, "import", str(path), "--app", a.appid)
    env = fresh_server.env
    piped = cli(env, "export", "--app", a.appid, "--all-time", "-o", "-")
    assert sorted(json.loads(x)["sessionId"] for x in piped.stdout.splitlines()) == sorted(d["sessionId"] for d in docs)
    assert "exported 30 sessions to standard output" in piped.stderr, piped.stderr
    to_file = tmp_path / "out.ndjson"
    cli(env, "export", "--app", a.appid, "--all-time", "-o", str(to_file))
    assert to_file.read_text() == piped.stdout  # the same bytes either way
    for target, says in ((tmp_path / "nodir" / "x.ndjson", "there is no directory"), (tmp_path, "it is a directory"),
                         (Path("/dev/full"), "No space left on device")):
        line = one_line_failure(cli(env, "export", "--app", a.appid, "--all-time", "-o", str(target), check=False))
        assert line.startswith(f"error: cannot write {target}") and says in line, line
    # a refused export leaves the file that was there, and no partial file beside it
    line = one_line_failure(cli(env, "export", "--app", a.appid, "--all-time", "--filters", "[1]", "-o", str(to_file),
                                check=False))
    assert "filters[0] must be an object" in line, line  # the user's own index, though --all-time adds a filter
    assert to_file.read_text() == piped.stdout and sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name) == []


def test_import_refuses_files_it_cannot_read_in_one_line(fresh_server: Server, tmp_path: Path) -> None:
    """Named .gz but not gzip, a cut-off .gz, one JSON array (with --server too: the same answer), options out
    of range, and a rejects file that cannot be written: one line and a non-zero status, no traceback."""
    a = fresh_server.create_app("import-mistakes")
    docs = list(generate_sessions(400, days=5, seed=48, now=NOW))
    text = "".join(json.dumps(d) + "\n" for d in docs)
    (tmp_path / "plain.ndjson.gz").write_text(text)
    (tmp_path / "cut.ndjson.gz").write_bytes(gzip.compress(text.encode())[:4000])
    (tmp_path / "array.json").write_text(json.dumps(docs[:3], indent=1))
    env = fresh_server.env
    for name, says in (("plain.ndjson.gz", "not gzip data, though its name ends in .gz"),
                       ("cut.ndjson.gz", "the file ends early (a cut-off .gz)"),
                       ("array.json", "holds a JSON array; import reads one session document a line")):
        line = one_line_failure(cli(env, "import", str(tmp_path / name), "--app", a.appid, check=False))
        assert says in line, (name, line)
    for option in (["--workers", "-1"], ["--batch-size", "0"]):
        result = cli(env, "import", str(tmp_path / "array.json"), "--app", a.appid, *option, check=False)
        assert result.returncode == 2 and option[0] in result.stderr and "Traceback" not in result.stderr, result
    bad = tmp_path / "bad.ndjson"
    bad.write_text(json.dumps({**docs[0], "property": {**docs[0]["property"], "durationSec": -1}}) + "\n")
    line = one_line_failure(cli(env, "import", str(bad), "--app", a.appid, "--rejects", "/dev/full", check=False))
    assert "cannot write" in line and "No space left on device" in line, line
    fresh_server.start()
    try:
        remote = cli({**env, "SESSIONSCOPE_INGEST_KEY": a.ingest_key}, "import", str(tmp_path / "array.json"), "--app",
                     a.appid, "--server", fresh_server.base_url, check=False)
        assert "holds a JSON array" in one_line_failure(remote) and remote.returncode == 1
        with fresh_server.client() as client:
            assert list_all(client, a) == []  # nothing of any of them was stored
    finally:
        fresh_server.stop()


def test_app_names_are_one_line_and_apps_list_speaks_json(fresh_server: Server) -> None:
    env = fresh_server.env
    for name in ("", "   ", "two\nlines", "x" * 101):
        line = one_line_failure(cli(env, "apps", "create", name, check=False))
        assert "an app's name is 1 to 100 characters on one line" in line, (name, line)
    made = json.loads(cli(env, "apps", "create", "  Shop  ", "--json").stdout)
    listed = json.loads(cli(env, "apps", "list", "--json").stdout)
    assert [(x["appid"], x["name"]) for x in listed] == [(made["appid"], "Shop")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", listed[0]["created_at"])


@pytest.mark.skipif(sys.platform != "linux", reason="setpriv drops root's override of file modes")
def test_reading_commands_work_on_a_store_file_they_cannot_write(fresh_server: Server, tmp_path: Path) -> None:
    """A snapshot or another user's file: `apps list` and `export` open it read-only (root runs them under
    setpriv without CAP_DAC_OVERRIDE, so that the file's modes bind)."""
    import shutil

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is missing")
    a = fresh_server.create_app("snapshot")
    docs = list(generate_sessions(20, days=5, seed=49, now=NOW))
    path = tmp_path / "in.ndjson"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    cli(fresh_server.env, "import", str(path), "--app", a.appid)
    folder = tmp_path / "snap"
    folder.mkdir()
    snap = folder / "store.duckdb"
    shutil.copy(db_path(fresh_server), snap)
    snap.chmod(0o444)
    folder.chmod(0o555)
    env = {**fresh_server.env, "SESSIONSCOPE_STORE": f"duckdb:///{snap}"}
    drop = ["setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*drop, sys.executable, "-m", "sessionscope.cli", *args], env=env, capture_output=True,
                              text=True, timeout=300)

    try:
        listed = run("apps", "list", "--json")
        assert listed.returncode == 0 and [x["appid"] for x in json.loads(listed.stdout)] == [a.appid], listed
        out = run("export", "--app", a.appid, "--all-time", "-o", "-")
        assert out.returncode == 0, out
        assert sorted(json.loads(x)["sessionId"] for x in out.stdout.splitlines()) == sorted(d["sessionId"] for d in docs)
        assert run("apps", "create", "more").returncode == 1  # a write still needs a file it may write
    finally:
        folder.chmod(0o755)


def test_an_unreachable_clickhouse_is_one_line_with_the_sockets_reason(tmp_path: Path) -> None:
    port = free_port()  # a port nothing listens on
    env = Server(data_dir=tmp_path, store_url=f"clickhouse://u:p@127.0.0.1:{port}/db").env
    line = one_line_failure(cli(env, "apps", "list", check=False))
    assert line == f"error: cannot reach ClickHouse at 127.0.0.1:{port}/db: Connection refused", line


def test_version(tmp_path: Path) -> None:
    from sessionscope import __version__

    result = cli(Server(data_dir=tmp_path, store_url=f"duckdb:///{tmp_path / 'x.duckdb'}").env, "--version")
    assert result.stdout == f"sessionscope {__version__}\n" and not (tmp_path / "x.duckdb").exists()
