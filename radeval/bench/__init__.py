"""The benchmark runner: a suite YAML in, a leaderboard, significance report and reader packet out."""
