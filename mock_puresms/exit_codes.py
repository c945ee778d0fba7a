"""The exit codes of the ``mock-puresms`` command (README lists them)."""

OK = 0
INVALID = 1
"""``scenarios validate``/``config validate``: a file is invalid; ``health``: not healthy."""
BAD_SETTINGS = 2
"""A setting, the config file, the scenario or the database cannot be used (argparse's
usage errors are 2 too)."""
CANNOT_LISTEN = 3
"""``serve``: the port is taken, the host is not this machine's, or listening is not allowed."""
