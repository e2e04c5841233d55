"""The one helper that builds the app's actions, and the table of shortcuts made from them
(so the Help listing can never drift from the real shortcuts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QWidget

Shortcut = str | QKeySequence.StandardKey


def make_action(parent: QWidget, text: str, slot: Callable | None = None, *,
                shortcut: Shortcut | Iterable[Shortcut] | None = None, tip: str = "",
                checkable: bool = False, checked: bool = False, icon: QIcon | None = None,
                enabled: bool = True) -> QAction:
    """A ``QAction`` added to ``parent`` (so its shortcut works even when only in a menu),
    with the shortcut shown in its tooltip. ``slot`` gets ``checked`` for checkable actions."""
    action = QAction(text, parent)
    keys: list[QKeySequence] = []
    if shortcut is not None:
        items = [shortcut] if isinstance(shortcut, (str, QKeySequence.StandardKey)) else shortcut
        for s in items:
            keys.extend(QKeySequence.keyBindings(s) if isinstance(s, QKeySequence.StandardKey)
                        else [QKeySequence(s)])
        action.setShortcuts(keys)
    plain = text.replace("&", "").rstrip(".…")
    action.setObjectName(plain)  # a stable name (the text of Undo / Redo changes)
    shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
    action.setToolTip(f"{tip or plain} ({shown})" if shown else (tip or plain))
    action.setStatusTip(tip or plain)
    action.setCheckable(checkable)
    if checkable:
        action.setChecked(checked)
    if icon is not None:
        action.setIcon(icon)
    action.setEnabled(enabled)
    if slot is not None:
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)
    return action


def shortcut_rows(actions: Iterable[QAction]) -> list[tuple[str, str, str]]:
    """``(action, shortcuts, what it does)`` for every action that has a shortcut."""
    rows = []
    for a in actions:
        keys = a.shortcuts()
        if keys:
            shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            rows.append((a.objectName() or a.text().replace("&", ""), shown, a.statusTip()))
    return rows
