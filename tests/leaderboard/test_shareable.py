"""Shareable text: local paths, home folder, user and host names are removed; fetch notes are one line."""

from __future__ import annotations

import socket
from pathlib import Path

from radeval.leaderboard.shareable import PLACEHOLDER, scrub_local_paths, unavailable_note


def test_paths_are_replaced_but_urls_and_ratios_are_not():
    text = ("Looked in /data/x/models/a, the cache ~/.cache/hf and C:\\Users\\ann\\m. "
            "See https://example.org/a/b, a/b and 3/4.")
    out = scrub_local_paths(text)
    assert out == (f"Looked in {PLACEHOLDER}, the cache {PLACEHOLDER} and {PLACEHOLDER}. "
                   "See https://example.org/a/b, a/b and 3/4.")


def test_home_and_host_are_removed():
    host = socket.gethostname()
    out = scrub_local_paths(f"home {Path.home()} on host {host}")
    assert str(Path.home()) not in out and (len(host) < 3 or host not in out)


def test_unavailable_note_is_one_line_with_the_fetch_command():
    reason = ("not available offline: metric 'radgraph_partial' needs model 'StanfordAIMI/RRG_scorers', which is "
              "not available offline. Looked in /srv/h/models/StanfordAIMI/RRG_scorers and the Hugging Face cache "
              "/root/.cache/huggingface/hub.\nRun `radeval fetch radgraph_partial` on a machine with network access.")
    note = unavailable_note("radgraph_partial", reason)
    assert "\n" not in note and "/srv" not in note and "/root" not in note
    assert "`radeval fetch radgraph_partial`" in note
    # a message without a fetch command keeps its first line, scrubbed
    assert unavailable_note("meteor", "meteor needs Java (looked in /usr/lib/jvm)\ntrace") == \
        f"meteor needs Java (looked in {PLACEHOLDER})"
