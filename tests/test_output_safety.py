"""Nothing outside the site is ever deleted or overwritten: `build` replaces only a folder that is missing, empty
or a previous build (it holds `.httpref-site`), sweeps only the temporary names it makes, follows a symlinked
`--out`; `bundle` replaces only a zip it made; every base URL obeys site.yaml's URL rule."""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, run_build

VALID = ROOT / "tests" / "fixtures" / "broken" / "_valid"  # 12 pages: a build takes well under a second
MARKER = ".httpref-site"


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every file (its bytes), folder ("dir") and symlink (its target) under `folder`, by relative path."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = path.read_bytes()
    return found


def build(out: Path | str, *options: str, cwd: Path = ROOT):
    return run_build("build", "--content", str(VALID), "--out", str(out), *options, cwd=cwd)


def bundle(out: Path | str, cwd: Path = ROOT):
    return run_build("bundle", "--content", str(VALID), "--out", str(out), cwd=cwd)


def assert_refused_in_one_line(result, *words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def users_folder(folder: Path) -> Path:
    """A gh-pages checkout: a `.git` folder, `CNAME`, a page and a hidden note."""
    (folder / ".git" / "refs").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (folder / "CNAME").write_text("codes.example.org\n")
    (folder / "index.html").write_text("<p>my own page</p>\n")
    (folder / ".notes").write_text("keep me\n")
    return folder


# --------------------------------------------------------------------------- build --out


@pytest.mark.parametrize("make", [
    users_folder,
    lambda folder: (folder / ".git").mkdir(parents=True) or folder,
    lambda folder: (folder.mkdir(), (folder / "README.md").write_text("# docs\n")) and folder,
], ids=["gh-pages checkout", "only .git", "a docs folder"])
def test_a_folder_that_is_not_a_previous_build_is_refused_and_kept(tmp_path, make):
    out = make(tmp_path / "out")
    before = tree(tmp_path)
    result = build(out)
    assert_refused_in_one_line(result, str(out), MARKER, "nothing was written")
    assert tree(tmp_path) == before


def test_the_users_own_folders_are_refused(tmp_path):
    """The working folder and a folder above the project: each holds files the build did not make."""
    (tmp_path / "mine.txt").write_text("mine\n")
    before = tree(tmp_path)
    for out in (tmp_path, "."):
        assert_refused_in_one_line(build(out, cwd=tmp_path), "not a previous build")
    assert tree(tmp_path) == before


def test_a_missing_an_empty_and_a_previous_build_folder_are_replaced(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "missing" / "site", empty):
        result = build(out)
        assert result.returncode == 0, result.stderr
        assert (out / "index.html").is_file() and (out / MARKER).is_file()
    (empty / "stale.html").write_text("a page an older build made\n")  # the marker says the folder is a build's
    result = build(empty, "--base-url", "https://codes.example.org/")
    assert result.returncode == 0, result.stderr
    assert not (empty / "stale.html").exists()
    assert (empty / "robots.txt").is_file() and (empty / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "missing"]


def test_folders_and_files_beside_the_output_survive_every_build(tmp_path):
    siblings = {".site-old": "dir", ".site-backup": "dir", ".site-notes": b"mine\n", ".out-x": "dir"}
    for name, kind in siblings.items():
        if kind == "dir":
            (tmp_path / name).mkdir()
            (tmp_path / name / "index.html").write_text("my backup\n")
        else:
            (tmp_path / name).write_bytes(kind)
    before = tree(tmp_path)
    for _ in range(2):  # made, then replaced
        result = build(tmp_path / "site")
        assert result.returncode == 0, result.stderr
    after = tree(tmp_path)
    assert {name: data for name, data in after.items() if not name.startswith("site")} == before


def test_out_named_like_a_glob_deletes_nothing(tmp_path):
    for name in (".cache-a", ".config-b", ".x-y"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep").write_text("keep\n")
    before = tree(tmp_path)
    result = build(f"{tmp_path}/*")
    assert result.returncode == 0, result.stderr
    after = tree(tmp_path)
    assert {name: data for name, data in after.items() if not name.startswith("*")} == before


def test_leftovers_of_killed_builds_are_swept_and_nothing_else(tmp_path):
    (tmp_path / ".httpref-tmp-k1ll3d").mkdir()
    (tmp_path / ".httpref-tmp-k1ll3d" / "index.html").write_text("half a site\n")
    (tmp_path / ".site-k1ll3d").mkdir()  # the old temporary name: now the user's
    result = build(tmp_path / "site")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site-k1ll3d", "site"]


def test_an_output_name_too_long_is_one_line(tmp_path):
    long_name = tmp_path / ("a" * 300)
    assert_refused_in_one_line(build(long_name), "File name too long")
    for zip_path in (long_name.with_suffix(".zip"), long_name / "x.zip"):
        assert_refused_in_one_line(bundle(zip_path), "File name too long")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- a symlinked --out


def test_a_symlinked_out_is_followed_and_the_link_kept(tmp_path):
    (tmp_path / "www").mkdir()
    link = tmp_path / "site"
    link.symlink_to("www/site")  # the target does not exist yet
    for _ in range(2):  # made through the link, then replaced through it
        result = build(link)
        assert result.returncode == 0, result.stderr
        assert f"written to {tmp_path / 'www' / 'site'}" in result.stdout
        assert os.readlink(link) == "www/site"
        assert (tmp_path / "www" / "site" / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "www"]
    assert [p.name for p in (tmp_path / "www").iterdir()] == ["site"]


def test_a_symlink_to_the_users_folder_is_refused_and_both_kept(tmp_path):
    users_folder(tmp_path / "mine")
    (tmp_path / "site").symlink_to("mine")
    before = tree(tmp_path)
    assert_refused_in_one_line(build(tmp_path / "site"), "not a previous build")
    assert tree(tmp_path) == before


def test_a_symlink_loop_is_refused(tmp_path):
    (tmp_path / "site").symlink_to("site")
    assert_refused_in_one_line(build(tmp_path / "site"), "loop")
    assert_refused_in_one_line(bundle(tmp_path / "site"), "loop")
    assert tree(tmp_path) == {"site": "-> site"}


# --------------------------------------------------------------------------- bundle --out


@pytest.mark.parametrize("name", ["README.md", "build.py", "registry.yaml", "old.zip"])
def test_bundle_never_replaces_a_file_it_did_not_make(tmp_path, name):
    target = tmp_path / name
    if name.endswith(".zip"):  # a zip, but someone else's
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("photo.txt", "mine")
    else:
        target.write_text("# the user's own file\n")
    before = tree(tmp_path)
    assert_refused_in_one_line(bundle(target), str(target), "not a bundle this tool made")
    assert tree(tmp_path) == before


def test_bundle_never_replaces_a_read_only_file_not_even_its_own(tmp_path):
    mine, made = tmp_path / "notes.zip", tmp_path / "made.zip"
    mine.write_text("mine\n")
    assert bundle(made).returncode == 0
    for target in (mine, made):
        target.chmod(0o444)
    before = tree(tmp_path)
    for target in (mine, made):
        assert_refused_in_one_line(bundle(target), "read-only")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("out", [".", "/", "", "folder"])
def test_bundle_onto_a_folder_is_one_line(tmp_path, out):
    (tmp_path / "folder").mkdir()
    before = tree(tmp_path)
    assert_refused_in_one_line(bundle(out, cwd=tmp_path), "is a folder")
    assert tree(tmp_path) == before


def test_bundle_replaces_its_own_zip_with_the_same_bytes(tmp_path):
    target = tmp_path / "codes.zip"
    result = bundle(target)
    assert result.returncode == 0, result.stderr
    first = target.read_bytes()
    result = bundle(target)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == first
    with zipfile.ZipFile(target) as archive:
        assert archive.comment == b"httpref offline bundle"
        assert ".httpref-site" not in {Path(name).name for name in archive.namelist()}
    assert [p.name for p in tmp_path.iterdir()] == ["codes.zip"]


def test_bundle_follows_a_symlink_to_its_own_zip_and_refuses_one_to_a_file_of_yours(tmp_path):
    (tmp_path / "README.md").write_text("# mine\n")
    assert bundle(tmp_path / "codes.zip").returncode == 0
    (tmp_path / "latest.zip").symlink_to("codes.zip")
    (tmp_path / "readme.zip").symlink_to("README.md")
    made = bundle(tmp_path / "latest.zip")
    assert made.returncode == 0, made.stderr
    assert f"written to {tmp_path / 'codes.zip'}" in made.stdout
    with zipfile.ZipFile(tmp_path / "codes.zip") as archive:
        assert archive.namelist()[0].startswith("latest/")  # named as the user named it
    before = tree(tmp_path)
    assert_refused_in_one_line(bundle(tmp_path / "readme.zip"), "not a bundle this tool made")
    assert tree(tmp_path) == before
    assert sorted(before) == ["README.md", "codes.zip", "latest.zip", "readme.zip"]


# --------------------------------------------------------------------------- base URLs


def content_with_base_url(tmp_path: Path, written: str) -> Path:
    """The small content with `base_url: WRITTEN` in its site.yaml."""
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    (content / "site.yaml").write_text((VALID / "site.yaml").read_text() + f"base_url: {written}\n")
    return content


@pytest.mark.parametrize("base_url", [
    "javascript:alert(1)//x", "https://a.example/\nDisallow: /", "https://a.example/\x01", "https://a.example/\x7f",
    "https://a.example/a b", "//a.example/", "a.example",
])
def test_a_base_url_site_yaml_refuses_is_refused_on_the_command_line_too(tmp_path, base_url):
    out = tmp_path / "site"
    result = build(out, "--base-url", base_url)
    assert_refused_in_one_line(result, "--base-url", "http:// or https://")
    assert not out.exists()
    content = content_with_base_url(tmp_path, json.dumps(base_url).replace("\x7f", "\\u007f"))
    result = run_build("build", "--content", str(content), "--out", str(out))
    assert result.returncode == 1 and "base_url" in result.stderr and "http:// or https://" in result.stderr
    assert not out.exists()


def test_an_empty_base_url_means_none(tmp_path):
    content = content_with_base_url(tmp_path, "https://a.example/")
    result = run_build("build", "--content", str(content), "--out", str(tmp_path / "site"), "--base-url", "")
    assert result.returncode == 0, result.stderr
    assert "note: no base_url" in result.stderr
    assert not (tmp_path / "site" / "robots.txt").exists() and not (tmp_path / "site" / "sitemap.xml").exists()
    assert "https://a.example" not in (tmp_path / "site" / "404.html").read_text()


def test_every_file_prints_the_base_url_the_same_escaped_way(tmp_path):
    out = tmp_path / "site"
    result = build(out, "--base-url", 'https://a.example/é"<x>')
    assert result.returncode == 0, result.stderr
    printed = "https://a.example/%C3%A9%22%3Cx%3E/"
    assert (out / "robots.txt").read_text().splitlines()[-1] == f"Sitemap: {printed}sitemap.xml"
    assert f"<loc>{printed}</loc>" in (out / "sitemap.xml").read_text()
    assert f'<link rel="canonical" href="{printed}">' in (out / "index.html").read_text()
    assert "/%C3%A9%22%3Cx%3E/ok/ /%C3%A9%22%3Cx%3E/200/ 301" in (out / "_redirects").read_text().splitlines()
    assert 'href="/%C3%A9%22%3Cx%3E/' in (out / "404.html").read_text()
