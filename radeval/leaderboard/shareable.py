"""Text that goes into shareable outputs: no absolute local paths, user names or host names.

Leaderboards and significance reports are meant to be published. Messages from the run (a metric whose
weights are missing says where it looked: ``$RADEVAL_HOME/models/…``, the Hugging Face cache) carry local
paths; the full message stays in the run log and ``manifest.json``, and the shareable files get
:func:`unavailable_note` — one line naming the ``radeval fetch`` command.

Example:
    >>> unavailable_note("green", "not available offline: metric 'green' needs model 'X', which is not "
    ...                  "available offline. Looked in /home/ann/.cache/radeval/models/X. Run `radeval fetch green` "
    ...                  "on a machine with network access.")
    'not available offline: run `radeval fetch green` on a machine with network access (where it looked: run log / manifest.json)'
    >>> scrub_local_paths("cache at /home/ann/.cache and C:\\\\Users\\\\ann\\\\x, see ~/notes.txt")
    'cache at <local path> and <local path>, see <local path>'
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

#: What a local path is replaced with.
PLACEHOLDER = "<local path>"

_FETCH = re.compile(r"radeval fetch [A-Za-z0-9_.:/\-]+")
# an absolute POSIX path (/x/y…), a home-relative path (~/…, ~user/…) or a Windows drive path (C:\…, C:/…);
# a POSIX path must start the text or follow a space / quote / bracket / '=' (not "a/b" or "http://host/x")
_PATHS = re.compile(r"""(?:(?<=^)|(?<=[\s'"(\[=,:]))(?:~[\w.-]*/|/(?!/)|[A-Za-z]:[\\/])[^\s'"`)\],;]*""")


def _identity_strings() -> list[str]:
    """This machine's home folder, user name and host name (the strings a shared file must not carry)."""
    out = [str(Path.home())]
    for getter in (lambda: os.environ.get("USER", ""), os.getlogin, socket.gethostname):
        try:
            value = getter()
        except OSError:
            continue
        if value and len(value) >= 3:
            out.append(value)
    return out


def scrub_local_paths(text: str) -> str:
    """``text`` with absolute / home-relative paths replaced by :data:`PLACEHOLDER`, and the home folder,
    user name and host name of this machine removed.

    Args:
        text: any message.

    Returns:
        the scrubbed text (unchanged when it holds none of these).
    """
    out = _PATHS.sub(lambda m: PLACEHOLDER + m.group(0)[len(m.group(0).rstrip(".")):], str(text))
    for value in _identity_strings():
        out = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w-])", "<local>", out)
    return out


def unavailable_note(metric: str, reason: str) -> str:
    """One shareable line on why ``metric`` was not computed.

    Args:
        metric: the metric name.
        reason: the full message (may name local folders).

    Returns:
        ``"not available offline: run `radeval fetch <metric>` …"`` when the message names a fetch command,
        else the message's first line with local paths scrubbed.
    """
    text = " ".join(str(reason).split())
    found = _FETCH.search(text)
    if found:
        return (f"not available offline: run `{found.group(0).rstrip('.')}` on a machine with network access "
                "(where it looked: run log / manifest.json)")
    first = str(reason).strip().splitlines()[0] if str(reason).strip() else f"{metric} could not be computed"
    return scrub_local_paths(first)


__all__ = ["PLACEHOLDER", "scrub_local_paths", "unavailable_note"]
