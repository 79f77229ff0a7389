"""Shared fixtures: the project's paths, a build of the real content, and Debian's Chromium."""
from __future__ import annotations

import errno
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from httpref.load import load
from httpref.merge import Reference, merge
from httpref.validate import validate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def copy_generator(folder: Path, *parts: str) -> None:
    """What runs as `python build.py` in `folder`: the entry point and its package (no bytecode caches), and
    the project's folders named in `parts` ("templates", "static", "content")."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "build.py", folder / "build.py")
    shutil.copytree(ROOT / "httpref", folder / "httpref", ignore=shutil.ignore_patterns("__pycache__"))
    for part in parts:
        shutil.copytree(ROOT / part, folder / part)


def disk_full_after(writes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Path.write_bytes` fails as a full disk does once `writes` files have been written."""
    real_write = Path.write_bytes
    written = []

    def write_until_full(self, data):
        written.append(self)
        if len(written) > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_until_full)


def run_build(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python build.py ARGS` as a user runs it; output captured as text."""
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    """The real content built once (hosted mode, no base URL) into a temp folder."""
    out = tmp_path_factory.mktemp("site") / "site"
    result = run_build("build", "--content", str(ROOT / "content"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


class ServedSite(NamedTuple):
    url: str  # ends with "/"
    folder: Path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep request logs out of the test output
        pass


@pytest.fixture(scope="session")
def served_site(tmp_path_factory) -> Iterator[ServedSite]:
    """The real content built with --base-url set to where it is served: http.server on 127.0.0.1 in a thread."""
    folder = tmp_path_factory.mktemp("served") / "site"
    handler = functools.partial(QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        url = f"http://127.0.0.1:{server.server_port}/"
        result = run_build("build", "--content", str(ROOT / "content"), "--out", str(folder), "--base-url", url)
        assert result.returncode == 0, result.stderr
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield ServedSite(url, folder)
        server.shutdown()


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The merged model of the real content."""
    return merge(validate(load(ROOT / "content")))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
