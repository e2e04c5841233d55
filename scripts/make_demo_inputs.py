"""Make the hinted demo input: a black-and-white kingfisher (the colour example's own L) and a
hints file whose colours are the true mean ab under each square, as a user who knows the
bird's colours would place them. Output: assets/examples/demo/.

    .venv/bin/python scripts/make_demo_inputs.py
"""

from pathlib import Path

import numpy as np

from colouru import Hint, save_hints
from colouru.colour import lab_to_rgb, rgb_to_lab
from colouru.hints import hint_box
from colouru.imageio import read_image, save_image

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "assets/examples/kingfisher.png"
OUT = ROOT / "assets/examples/demo"
# (x, y) centres in image pixels: wing, crown, breast, belly, background, leaves, log.
POINTS = [(380, 260), (470, 330), (330, 70), (300, 220), (385, 360), (600, 150), (100, 250),
          (660, 420), (150, 390), (300, 470)]
SIZE = 12  # image pixels (about 4 px at the network's working size of 256)


def main() -> None:
    rgb = read_image(SRC)
    lab = rgb_to_lab(rgb)
    hints = []
    for x, y in POINTS:
        x0, y0, x1, y1 = hint_box(Hint(x, y, SIZE, ab=(0, 0)), lab.shape[:2], lab.shape[:2])
        a, b = lab[y0:y1, x0:x1, 1:].reshape(-1, 2).mean(axis=0)
        hints.append(Hint(x, y, SIZE, ab=(float(a), float(b))))
    OUT.mkdir(parents=True, exist_ok=True)
    grey = lab.copy()
    grey[..., 1:] = 0
    save_image(OUT / "kingfisher_bw.png", lab_to_rgb(grey))
    save_hints(OUT / "kingfisher_bw.hints.json", hints, image_size=(rgb.shape[1], rgb.shape[0]))
    print(f"wrote {OUT / 'kingfisher_bw.png'} and {len(hints)} hints")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
