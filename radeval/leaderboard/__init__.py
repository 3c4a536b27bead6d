"""Leaderboards: tables with CIs and significance marks as Markdown, CSV and self-contained HTML."""
