"""Leaderboards: ranked, grouped tables with CIs and significance marks as Markdown, CSV, self-contained HTML and
JSON (``leaderboard.schema.json``), plus qualitative examples; every shareable text is free of local paths."""
