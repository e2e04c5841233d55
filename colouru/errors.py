"""Errors shared by the command-line front ends (the core's own errors live with their code)."""


class UsageError(Exception):
    """Bad arguments found after parsing; reported as 'colouru: error: ...' with exit 2."""
