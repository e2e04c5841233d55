"""The undo commands: every change to the hints and strokes is one ``HintsCommand``, every
change to the saturation one ``SaturationCommand``, on the one undo stack.

A command keeps the whole item list before and after (hints and strokes are small frozen
records), so undo and redo restore the exact list. Commands with the same ``merge_key`` that
follow each other merge into one step (one drag in the gamut panel, one run of wheel steps on
a hint's size, one drag of the saturation slider). A change of both (importing a hints file)
is a macro of the two.

In a film the items belong to the frame they were placed on (a keyframe, ``film_doc.py``): a
``HintsCommand`` made there keeps the film's keyframes before and after (the frame becomes a
keyframe holding the new list) and undo or redo goes back to that frame; ``KeyframesCommand``
adds, deletes, moves or copies keyframes, or takes a whole hints file.
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
        film = session.film  # a film: the frame edited becomes a keyframe
        self.frame = None if film is None else film.frame
        self.keys_before = None if film is None else dict(film.keyframes)
        self.keys_after = None if film is None else {**film.keyframes, film.frame: self.after}

    def id(self) -> int:
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if (not isinstance(other, HintsCommand) or other.merge_key != self.merge_key
                or other.frame != self.frame):
            return False
        self.after, self.sel_after = other.after, other.sel_after
        self.keys_after = other.keys_after
        self.setObsolete(self.after == self.before and self.keys_after == self.keys_before)
        return True

    def redo(self) -> None:
        if self.frame is None:
            self.session.set_hints(self.after, self.sel_after)
        else:
            self.session.put_keyframes(self.keys_after, self.frame, self.sel_after)

    def undo(self) -> None:
        if self.frame is None:
            self.session.set_hints(self.before, self.sel_before)
        else:
            self.session.put_keyframes(self.keys_before, self.frame, self.sel_before)


class KeyframesCommand(QUndoCommand):
    """A film's keyframes replaced (one added, deleted, moved or copied; a hints file taken);
    undo and redo show ``frame``."""

    def __init__(self, session: Session, after: dict, frame: int, text: str):
        super().__init__(text)
        self.session, self.frame = session, frame
        self.before, self.after = dict(session.film.keyframes), dict(after)

    def redo(self) -> None:
        self.session.put_keyframes(self.after, self.frame)

    def undo(self) -> None:
        self.session.put_keyframes(self.before, self.frame)


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
