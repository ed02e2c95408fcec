"""Output paths of the command line: checked before the work, written whole or not at all.

A command checks its output first (:func:`check_file`, :func:`check_folder`), so a bad path is
refused before minutes of work, and writes at the end (:func:`write_file`, :func:`write_folder`):
into a temporary file or folder beside the target, renamed into place once complete, so an error
(a full disk, an exception) leaves nothing half-written. A device or a pipe given as the output
file (``/dev/stdout``) is written directly. Every error is a ``ValueError`` whose message says
what is wrong with the path, for the ``dnnpress: error: ...`` line.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["check_file", "check_folder", "write_file", "write_folder", "error"]


def _existing_ancestor(path):
    """The nearest folder or file above ``path`` (``path`` not included) that exists."""
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return parent
    return Path("/")


def _writable_folder(folder, path):
    if not folder.is_dir():
        raise ValueError(f"{path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: folder {folder} is not writable")


def check_file(path, *inputs):
    """``path`` as a :class:`~pathlib.Path` once a file can be written there.

    Parameters
    ----------
    path : str or os.PathLike
        The output file the user gave.
    *inputs : str or os.PathLike
        The command's input files: the output must not be one of them.

    Raises
    ------
    ValueError
        If ``path`` is a folder, its folder does not exist, is a file or is not writable, or it
        names one of ``inputs`` (compared with :func:`os.path.samefile`).
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{path}: is a folder; give the name of the file to write")
    parent = Path(os.path.abspath(p)).parent
    if not parent.exists():
        raise ValueError(f"{path}: folder {p.parent} does not exist")
    _writable_folder(parent, path)
    if p.exists():
        for other in inputs:
            if Path(other).exists() and os.path.samefile(other, p):
                raise ValueError(f"{path}: is the input file {other}; give another output path")
    return p


def check_folder(path):
    """``path`` as a :class:`~pathlib.Path` once it is, or can be made, a writable folder.

    Raises
    ------
    ValueError
        If ``path`` or a folder above it is a file (or a device), or the nearest existing folder
        above it is not writable.
    """
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            kind = "a file" if p.is_file() else "a device or other special file"
            raise ValueError(f"{path}: is {kind}, not a folder")
        _writable_folder(p, path)
    else:
        _writable_folder(_existing_ancestor(p), path)
    return p


def _os_error(path, exc):
    return ValueError(f"{path}: cannot write: {exc.strerror or exc}")


def write_file(path, write):
    """Make ``path`` the bytes that ``write(f)`` writes to the binary file object ``f``.

    ``write`` writes into a temporary file in the same folder, which replaces ``path`` once
    ``write`` returns and the bytes are flushed (a symbolic link is followed, so its target is
    replaced); on any error the temporary file is removed. A device or pipe is written directly.

    Raises
    ------
    ValueError
        If the file cannot be created or written (``No space left on device``, ...).
    """
    target = Path(os.path.realpath(path))
    try:
        if target.exists() and not target.is_file():        # /dev/null, /dev/stdout, a FIFO
            with open(target, "wb") as f:
                write(f)
            return
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _os_error(path, exc) from None


def write_folder(path, write):
    """Put the files that ``write(tmp)`` writes into the fresh folder ``tmp`` into ``path``.

    ``tmp`` is made beside ``path`` (inside it if it exists, else in the nearest existing folder
    above it); once ``write`` returns, the missing folders of ``path`` are made and each file is
    renamed into ``path``, replacing a file of the same name. On any error ``tmp`` is removed
    and ``path`` is left as it was.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``path``.

    Raises
    ------
    ValueError
        If a folder or file cannot be created or written.
    """
    p = Path(path)
    try:
        tmp = Path(tempfile.mkdtemp(dir=p if p.is_dir() else _existing_ancestor(p),
                                    prefix=".dnnpress-", suffix=".tmp"))
        try:
            write(tmp)
            p.mkdir(parents=True, exist_ok=True)
            done = []
            for f in sorted(tmp.iterdir()):
                os.replace(f, p / f.name)
                done.append(p / f.name)
            return done
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise _os_error(path, exc) from None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def error(message):
    """Print ``dnnpress: error: <message>`` on stderr, the one line of every user error; return
    the exit status 2 (``return outputs.error(...)``)."""
    print(f"dnnpress: error: {message}", file=sys.stderr)
    return 2
