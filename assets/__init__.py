"""Bundled data (installed as ``colouru.assets``): the default model, example photos, icons."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_MODEL_NAME = "colouru-default.safetensors"


def bundled_model_path() -> Path:
    """Where the bundled default model lives (``assets/models/`` in the source tree)."""
    return Path(str(resources.files(__name__))) / "models" / DEFAULT_MODEL_NAME
