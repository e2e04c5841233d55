"""The window's actions, menus and tool bar in one table-like place, built with
``make_action``; the shortcuts listed in Help are read back from these actions."""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QStyle

from .actions import make_action
from .icons import undo_icon
from .service import available_devices

MOUSE_HELP = [
    ("Add hint", "Left click", "A square of the current colour and size"),
    ("Select hint or stroke", "Left click on it",
     "Its colour and size (or width) become the current ones; a colour picked recolours it"),
    ("Move hint or stroke", "Drag it", "One undo step per drag"),
    ("Delete hint or stroke", "Right click on it", "Or select it and press Del"),
    ("Hint size", "Mouse wheel", "Over the photo; also the slider and [ ]"),
    ("Draw stroke", "Drag with the brush tool (S)",
     "A brush stroke of the current colour and width: one undoable object, like a hint"),
    ("Brush width", "Mouse wheel with the brush tool",
     "Also the Brush slider and [ ]; a selected stroke takes it"),
    ("Saturation", "The Saturation slider (colour panel)",
     "More or less colour in the whole result (hints keep theirs); double-click resets"),
    ("Zoom", "Ctrl+wheel", "Both views stay in step"),
    ("Pan", "Middle drag, Space+drag, Shift+wheel", ""),
    ("Split line", "Drag in the result (split mode)", ""),
    ("Open", "Drop files on the window",
     "A photo or film opens, .json imports hints, .safetensors loads a model"),
    ("Move along a film", "Drag the timeline under the photo",
     "Also Left / Right (a frame), Shift+Left / Right (a second), Home / End"),
    ("Move a keyframe", "Drag its mark under the timeline", "One undo step"),
]


def build_actions(w) -> None:
    """Every action of the window, as ``w.act_*`` (and the device choices)."""
    icon = lambda name: w.style().standardIcon(getattr(QStyle.StandardPixmap, name))
    a = lambda *args, **kw: make_action(w, *args, **kw)
    _file_actions(w, a, icon)
    _edit_actions(w, a)
    _view_actions(w, a)
    _model_actions(w, a)
    _film_actions(w, a)
    w.act_shortcuts = a("&Keyboard Shortcuts", w.show_shortcuts, shortcut="F1",
                        tip="All shortcuts and mouse actions")
    w.act_about = a("&About ColourU", w.show_about,
                    tip="Version, the model and its card")


def _file_actions(w, a, icon) -> None:
    w.act_open = a("&Open Photo or Film…", w.choose_photo, shortcut="Ctrl+O",
                   tip="Open a black-and-white (or colour) photo, or a film",
                   icon=icon("SP_DialogOpenButton"))
    w.act_example = a("Open E&xample Photo", w.open_example,
                      tip="Open a black-and-white photograph that ships with ColourU")
    w.act_reference = a("Open &Reference Image…", w.choose_reference,
                        shortcut="Ctrl+Shift+O",
                        tip="Open a colour image beside the photo to take colours from")
    w.act_save = a("&Save Result", w.save_result, shortcut="Ctrl+S",
                   tip="Save the colorized photo at full resolution",
                   icon=icon("SP_DialogSaveButton"))
    w.act_save_as = a("Save Result &As…", w.save_result_as, shortcut="Ctrl+Shift+S",
                      tip="Save the colorized photo under a new name")
    w.act_import = a("&Import Hints…", w.choose_hints, shortcut="Ctrl+I",
                     tip="Load hints from a JSON file (replaces the current hints)")
    w.act_export = a("&Export Hints…", w.export_hints, shortcut="Ctrl+E",
                     tip="Save the hints as JSON, for 'colouru colorize --hints'")
    w.act_quit = a("&Quit", w.close, shortcut="Ctrl+Q", tip="Close ColourU")


def _edit_actions(w, a) -> None:
    w.act_undo = a("&Undo", w.undo.undo, shortcut="Ctrl+Z", tip="Undo the last change",
                   icon=undo_icon(), enabled=False)
    w.act_redo = a("&Redo", w.undo.redo, shortcut=["Ctrl+Shift+Z", "Ctrl+Y"],
                   tip="Redo the change undone last", icon=undo_icon(redo=True),
                   enabled=False)
    w.act_delete = a("&Delete Hint or Stroke", w.editor.remove_selected,
                     shortcut=["Delete", "Backspace"], tip="Delete the selected hint or stroke")
    w.act_clear = a("&Clear All Hints", w.editor.clear, shortcut="Ctrl+Shift+Delete",
                    tip="Remove every hint (undoable)")
    w.act_deselect = a("Dese&lect", lambda: w.session.select(None), shortcut="Esc",
                       tip="Deselect the hint or stroke (new colours then leave it alone)")
    w.act_smaller = a("S&maller Hint or Brush", lambda: w.editor.step_size(-1), shortcut="[",
                      tip="Hint size one working pixel smaller (with the brush tool or a "
                      "stroke selected: the brush narrower)")
    w.act_larger = a("&Larger Hint or Brush", lambda: w.editor.step_size(1), shortcut="]",
                     tip="Hint size one working pixel larger (with the brush tool or a "
                     "stroke selected: the brush wider)")
    w.tool_group = QActionGroup(w)
    w.act_hint_tool = a("&Hint Tool", lambda on: on and w.set_tool("hint"), shortcut="H",
                        checkable=True, checked=True,
                        tip="Click to add or select a hint or stroke, drag to move it")
    w.act_brush_tool = a("&Brush Tool", lambda on: on and w.set_tool("brush"), shortcut="S",
                         checkable=True,
                         tip="Drag to draw a stroke of the current colour and brush width")
    for act in (w.act_hint_tool, w.act_brush_tool):
        w.tool_group.addAction(act)
    w.act_reset_saturation = a("Saturation &Back to 1", lambda: w.editor.set_saturation(1.0),
                               tip="The model's own colours: no more, no less saturated")
    w.act_choose = a("C&hoose Colour…", w.choose_colour, shortcut="C",
                     tip="Pick any colour with the system colour dialog")
    w.act_keep_colour = a("New Hints &Keep the Last Colour", w._set_keep_colour,
                          checkable=True, checked=w.settings.keep_colour(),
                          tip="New hints take the last colour used, not the colour the "
                          "model suggests at that point")
    w.act_eyedropper = a("&Eyedropper", w._set_eyedropper, shortcut="I",
                         checkable=True, tip="Take a colour from the reference image "
                         "or the result: arm it, then click")


def _view_actions(w, a) -> None:
    w.act_fit = a("&Fit to Window", w.canvas.fit, shortcut="Ctrl+0",
                  tip="Zoom so the whole photo fits")
    w.act_actual = a("&Actual Size (100%)", w.canvas.actual_size, shortcut="Ctrl+1",
                     tip="One photo pixel per screen pixel")
    w.act_zoom_in = a("Zoom &In", w.canvas.zoom_in, shortcut=["Ctrl++", "Ctrl+="],
                      tip="Zoom in (both views)")
    w.act_zoom_out = a("Zoom &Out", w.canvas.zoom_out, shortcut="Ctrl+-",
                       tip="Zoom out (both views)")
    w.act_before = a("&Before/After", lambda on: w._set_compare("before" if on else
                                                                "result"),
                     shortcut="B", checkable=True,
                     tip="Show the original instead of the result")
    w.act_split = a("&Split View", lambda on: w._set_compare("split" if on else
                                                             "result"),
                    shortcut="V", checkable=True,
                    tip="Original left of a draggable line, result right of it")


def _model_actions(w, a) -> None:
    w.act_bundled = a("Use &Bundled Model", lambda: w.load_model(None),
                      tip="Use the model that ships with ColourU")
    w.act_model = a("Open &Model File…", w.choose_model, shortcut="Ctrl+M",
                    tip="Use a model file made by 'colouru train'")
    w.device_group = QActionGroup(w)
    w.device_actions = {}
    for name in available_devices():
        act = make_action(w, {"auto": "Automatic"}.get(name, name.upper()),
                          lambda on, n=name: on and w.set_device(n), checkable=True,
                          tip=f"Run the model on {name}")
        w.device_group.addAction(act)
        w.device_actions[name] = act


def _film_actions(w, a) -> None:
    """Film > ...: enabled while a film is open (``w.film_actions``)."""
    f = lambda name, *args: lambda: getattr(w.film, name)(*args)
    w.act_play = a("&Play", f("toggle_play"), shortcut="P",
                   tip="Play from this frame (the range, when one is set) in colour at the "
                   "working size (frames the machine cannot colour in time are dropped); "
                   "again to stop")
    w.act_play_key = a("Play to Next Ke&yframe", f("play_to_keyframe"), shortcut="Shift+P",
                       tip="Play the range from this frame to the next keyframe")
    w.act_next_frame = a("&Next Frame", f("step", 1), shortcut="Right", tip="One frame on")
    w.act_prev_frame = a("P&revious Frame", f("step", -1), shortcut="Left",
                         tip="One frame back")
    w.act_next_second = a("Next &Second", f("step_seconds", 1), shortcut="Shift+Right",
                          tip="One second on")
    w.act_prev_second = a("Previous S&econd", f("step_seconds", -1), shortcut="Shift+Left",
                          tip="One second back")
    w.act_first_frame = a("&First Frame", f("to_end", False), shortcut="Home",
                          tip="The film's first frame")
    w.act_last_frame = a("&Last Frame", f("to_end", True), shortcut="End",
                         tip="The film's last frame")
    w.act_next_key = a("Next &Keyframe", f("to_keyframe", 1), shortcut="Ctrl+Right",
                       tip="The next frame with hints of its own")
    w.act_prev_key = a("Previous Keyframe", f("to_keyframe", -1), shortcut="Ctrl+Left",
                       tip="The last frame before this one with hints of its own")
    w.act_add_key = a("&Add Keyframe Here", f("add_keyframe"), shortcut="K",
                      tip="This frame keeps the hints shown as its own (placing a hint "
                      "here does it too)")
    w.act_delete_key = a("&Delete Keyframe", f("delete_keyframe"), shortcut="Shift+K",
                         tip="This frame's hints go; the last keyframe's are used here")
    w.act_move_key = a("&Move Keyframe Here", f("move_keyframe"), shortcut="Shift+M",
                       tip="The last keyframe before this frame moves here, its hints as "
                       "placed")
    w.act_copy_key = a("&Copy Hints", f("copy_hints"), shortcut="Ctrl+C",
                       tip="Copy the hints shown on this frame (a keyframe's, or carried "
                       "here), to paste onto another frame")
    w.act_paste_key = a("Paste Hints as Ke&yframe", f("paste_hints"), shortcut="Ctrl+V",
                        tip="This frame becomes a keyframe holding the copied hints")
    w.act_range_start = a("Range &Starts Here", f("set_range_start"), shortcut="Shift+I",
                          tip="The range to export starts at this frame")
    w.act_range_end = a("Range &Ends Here", f("set_range_end"), shortcut="Shift+O",
                        tip="The range to export ends at this frame (included)")
    w.act_range_clear = a("Clear Ran&ge", f("clear_range"), shortcut="Shift+X",
                          tip="No range: the whole film is exported")
    w.act_export_film = a("E&xport Film…", f("export"), shortcut="Ctrl+Shift+E",
                          tip="The whole film in colour, as 'colouru colorize FILM --hints' "
                          "makes it")
    w.act_export_range = a("Export Ra&nge…", f("export_range"), shortcut="Ctrl+Alt+E",
                           tip="The range set on the timeline in colour, as 'colouru colorize "
                           "FILM --hints FILE --start FIRST --end STOP' makes it")
    w.film_actions = [w.act_play, w.act_play_key, w.act_next_frame, w.act_prev_frame,
                      w.act_next_second, w.act_prev_second, w.act_first_frame,
                      w.act_last_frame, w.act_next_key, w.act_prev_key, w.act_add_key,
                      w.act_delete_key, w.act_move_key, w.act_copy_key, w.act_paste_key,
                      w.act_range_start, w.act_range_end, w.act_range_clear,
                      w.act_export_film, w.act_export_range]
    for act in w.film_actions:
        act.setEnabled(False)


def build_menus(w) -> None:
    """The menu bar and the tool bar, from the actions."""
    mb = w.menuBar()
    m = mb.addMenu("&File")
    m.addAction(w.act_open)
    w.recent_menu = QMenu("Open &Recent", w)
    w.recent_menu.aboutToShow.connect(w._fill_recent_menu)
    m.addMenu(w.recent_menu)
    m.addAction(w.act_example)
    m.addAction(w.act_reference)
    m.addSeparator()
    for act in (w.act_save, w.act_save_as):
        m.addAction(act)
    m.addSeparator()
    for act in (w.act_import, w.act_export):
        m.addAction(act)
    m.addSeparator()
    m.addAction(w.act_quit)
    m = mb.addMenu("&Edit")
    for act in (w.act_undo, w.act_redo, None, w.act_delete, w.act_clear,
                w.act_deselect, None, w.act_hint_tool, w.act_brush_tool, w.act_smaller,
                w.act_larger, None, w.act_choose, w.act_eyedropper, w.act_keep_colour, None,
                w.act_reset_saturation):
        m.addSeparator() if act is None else m.addAction(act)
    m = mb.addMenu("&View")
    for act in (w.act_fit, w.act_actual, w.act_zoom_in, w.act_zoom_out, None,
                w.act_before, w.act_split):
        m.addSeparator() if act is None else m.addAction(act)
    m.addSeparator()
    m.addAction(w.colour_dock.toggleViewAction())
    m.addAction(w.reference_dock.toggleViewAction())
    m = mb.addMenu("F&ilm")
    for act in (w.act_play, w.act_play_key, None, w.act_next_frame, w.act_prev_frame,
                w.act_next_second, w.act_prev_second, w.act_first_frame, w.act_last_frame, None,
                w.act_next_key, w.act_prev_key, w.act_add_key, w.act_delete_key,
                w.act_move_key, w.act_copy_key, w.act_paste_key, None, w.act_range_start,
                w.act_range_end, w.act_range_clear, None, w.act_export_film,
                w.act_export_range):
        m.addSeparator() if act is None else m.addAction(act)
    m = mb.addMenu("&Model")
    m.addAction(w.act_bundled)
    m.addAction(w.act_model)
    dm = m.addMenu("&Device")
    for act in w.device_actions.values():
        dm.addAction(act)
    m = mb.addMenu("&Help")
    m.addAction(w.act_shortcuts)
    m.addAction(w.act_about)

    tb = w.addToolBar("Main")
    tb.setObjectName("main_toolbar")
    for act in (w.act_open, w.act_save, None, w.act_undo, w.act_redo, None,
                w.act_fit, w.act_actual, None, w.act_before, w.act_split, None,
                w.act_hint_tool, w.act_brush_tool, None, w.act_eyedropper):
        tb.addSeparator() if act is None else tb.addAction(act)

