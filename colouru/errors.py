"""Errors shared by the command-line front ends (the core's own errors live with their code),
and ``one_line``, which keeps any message to one line."""

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]}
_CONTROL.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})


class UsageError(Exception):
    """Bad arguments found after parsing; reported as 'colouru: error: ...' with exit 2."""


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` with control characters (a newline in a file name) escaped as Python writes
    them, so a message stays one line on the terminal and in a log; cut to ``limit``
    characters, saying how many more there were, when given."""
    text = text.translate(_CONTROL)
    if limit is not None and len(text) > limit:
        more = len(text) - limit
        return f"{text[:limit]}... ({more:,} characters more)"
    return text
