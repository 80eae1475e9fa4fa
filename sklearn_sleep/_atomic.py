"""Atomic file writing: a file is either written completely or not at all.

An interrupted run (an exception, Ctrl-C, a killed job) must never leave a half-written
hypnogram, probability table or model file that looks complete. :func:`atomic_write`
writes to a temporary file in the target's folder, flushes and ``fsync``\\ s it, and only
then renames it over the target with :func:`os.replace` (atomic on POSIX and Windows
when both paths are on the same file system, which a sibling temporary file guarantees).
"""

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, mode="w", *, encoding=None, newline=None):
    """Open a temporary file that replaces ``path`` only when the block succeeds.

    Parameters
    ----------
    path : str or path-like
        Final destination. Its folder must exist.
    mode : {"w", "wb", "x", "xb"}, default="w"
        Text or binary writing. ``"x"``/``"xb"`` refuse to replace an existing file
        (checked before writing and again just before the rename).
    encoding : str or None, default=None
        Text encoding (text modes only); ``None`` means UTF-8.
    newline : str or None, default=None
        As in :func:`open` (text modes only); pass ``""`` for the :mod:`csv` module.

    Yields
    ------
    file : file object
        The open temporary file. Write to it as to the real file.

    Raises
    ------
    FileNotFoundError
        If the destination folder does not exist.
    FileExistsError
        With an ``"x"`` mode, if ``path`` already exists.

    Notes
    -----
    On success the data are flushed, ``fsync``\\ ed and renamed over ``path``; the new
    file gets the usual permissions of a newly created file (umask applied). On any
    exception inside the block the temporary file is closed and removed, ``path`` is
    left untouched (absent if it did not exist) and the exception propagates.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_write(os.path.join(folder, "out.txt")) as f:
    ...     _ = f.write("epoch,stage\\n")
    >>> sorted(os.listdir(folder))
    ['out.txt']
    """
    if mode not in ("w", "wb", "x", "xb"):
        raise ValueError(f"mode must be one of 'w', 'wb', 'x', 'xb'; got {mode!r}.")
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Cannot write {str(path)!r}: folder {str(folder)!r} does not exist.")
    exclusive = mode.startswith("x")
    if exclusive and path.exists():
        raise FileExistsError(f"{str(path)!r} already exists.")
    binary = mode.endswith("b")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file 0600; give it the permissions of a normal new file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
    except OSError:  # pragma: no cover - exotic file systems
        pass
    try:
        if binary:
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        os.unlink(tmp_name)
        raise
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if exclusive and path.exists():
            raise FileExistsError(f"{str(path)!r} already exists.")
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Persist the rename itself (POSIX); silently a no-op where unsupported."""
    if os.name != "posix":  # pragma: no cover
        return
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(dir_fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dir_fd)
