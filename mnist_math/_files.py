# ~/~ begin <<docs/model-files.md#mnist_math/_files.py>>[init]
"""Files read and written safely: regular files only, atomic writes, no leftovers.

Tangled from the book's "Appendix: Model files and images" (docs/model-files.md). Used by
mnist_math.model_io (networks), mnist_math.handwriting (pictures) and mnist_math.sources
(the MNIST cache).
"""

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# ~/~ begin <<docs/model-files.md#model-files-regular>>[init]
KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def kind_of(mode: int) -> str:
    """What a path is, from its ``st_mode``: "a regular file", "a folder", "a FIFO ...".

    Args:
        mode: ``os.stat(path).st_mode``.

    Returns:
        The kind, in words, with its article.
    """
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def open_regular(
    path: str | os.PathLike[str], error: Callable[[str], Exception], expected: str
) -> BinaryIO:
    """Open a regular file for reading; refuse anything else at once, never blocking.

    Args:
        path: The file.
        error: Makes the exception to raise from a message, e.g. ``ModelFileError``.
        expected: What the file should be, for the message, e.g. ``"a model file"``.

    Returns:
        The file, open for reading in binary mode.

    Raises:
        Exception: made by ``error``; the message starts with ``path`` and says what is
            wrong (no such file, a folder, a FIFO, a device, not readable).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        mode = os.stat(path).st_mode
        descriptor = os.open(path, flags) if stat.S_ISREG(mode) else None
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, ValueError) as problem:  # ValueError: a NUL byte inside the path
        reason = getattr(problem, "strerror", None) or problem
        raise error(f"{path}: cannot be opened ({reason})") from None
    if descriptor is None:
        raise error(f"{path}: {kind_of(mode)}, not {expected}")
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise error(f"{path}: {kind_of(mode)}, not {expected}")
    return os.fdopen(descriptor, "rb")
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-target>>[init]
class TargetError(OSError):
    """A path a save must not write; the message starts with the path and says why."""


def check_target(target: str | os.PathLike[str]) -> Path:
    """Refuse, before any work, a path that ``atomic_write`` could not or should not write.

    Args:
        target: The file to be written.

    Returns:
        ``target`` as a Path.

    Raises:
        TargetError: ``target`` exists and is not a regular file (a folder, a FIFO, a
            device such as /dev/null, a socket), or is read-only; or its folder does not
            exist or does not accept a new file.
    """
    target = Path(target)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except (OSError, ValueError) as problem:
        reason = getattr(problem, "strerror", None) or problem
        raise TargetError(f"{target}: cannot be checked ({reason})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise TargetError(f"{target}: a folder: name a file inside it, such as model.npz")
    if mode is not None and not stat.S_ISREG(mode):
        kind = kind_of(mode)
        raise TargetError(f"{target}: {kind}, not a regular file: refusing to replace it")
    if mode is not None and not mode & 0o222:
        raise TargetError(
            f"{target}: read-only: refusing to replace it (make it writable first)"
        )
    folder = target.parent
    if not folder.is_dir():
        raise TargetError(
            f"{target}: the folder {folder} does not exist; create it first"
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as problem:
        raise TargetError(
            f"{target}: cannot write in the folder {folder} ({problem.strerror})"
        ) from None
    return target
# ~/~ end

# ~/~ begin <<docs/model-files.md#model-files-atomic>>[init]
PARTIAL = ".partial"
"""The end of a temporary file's name: ``.NAME.<random>.partial``."""

STALE_SECONDS = 3600
"""A reader removes a target's temporary files not modified for this long (an hour)."""


def is_partial_of(name: str, target: Path) -> bool:
    """Whether ``name`` is a temporary file of ``target``: ``.NAME.<random>.partial``.

    Args:
        name: A file name in the target's folder.
        target: The file that is written atomically.

    Returns:
        True for ``.NAME.<one or more characters without a dot>.partial``.
    """
    prefix = f".{target.name}."
    if not (name.startswith(prefix) and name.endswith(PARTIAL)):
        return False
    middle = name[len(prefix) : -len(PARTIAL)]
    return bool(middle) and "." not in middle


def remove_stale_partials(target: str | os.PathLike[str], before_ns: int) -> list[Path]:
    """Remove the temporary files of ``target`` last modified before ``before_ns``.

    Args:
        target: The file that is written atomically.
        before_ns: A time in nanoseconds since the epoch (as ``st_mtime_ns``).

    Returns:
        The files removed. Files that vanish meanwhile or cannot be removed are skipped.
    """
    target = Path(target)
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:  # the folder is missing or cannot be listed: nothing to clean
        return removed
    for entry in entries:
        if not is_partial_of(entry.name, target):
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime_ns < before_ns:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _new_file_mode() -> int:
    umask = os.umask(0)  # reading the umask means setting it; set it back at once
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(
    target: str | os.PathLike[str], write: Callable[[BinaryIO], None]
) -> Path:
    """Write a file so that readers see the old file or the complete new one, never half.

    Args:
        target: The file to write.
        write: Writes the file's content to the binary stream it is given.

    Returns:
        ``target`` as a Path.

    Raises:
        TargetError: see ``check_target``; nothing is written.
        OSError: writing failed; the target is as it was and nothing is left behind.
    """
    target = check_target(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # keep the replaced file's
    except FileNotFoundError:
        mode = _new_file_mode()
    try:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL
        )
    except OSError as problem:
        raise TargetError(
            f"{target}: cannot write in the folder {target.parent} ({problem.strerror})"
        ) from None
    temporary = Path(name)
    started = os.fstat(handle).st_mtime_ns
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    remove_stale_partials(target, before_ns=started)
    return target
# ~/~ end
# ~/~ end