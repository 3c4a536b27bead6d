"""The ``radeval`` command line: one module per subcommand, thin over the Python API."""
