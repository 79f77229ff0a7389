"""`build.py serve` under what a careless user or a hostile page does: a failed write, a missing folder,
signals at any moment, a bad port, odd URLs, and requests from other sites (DNS rebinding)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from httpref.serve import DevSite, SaveWatcher
from httpref.write import BIG_FILE, update_files
from conftest import disk_full_after, run_build
from test_serve import (SOURCE, assert_same_as_clean_build, copy_project, dev, files_in,  # noqa: F401
                        reword, wait_for)

# --------------------------------------------------------------------------- a failed write


def test_a_failed_write_keeps_the_record_of_the_disk_true(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = {"a.html": b"1", "b.html": b"1", "c.html": b"1"}
    on_disk: dict[str, bytes] = {}
    update_files(first, on_disk, out)
    disk_full_after(1, monkeypatch)  # a.html is written, b.html meets a full disk
    with pytest.raises(OSError) as failure:
        update_files({"a.html": b"2", "b.html": b"2"}, on_disk, out)
    assert failure.value.errno == errno.ENOSPC and failure.value.filename == str(out / "b.html")
    assert on_disk == files_in(out) == {"a.html": b"2", "b.html": b"1", "c.html": b"1"}
    monkeypatch.undo()
    # A name too long for the file system fails for real, after a file that was written.
    too_long = {"a.html": b"3", "x" * 300 + "/index.html": b"x"}
    with pytest.raises(OSError) as failure:
        update_files(too_long, on_disk, out)
    assert failure.value.errno == errno.ENAMETOOLONG
    assert on_disk == files_in(out)  # no partial copy either
    assert sorted(update_files(first, on_disk, out)) == ["a.html"]  # the edit undone: what differs is rewritten
    assert on_disk == files_in(out) == first


def test_a_big_file_half_written_over_is_written_whole_next_time(tmp_path, monkeypatch):
    out = tmp_path / "out"
    big = b"1" * BIG_FILE
    on_disk: dict[str, bytes] = {}
    update_files({"api/codes.json": big}, on_disk, out)

    def half_then_full(target: Path, data: bytes) -> bool:
        target.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("httpref.write._overwrite", half_then_full)
    with pytest.raises(OSError):
        update_files({"api/codes.json": b"2" * BIG_FILE}, on_disk, out)
    assert on_disk == files_in(out) == {}  # a mixed copy is never served nor trusted
    monkeypatch.undo()
    assert update_files({"api/codes.json": big}, on_disk, out) == ["api/codes.json"]
    assert files_in(out) == {"api/codes.json": big}


def test_after_a_failed_write_the_fix_is_served(dev, monkeypatch, capsys):
    reloads = []
    site = DevSite(dev, reloads.append)
    source = dev.content / SOURCE.relative_to("content")
    good = source.read_text(encoding="utf-8")
    reword(source, "never fully written")
    disk_full_after(1, monkeypatch)  # the edit's first file lands, the others meet a full disk
    site.rebuild([source])
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].endswith("cannot write the site: No space left on device")
    assert [str(problem) for problem in site.problems] == errors  # the browser shows the same line
    assert reloads == ["*"]
    monkeypatch.undo()
    source.write_text(good, encoding="utf-8")  # the edit undone: the half-written pages must go too
    site.rebuild([source])
    assert not site.problems and reloads == ["*", "*"]
    assert_same_as_clean_build(dev)


# --------------------------------------------------------------------------- start and stop


def test_a_missing_content_folder_is_one_line(tmp_path):
    result = run_build("serve", "--content", str(tmp_path / "nowhere"), "--port", "0", cwd=tmp_path, timeout=30)
    assert result.returncode == 1
    assert result.stderr == f"{tmp_path / 'nowhere'}: error: content folder not found\n"


def test_a_folder_that_cannot_be_watched_is_said_not_waited_for(tmp_path):
    # A content folder removed just before serve watches it: the server must not wait forever to start.
    watcher = SaveWatcher([tmp_path / "removed"], lambda saved: None)
    assert watcher.ready.wait(10)
    assert isinstance(watcher.failure, FileNotFoundError)
    watcher.close()


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_refused(port):
    result = run_build("serve", "--port", port, timeout=30)
    assert result.returncode == 2
    assert f"build.py serve: error: argument --port: must be a port number, 1 to 65535 (0: any free port), " \
           f"not '{port}'\n" in result.stderr and "Traceback" not in result.stderr


def start(project: Path, temp: Path) -> subprocess.Popen:
    """`python build.py serve --port 0` in `project`, its built folder in `temp`, its output in files there."""
    with open(temp / "serve.out", "wb") as out, open(temp / "serve.err", "wb") as err:
        return subprocess.Popen([sys.executable, "build.py", "serve", "--port", "0"], cwd=project,
                                stdout=out, stderr=err, env={**os.environ, "TMPDIR": str(temp)})


def served_port(process: subprocess.Popen, temp: Path) -> int:
    deadline = time.monotonic() + 60  # start-up, not a speed check: CI machines may be busy
    while not (found := re.search(r"^serving http://127\.0\.0\.1:(\d+)/ ", (temp / "serve.out").read_text(), re.M)):
        assert process.poll() is None, (temp / "serve.err").read_text()
        assert time.monotonic() < deadline, "serve did not start"
        time.sleep(0.02)
    return int(found[1])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_starting_stops_it_and_removes_its_folder(tmp_path, signum):
    process = start(copy_project(tmp_path / "project"), tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("http-status-serve-*")):  # the first build has begun
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.005)
        process.send_signal(signum)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert "serving" not in (tmp_path / "serve.out").read_text()  # it was still starting
    assert (tmp_path / "serve.out").read_text().splitlines()[-1] == "stopped"
    assert "Traceback" not in (tmp_path / "serve.err").read_text()
    assert not list(tmp_path.glob("http-status-serve-*"))


# --------------------------------------------------------------------------- requests


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server on a free port that it picked itself (--port 0) and printed."""
    temp = tmp_path_factory.mktemp("safety")
    process = start(copy_project(temp / "project"), temp)
    try:
        port = served_port(process, temp)
        yield port, process, temp
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    assert "Traceback" not in (temp / "serve.err").read_text()


def request(port: int, path: str, host: str | None = None, origin: str | None = None) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{port}" if host is None else host)
        if origin:
            connection.putheader("Origin", origin)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/%00", "/404/%00/", "/a%00b/index.html", "/%2e%2e%00", "/" + "a" * 5000,
                                  "/%2e%2e/" * 200])
def test_odd_paths_are_not_found_and_the_server_lives_on(server, path):
    port, process, temp = server
    assert request(port, path)[0] in (400, 404)
    assert request(port, "/404/")[0] == 200 and process.poll() is None
    assert "Traceback" not in (temp / "serve.err").read_text()


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}", "LOCALHOST:{port}"])
def test_the_machines_own_names_are_served(server, host):
    port = server[0]
    assert request(port, "/404/", host=host.format(port=port))[0] == 200


@pytest.mark.parametrize("path", ["/", "/404/", "/forcereload", "/livereload.js", "/livereload"])
@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1.evil.example:{port}",
                                  "localhost.evil.example:{port}", ""])
def test_a_foreign_host_is_refused(server, host, path):
    # What a page that rebinds its own name to 127.0.0.1 sends: its name, not this machine's.
    port = server[0]
    assert request(port, path, host=host.format(port=port))[0] == 403


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:1", "null"])
def test_a_request_from_another_origin_is_refused(server, origin):
    port = server[0]
    assert request(port, "/forcereload", origin=origin)[0] == 403
    assert request(port, "/forcereload", origin=f"http://127.0.0.1:{port}")[0] == 200


def run_async(make_coroutine):
    """asyncio.run in a thread of its own: after a browser test, Playwright's sync API keeps an event loop running
    in this one, where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


async def open_socket(port: int, origin: str | None):
    headers = {"Origin": origin} if origin else {}
    return await websocket_connect(HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers,
                                               connect_timeout=10, request_timeout=10))


def test_the_reload_websocket_refuses_another_origin(server):
    port = server[0]
    for origin in ("http://evil.example", f"http://evil.example:{port}", f"http://localhost:{port}"):
        with pytest.raises(HTTPClientError) as refused:
            run_async(lambda: open_socket(port, origin))
        assert refused.value.code == 403


def test_the_reload_websocket_of_its_own_origin_hears_reloads(server):
    port = server[0]

    async def hear_a_reload():
        socket = await open_socket(port, f"http://127.0.0.1:{port}")
        socket.write_message('{"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}')
        assert '"hello"' in await asyncio.wait_for(socket.read_message(), 10)
        socket.write_message('{"command": "info", "url": "http://127.0.0.1/"}')
        await asyncio.sleep(0.1)  # the server counts the tab once it has read `info`
        status, _ = await asyncio.to_thread(request, port, "/forcereload?path=assets/style.css")
        assert status == 200
        message = await asyncio.wait_for(socket.read_message(), 10)
        socket.close()
        return message

    assert '"path": "assets/style.css"' in run_async(hear_a_reload)



def test_a_file_that_cannot_be_written_is_an_error_page_and_the_fix_is_served(server):
    port, process, temp = server
    project, built = temp / "project", next(temp.glob("http-status-serve-*"))
    source = project / SOURCE
    good = source.read_text(encoding="utf-8")
    # The files 404's description is on; the search index is written last of them, and replaced whole
    # (not written over in place) through a partial copy beside it, which a folder now stands in the way of.
    quoting = ["/404/", "/api/404.json", "/api/codes.json", "/search-index.js"]
    assert (built / "search-index.js").stat().st_size < BIG_FILE
    (built / ".search-index.js.partial").mkdir()
    (built / ".search-index.js.partial/x").write_text("x")
    reword(source, "blocked")

    def error_shown():
        status, body = request(port, "/")
        return status == 500 and "cannot write the site: Is a directory" in body

    wait_for(error_shown, "the write error in the browser", within=10)
    assert f"{built / 'search-index.js'}:1:1: error: cannot write the site: Is a directory" in \
        (temp / "serve.err").read_text()
    shutil.rmtree(built / ".search-index.js.partial")  # the obstacle removed, and the edit undone:
    source.write_text(good, encoding="utf-8")  # the files written meanwhile must be written back
    wait_for(lambda: request(port, "/")[0] == 200, "the site again", within=10)
    wait_for(lambda: not any("(blocked)" in request(port, path)[1] for path in quoting),
             "the undone edit everywhere", within=10)
