"""The window's model menu: which model file is loaded, on which device, and what the window
shows when the model changes. A mixin of ``MainWindow`` (the window's job split by job)."""

from __future__ import annotations

from pathlib import Path

from . import dialogs
from .service import ModelError
from .session import DEFAULT_WORK_SIZE


class ModelActions:
    """Model > Open Model File, Use Bundled Model, Device; ``self`` is the ``MainWindow``."""

    def _start_model(self, model: str | None, device: str | None) -> None:
        device = device or self.settings.device()
        if device not in self.device_actions:
            device = "auto"
        self.device = device
        self.device_actions[device].setChecked(True)
        if model is not None:
            self.load_model(model)
            return
        remembered = self.settings.model_path()
        if remembered and Path(remembered).is_file():
            self.load_model(remembered, quiet=True)
        else:
            self.load_model(None, quiet=True)

    def load_model(self, path: str | Path | None, quiet: bool = False) -> bool:
        """Load a model file (None: the bundled one) on the chosen device. A missing bundled
        model is not an error: the app works without results until one is chosen."""
        try:
            with self._busy():
                self.service.load_model(None if path is None else str(path), self.device)
        except ModelError as e:
            if e.missing or quiet or self.service.colorizer is None:
                self.service.set_colorizer(None, str(e))
            if not quiet:
                dialogs.error(self, "No model" if e.missing else "Cannot load model", str(e))
            return False
        self.settings.set_model_path(None if path is None else str(Path(path).resolve()))
        return True

    def choose_model(self) -> None:
        path = dialogs.open_path(self, "Open model file", self.settings.last_folder("model"),
                                 dialogs.MODEL_FILTER)
        if path is not None:
            self.settings.set_last_folder("model", path)
            self.load_model(path)

    def set_device(self, device: str) -> None:
        if device == self.device:
            return
        old, self.device = self.device, device
        c = self.service.colorizer
        if c is not None and not self.load_model(c.source if self.settings.model_path() else None):
            self.device = old  # the model stays where it was
            self.device_actions[old].setChecked(True)
            return
        self.settings.set_device(device)

    def _on_model_changed(self) -> None:
        c = self.service.colorizer
        self.session.set_work_size(self.service.work_size or DEFAULT_WORK_SIZE)
        if c is None:
            self.lbl_device.setText("No model")
            self.result_view.set_message(
                "No model loaded, so there is no result yet.\n\n"
                f"{self.service.model_error or ''}\n\n"
                "Choose one with Model > Open Model File… (Ctrl+M). You can still open photos "
                "and place hints.")
            self.result_view.clear_result()
        else:
            self.lbl_device.setText(f"Device: {c.device} · {Path(c.source).name}")
            self.result_view.set_message("")
            self.request_update()
