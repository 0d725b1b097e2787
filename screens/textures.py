"""Camera frames and scanned pages (OpenCV BGR arrays) as Kivy textures."""

from __future__ import annotations

from typing import Any

import numpy as np
from kivy.graphics.texture import Texture


def to_texture(bgr: np.ndarray[Any, Any]) -> Texture:
    """Kivy's origin is bottom-left and it wants RGB: flip the rows, swap the channels."""
    height, width = bgr.shape[:2]
    texture = Texture.create(size=(width, height), colorfmt="rgb")
    texture.blit_buffer(
        np.ascontiguousarray(bgr[::-1, :, ::-1]).tobytes(), colorfmt="rgb", bufferfmt="ubyte"
    )
    return texture
