"""Writing: takes the rendered files (path -> bytes) and puts them on disk, the only stage that does.
`write_site` swaps a complete new site into place in one step; `update_files` rewrites only the files
whose bytes changed (for `serve`); `write_bundle` makes the offline zip, the same bytes for the same site."""
from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

from . import ROOT, STATIC, TEMPLATES
from .problems import BuildError, error

# The file a build writes into its output folder, so that the next build knows the folder is its own: a build
# replaces only a folder that is missing, empty or holds this file, never anything else.
MARKER = ".httpref-site"
MARKER_TEXT = (b"This folder was made by `python build.py` (httpref). The next build replaces all of it:\n"
               b"keep nothing here that the build does not make.\n")
# Temporary and parked files and folders get this prefix and a random part; only names so made are ever swept.
TEMPORARY = ".httpref-tmp-"
# The comment of every zip `bundle` writes: the one kind of existing file `bundle --out` replaces.
BUNDLE_COMMENT = b"httpref offline bundle"


def followed(out: Path) -> Path:
    """Where `build` and `bundle` write for `--out`: a symlink's target (the new site or zip then replaces
    the target, made if missing, and the link stays as it was), else `out` itself."""
    try:
        if not out.is_symlink():
            return out
    except OSError:  # e.g. a name too long: the checks that follow say so
        return out
    target = Path(os.path.realpath(out))
    if target.is_symlink():  # realpath stops at a loop
        raise BuildError([error(str(out), (1, 1), "is a symlink that loops: nothing was written; give --out "
                                                  "a folder, or a link to one")])
    return target


def check_out_dir(out: Path, content: Path) -> None:
    """Refuse output folders that a swap would destroy or that would feed back into content."""
    def refused(message: str) -> BuildError:
        return BuildError([error(str(out), (1, 1), message)])

    try:
        out, content = out.resolve(), content.resolve()
        for folder in (content, TEMPLATES, STATIC, ROOT):
            if out == folder or out in folder.parents:
                raise refused(f"output folder must not be or contain {folder}")
        if content in out.parents:
            raise refused("output folder must not lie inside the content folder")
        problem = _unreplaceable(out)
        if problem:
            raise refused(problem)
        nearest = next(folder for folder in out.parents if folder.exists())  # missing folders get made
    except (OSError, RuntimeError) as exc:  # e.g. a name too long; RuntimeError: a symlink loop on the way
        raise refused(f"cannot use this output folder: {getattr(exc, 'strerror', None) or exc}") from None
    if not os.access(nearest, os.W_OK):
        raise refused(f"output folder's parent is not writable ({nearest})")


def _unreplaceable(out: Path) -> str | None:
    """Why a build must not replace `out`, or None: it is missing, empty, or a previous build (has MARKER)."""
    if not out.exists():
        return None
    if not out.is_dir():
        return "output path exists and is not a folder"
    marker = out / MARKER
    if (marker.is_file() and not marker.is_symlink()) or not any(out.iterdir()):
        return None
    return (f"output folder is not empty and is not a previous build (it has no {MARKER} file), so a build "
            "would delete its files: nothing was written; give --out a new or empty folder, or empty this one yourself")


@contextlib.contextmanager
def _taking_turns(folder: Path) -> Iterator[None]:
    """Hold `folder`'s lock (a second build or bundle into it waits), and sweep what killed ones left there:
    every TEMPORARY name present while the lock is held belongs to nobody, as only lock holders make them."""
    import fcntl
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for stale in folder.glob(TEMPORARY + "*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        yield
    finally:
        os.close(lock)


def write_site(outputs: dict[str, bytes], out: Path) -> None:
    """Write every file and MARKER into a fresh folder beside `out`, then swap it in atomically.

    A build that fails or is killed at any point leaves the previous `out` as it was;
    leftovers of killed builds are swept by the next one. `out` is checked again once the lock is held,
    as another program may have put files into it while this build rendered.
    """
    import shutil
    import tempfile

    with _taking_turns(out.parent):
        problem = _unreplaceable(out)
        if problem:
            raise BuildError([error(str(out), (1, 1), problem)])
        fresh = Path(tempfile.mkdtemp(prefix=TEMPORARY, dir=out.parent))
        try:
            _write_files({**outputs, MARKER: MARKER_TEXT}, fresh)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)  # e.g. a full disk: leave no half-written copy behind
            raise
        os.chmod(fresh, 0o755)
        if out.exists():
            _exchange(fresh, out)
            shutil.rmtree(fresh)
        else:
            os.rename(fresh, out)


def _write_files(outputs: dict[str, bytes], folder: Path) -> None:
    """Every file under `folder`, its folders made first, from this one thread: the kernel's work of making
    folders and files is most of it, and threads only contend for the same locks (on this machine, four
    threads took 0.16-0.22 s and twice the kernel time for 5 x 500's 1,520 files, one thread 0.10-0.13 s;
    100 x 500's 2,115: 0.51 s against 0.32 s)."""
    for name in sorted({posixpath.dirname(path) for path in outputs} - {""}):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for path, data in outputs.items():
        (folder / path).write_bytes(data)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (Linux renameat2); elsewhere two renames."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    at_fdcwd, rename_exchange = -100, 2
    if renameat2 is not None and renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return
    parked = a.with_name(a.name + "-old")
    os.rename(b, parked)
    os.rename(a, b)
    os.rename(parked, a)


BIG_FILE = 1_000_000  # bytes: files this big are written over in place by `update_files`


def update_files(outputs: dict[str, bytes], previous: dict[str, bytes], out: Path) -> list[str]:
    """Write only files whose bytes changed and delete vanished ones; for `serve`.

    `previous` is what `out` holds, and is kept so file by file: when a write fails (a full disk, a name
    too long) it still tells what is on disk, and the next call writes what this one could not.
    Each file is replaced atomically (written beside it, then renamed over it), except the big ones (at
    100 x 500, codes.json and the search index, 21 MB), which are written over in place: replacing them
    freed and allocated 21 MB of blocks a save, 8-80 ms here, against 3-7 ms in place. A browser fetching
    one of them just as a save lands may get a mixed copy; the reload that follows every save fetches it again.
    """
    changed = [path for path, data in outputs.items() if previous.get(path) != data]
    for path in changed:
        target = out / path
        try:
            if not (len(previous.get(path, b"")) >= BIG_FILE and _overwrite(target, outputs[path])):
                _replace(target, outputs[path])
        except OSError as exc:
            if len(previous.get(path, b"")) >= BIG_FILE:  # maybe half written over: gone, so it is written whole
                previous.pop(path)
                with contextlib.suppress(OSError):
                    target.unlink()
            raise OSError(exc.errno, exc.strerror, str(target)) from None  # the file, not its partial copy
        previous[path] = outputs[path]
    for path in previous.keys() - outputs.keys():
        (out / path).unlink(missing_ok=True)
        del previous[path]
    return changed


def _replace(target: Path, data: bytes) -> None:
    """`target` replaced by `data` in one step; a failed write leaves no partial copy behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError:
        with contextlib.suppress(OSError):  # e.g. the name too long to make it in the first place
            partial.unlink()
        raise


def _overwrite(target: Path, data: bytes) -> bool:
    """`data` written over `target`'s own blocks; False if there is no such file to write over."""
    try:
        with open(target, "r+b") as file:
            file.write(data)
            file.truncate()
    except FileNotFoundError:
        return False
    return True


def check_bundle_path(zip_path: Path) -> None:
    """Refuse a `bundle --out` that is not a file name, or names a file other than a zip `bundle` made."""
    def refused(message: str) -> BuildError:
        return BuildError([error(str(zip_path), (1, 1), message)])

    try:
        if zip_path.name in ("", ".", "..") or zip_path.is_dir():
            raise refused("is a folder: give the bundle a file name, such as dist/http-status-codes.zip")
        if not zip_path.exists():
            return
        if not zip_path.is_file():
            raise refused("exists and is not a regular file: give a new file name")
        if not zip_path.stat().st_mode & 0o200:  # the owner's write bit, which even root's access() ignores
            raise refused("exists and is read-only: give a new file name")
        with open(zip_path, "rb") as file:
            file.seek(max(0, os.fstat(file.fileno()).st_size - len(BUNDLE_COMMENT) - 2))
            made_here = file.read() == len(BUNDLE_COMMENT).to_bytes(2, "little") + BUNDLE_COMMENT
    except OSError as exc:  # e.g. a name too long for the file system
        raise refused(f"cannot use this path for the bundle: {exc.strerror or exc}") from None
    if not made_here:
        raise refused("exists and is not a bundle this tool made, so writing would destroy it: nothing was "
                      "written; give a new file name, or remove this file yourself")


def write_bundle(outputs: dict[str, bytes], zip_path: Path, folder: str) -> None:
    """A zip with fixed timestamps and order, so the same site gives the same bytes; it replaces only a file
    `check_bundle_path` allows, checked again once the lock is held."""
    import secrets
    import zipfile

    with _taking_turns(zip_path.parent):
        check_bundle_path(zip_path)
        partial = zip_path.with_name(f"{TEMPORARY}{secrets.token_hex(8)}.zip")
        try:
            with zipfile.ZipFile(partial, "x", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
                archive.comment = BUNDLE_COMMENT
                for path in sorted(outputs):
                    info = zipfile.ZipInfo(f"{folder}/{path}", date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = 0o644 << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    archive.writestr(info, outputs[path])
            os.replace(partial, zip_path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
