"""Atomic file writing: a file is either written completely or not at all.

An interrupted run (an exception, Ctrl-C, a killed job) must never leave a half-written
hypnogram, probability table or model file that looks complete. :func:`atomic_write`
writes to a temporary file in the target's folder, flushes and ``fsync``\\ s it, and only
then renames it over the target with :func:`os.replace` (atomic on POSIX and Windows
when both paths are on the same file system, which a sibling temporary file guarantees).

It is the one place for the library's output rules:

* :func:`check_outputs` refuses, before anything is computed, an output that is the
  same file as an input (same resolved path or same inode) or as another output, and an
  existing output unless the caller asked to overwrite it (MNE's convention: library
  functions take ``overwrite=False``, the command line ``--overwrite``);
* :func:`atomic_write` writes one file, :class:`AtomicGroup` several files
  all-or-nothing, and :func:`atomic_path` gives writers that need a file name (memmap
  caches, worker processes) a temporary name beside the target that is renamed onto
  it only when complete.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["AtomicGroup", "atomic_path", "atomic_write", "check_outputs"]


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


# ------------------------------------------------------------------ output checks
def _describe(label, path):
    return f"{label} {str(path)!r}" if label else repr(str(path))


def _same_file(a, b):
    """True when ``a`` and ``b`` are the same file: same resolved path or same inode."""
    a, b = Path(a), Path(b)
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # pragma: no cover - symlink loops
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_outputs(outputs, inputs=(), *, overwrite=False, overwrite_hint="overwrite=True"):
    """Refuse outputs that would clobber an input, another output or an existing file.

    Every writer of the library (and every command of the CLI) calls this before it
    computes anything, so that a mistyped path fails at once and no input is ever lost.

    Parameters
    ----------
    outputs : sequence of (label, path) or of path
        The files about to be written; ``None`` entries (optional outputs not asked
        for) are skipped. ``label`` names the option in messages (e.g. ``"--out"``).
    inputs : sequence of (label, path) or of path, default=()
        Files read by the same run.
    overwrite : bool, default=False
        Whether an existing output may be replaced (MNE's convention: refused unless
        asked for). Inputs are never replaced, whatever ``overwrite`` says.
    overwrite_hint : str, default="overwrite=True"
        How the caller asks for replacement, quoted in the message (``"--overwrite"`` for
        the command line).

    Returns
    -------
    outputs : list of pathlib.Path
        The output paths, in order (``None`` entries dropped).

    Raises
    ------
    ValueError
        If an output is the same file as an input (same resolved path, e.g. through a
        symbolic link, or same inode, e.g. a hard link) or as another output.
    IsADirectoryError
        If an output is an existing folder.
    FileNotFoundError
        If the folder of an output does not exist.
    PermissionError
        If the folder of an output is not writable.
    FileExistsError
        If an output exists and ``overwrite`` is False.
    """
    def pairs(items):
        out = []
        for item in items:
            if isinstance(item, tuple):
                label, path = item
            else:
                label, path = "", item
            if path is not None:
                out.append((label, Path(path)))
        return out

    outs, ins = pairs(outputs), pairs(inputs)
    for k, (label, path) in enumerate(outs):
        for in_label, in_path in ins:
            if _same_file(path, in_path):
                raise ValueError(
                    f"output {_describe(label, path)} is the same file as input "
                    f"{_describe(in_label, in_path)}; refusing to overwrite an input. "
                    "Choose another output path."
                )
        for other_label, other in outs[:k]:
            if _same_file(path, other):
                raise ValueError(
                    f"outputs {_describe(other_label, other)} and {_describe(label, path)} "
                    "are the same file; give each output its own path."
                )
    for label, path in outs:
        if path.is_dir():
            raise IsADirectoryError(
                f"output {_describe(label, path)} is a folder; give a file name."
            )
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise FileNotFoundError(
                f"cannot write output {_describe(label, path)}: folder {str(folder)!r} does "
                "not exist."
            )
        if not os.access(folder, os.W_OK):
            raise PermissionError(
                f"cannot write output {_describe(label, path)}: folder {str(folder)!r} is not "
                "writable."
            )
        if not overwrite and (path.exists() or path.is_symlink()):
            raise FileExistsError(
                f"output {_describe(label, path)} already exists; pass {overwrite_hint} to "
                "replace it."
            )
    return [path for _, path in outs]


def _temporary_beside(path, suffix=".tmp"):
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(name, 0o666 & ~umask)
    return Path(name)


@contextlib.contextmanager
def atomic_path(path, *, suffix=None):
    """Yield a temporary path beside ``path`` that is renamed onto it only on success.

    For writers that need a file *name* rather than an open file (``numpy.lib.format.
    open_memmap``, worker processes re-opening a ``.npy`` file, ``savefig`` with a
    format taken from the name): the data are written to the temporary file, and only
    when the block succeeds is it renamed over ``path``. On any exception the
    temporary file is removed and ``path`` (for example the previous cache) is left
    as it was.

    Parameters
    ----------
    path : str or path-like
        Final destination; its folder must exist.
    suffix : str or None, default=None
        Suffix of the temporary name (default: ``path``'s own suffix, so that e.g.
        ``numpy.load`` recognises a ``.npy`` file).

    Yields
    ------
    tmp : pathlib.Path
        The temporary file (created empty).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"Cannot write {str(path)!r}: folder {str(folder)!r} does not exist.")
    if suffix is None:
        suffix = path.suffix or ".tmp"
    tmp = _temporary_beside(path, suffix=suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


class AtomicGroup:
    """Write several files all-or-nothing.

    Each :meth:`open` writes to a temporary file beside its target; leaving the
    ``with`` block without an exception renames them all onto their targets. If the
    block fails, no target changes. If a rename itself fails (e.g. the disk vanished),
    the targets already renamed are restored from hard-link (or copy) backups of their
    previous contents, so that on failure nothing changes.

    Parameters
    ----------
    overwrite : bool, default=True
        Whether existing targets may be replaced (checked again just before the
        renames; callers normally check up front with :func:`check_outputs`).

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> with AtomicGroup() as group:
    ...     with group.open(os.path.join(folder, "a.csv")) as f:
    ...         _ = f.write("a")
    ...     with group.open(os.path.join(folder, "b.csv")) as f:
    ...         _ = f.write("b")
    >>> sorted(os.listdir(folder))
    ['a.csv', 'b.csv']
    """

    def __init__(self, overwrite=True):
        self.overwrite = overwrite
        self._pending = []  # (tmp, target)

    def __enter__(self):
        return self

    @contextlib.contextmanager
    def open(self, path, mode="w", *, encoding=None, newline=None):
        """Open a temporary file for ``path``; it is renamed when the group commits.

        Parameters
        ----------
        path : str or path-like
            Final destination.
        mode : {"w", "wb"}, default="w"
            Text or binary.
        encoding : str or None, default=None
            Text encoding (UTF-8 when None).
        newline : str or None, default=None
            As in :func:`open`.

        Yields
        ------
        file : file object
        """
        if mode not in ("w", "wb"):
            raise ValueError(f"mode must be 'w' or 'wb'; got {mode!r}.")
        path = Path(path)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Cannot write {str(path)!r}: folder {str(folder)!r} does not exist.")
        tmp = _temporary_beside(path)
        self._pending.append((tmp, path))
        if mode == "wb":
            f = open(tmp, "wb")  # noqa: SIM115
        else:
            f = open(tmp, "w", encoding=encoding or "utf-8", newline=newline)  # noqa: SIM115
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())

    def path(self, path):
        """Reserve a temporary path for ``path`` (for writers that need a file name).

        Parameters
        ----------
        path : str or path-like
            Final destination.

        Returns
        -------
        tmp : pathlib.Path
            Temporary file beside ``path`` with the same suffix; renamed onto ``path``
            when the group commits.
        """
        path = Path(path)
        tmp = _temporary_beside(path, suffix=path.suffix or ".tmp")
        self._pending.append((tmp, path))
        return tmp

    def _discard(self):
        for tmp, _ in self._pending:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._pending = []

    def _commit(self):
        if not self.overwrite:
            for _, target in self._pending:
                if target.exists():
                    raise FileExistsError(f"{str(target)!r} already exists.")
        backups, done = [], []
        try:
            for _, target in self._pending:
                backup = None
                if target.exists() and not target.is_dir():
                    backup = _temporary_beside(target, suffix=".bak")
                    os.unlink(backup)
                    try:
                        os.link(target, backup)
                    except OSError:
                        shutil.copy2(target, backup)
                backups.append(backup)
            for (tmp, target), backup in zip(self._pending, backups):
                os.replace(tmp, target)
                done.append((target, backup))
        except BaseException:
            for target, backup in reversed(done):
                with contextlib.suppress(OSError):
                    if backup is not None:
                        os.replace(backup, target)
                    else:
                        os.unlink(target)
            self._discard()
            for backup in backups:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(backup)
            raise
        for backup in backups:
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
        for folder in {target.parent for _, target in self._pending}:
            _fsync_folder(folder if str(folder) else Path("."))
        self._pending = []

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._discard()
            return False
        self._commit()
        return False
