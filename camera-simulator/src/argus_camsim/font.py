"""A tiny 5x7 bitmap font for the human-readable overlay (clock, camera name, labels).

Drawn straight into a luma plane with numpy, so the simulator needs no imaging library.
Lower-case letters are drawn as capitals; unknown characters as a hollow box.
"""

from __future__ import annotations

import numpy as np

# Each glyph: 7 rows of 5 columns, '#' = ink.
_GLYPHS: dict[str, str] = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    " ": "..... ..... ..... ..... ..... ..... .....",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "-": "..... ..... ..... ##### ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    "_": "..... ..... ..... ..... ..... ..... #####",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
    "?": "##### #...# #...# #...# #...# #...# #####",
}

GLYPH_W = 5
GLYPH_H = 7
CELL_W = 6  # one column of spacing
CELL_H = 8  # one row of spacing


def _parse(rows: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows.split()], dtype=bool)


_BITMAPS: dict[str, np.ndarray] = {ch: _parse(rows) for ch, rows in _GLYPHS.items()}
_SPACER = np.zeros((GLYPH_H, CELL_W - GLYPH_W), dtype=bool)


def text_mask(text: str, scale: int) -> np.ndarray:
    """Boolean ink mask of ``text``, ``CELL_H*scale`` rows by ``CELL_W*scale*len`` columns."""
    if not text:
        return np.zeros((CELL_H * scale, 0), dtype=bool)
    pieces: list[np.ndarray] = []
    for ch in text.upper():
        pieces.append(_BITMAPS.get(ch, _BITMAPS["?"]))
        pieces.append(_SPACER)
    glyphs = np.hstack(pieces)
    mask = np.zeros((CELL_H, glyphs.shape[1]), dtype=bool)
    mask[:GLYPH_H] = glyphs
    if scale > 1:
        mask = np.repeat(np.repeat(mask, scale, axis=0), scale, axis=1)
    return mask


def text_size(text: str, scale: int) -> tuple[int, int]:
    """(width, height) in pixels that :func:`draw_text` covers."""
    return (CELL_W * scale * len(text) + 2 * scale, CELL_H * scale + 2 * scale)


def draw_text(
    y_plane: np.ndarray,
    x: int,
    y: int,
    text: str,
    scale: int,
    ink: int = 235,
    background: int | None = 16,
) -> None:
    """Draw ``text`` into a luma plane at (x, y), on a solid box unless background is None.

    Clipped at the plane's edges.
    """
    mask = text_mask(text, scale)
    pad = scale
    box_h, box_w = mask.shape[0] + 2 * pad, mask.shape[1] + 2 * pad
    plane_h, plane_w = y_plane.shape
    x1, y1 = min(plane_w, x + box_w), min(plane_h, y + box_h)
    if x1 <= x or y1 <= y or x < 0 or y < 0:
        return
    region = y_plane[y:y1, x:x1]
    if background is not None:
        region[:] = background
    inner = mask[: max(0, y1 - y - pad), : max(0, x1 - x - pad)]
    target = region[pad : pad + inner.shape[0], pad : pad + inner.shape[1]]
    target[inner] = ink
