"""``colouru-gui [PHOTO] [--model FILE] [--device NAME]``: start the desktop app."""

from __future__ import annotations

import argparse
import sys

from colouru import __version__

from .settings import APPLICATION, ORGANIZATION


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colouru-gui",
                                description="ColourU: colorize a photo with a few colour hints.")
    p.add_argument("photo", nargs="?", help="photo to open")
    p.add_argument("--hints", metavar="FILE.json", help="hints to load onto the photo")
    p.add_argument("--model", metavar="PATH",
                   help="model file (default: the last one used, else the bundled model)")
    p.add_argument("--device", help="auto, cpu, cuda or mps (default: the last one used)")
    p.add_argument("--version", action="version", version=f"ColourU {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ColourU")
    app.setApplicationVersion(__version__)
    window = MainWindow(model=args.model, device=args.device)
    window.show()
    if args.photo:
        if window.open_photo(args.photo) and args.hints:
            window.import_hints(args.hints)
    else:
        window.offer_recovery()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
