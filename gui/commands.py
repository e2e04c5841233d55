"""The undo commands: every change to the hints and strokes is one ``HintsCommand``, every
change to the saturation one ``SaturationCommand``, on the one undo stack.

A command keeps the whole item list before and after (hints and strokes are small frozen
records), so undo and redo restore the exact list. Commands with the same ``merge_key`` that
follow each other merge into one step (one drag in the gamut panel, one run of wheel steps on
a hint's size, one drag of the saturation slider). A change of both (importing a hints file)
is a macro of the two.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from PySide6.QtGui import QUndoCommand

from .session import Item, Session


class HintsCommand(QUndoCommand):
    MERGE_ID = 1

    def __init__(self, session: Session, before: Sequence[Item], after: Sequence[Item],
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


class SaturationCommand(QUndoCommand):
    MERGE_ID = 2

    def __init__(self, session: Session, before: float, after: float, text: str,
                 merge_key: Hashable | None = None):
        super().__init__(text)
        self.session = session
        self.before, self.after = float(before), float(after)
        self.merge_key = merge_key

    def id(self) -> int:
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SaturationCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        self.setObsolete(self.after == self.before)
        return True

    def redo(self) -> None:
        self.session.set_saturation(self.after)

    def undo(self) -> None:
        self.session.set_saturation(self.before)
