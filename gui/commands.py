"""The undo command: every change to the hints is one ``HintsCommand`` on the one undo stack.

A command keeps the whole hint list before and after (hints are small frozen records), so undo
and redo restore the exact list. Commands with the same ``merge_key`` that follow each other
merge into one step (one drag in the gamut panel, one run of wheel steps on a hint's size).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from PySide6.QtGui import QUndoCommand

from colouru.hints import Hint

from .session import Session


class HintsCommand(QUndoCommand):
    MERGE_ID = 1

    def __init__(self, session: Session, before: Sequence[Hint], after: Sequence[Hint],
                 text: str, sel_before: int | None, sel_after: int | None,
                 merge_key: Hashable | None = None):
        super().__init__(text)
        self.session = session
        self.before, self.after = tuple(before), tuple(after)
        self.sel_before, self.sel_after = sel_before, sel_after
        self.merge_key = merge_key

    def id(self) -> int:
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, HintsCommand) or other.merge_key != self.merge_key:
            return False
        self.after, self.sel_after = other.after, other.sel_after
        self.setObsolete(self.after == self.before)
        return True

    def redo(self) -> None:
        self.session.set_hints(self.after, self.sel_after)

    def undo(self) -> None:
        self.session.set_hints(self.before, self.sel_before)
