"""The random streams of the plots' Monte Carlo (requirement P6) and its normal deviates.

Part of :mod:`minecarbon.allometry.uncertainty`, whose module docstring states the
reproducibility contract. Each block of :data:`STREAM_TREES` trees in canonical order has one
stream per error source, ``SeedSequence(seed, spawn_key=(source, block))`` (the systematic
errors, drawn once per model, use ``spawn_key=(source, crc32(model key))``), and
:func:`normal_draws` turns a stream into float32 standard normal deviates by Box–Muller.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

Float32Array = NDArray[np.float32]

#: Trees per random-stream block (part of the reproducibility contract: do not change lightly).
STREAM_TREES: Final = 512

_DBH, _HEIGHT, _RESIDUAL, _CARBON, _MODEL = 0, 1, 2, 3, 4  # random-stream sources


def _stream(seed: int, source: int, index: int) -> np.random.SFC64:
    return np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(source, index)))


def normal_draws(bit_generator: np.random.BitGenerator, rows: int, cols: int) -> Float32Array:
    """A (rows, cols) float32 array of standard normal deviates (Box–Muller, 23-bit uniforms).

    Consumes ``ceil(rows · cols / 2)`` 64-bit words; each gives two uniforms, u1 for the radius
    ``sqrt(−2 ln u1)`` (u1 in (0, 1], from the first half of the words) and u2 for the angle
    (from the second half); the first half of the output uses the cosine, the second the sine.
    """
    n = rows * cols
    half = (n + 1) // 2
    bits = np.asarray(bit_generator.random_raw(half), dtype=np.uint64).view(np.uint32)
    np.right_shift(bits, np.uint32(9), out=bits)
    np.bitwise_or(bits, np.uint32(0x3F800000), out=bits)
    uniform = bits.view(np.float32)  # in [1, 2)
    u1 = uniform[:half]
    u2 = uniform[half:]
    radius = np.subtract(np.float32(2.0), u1)  # (0, 1]
    np.log(radius, out=radius)
    np.multiply(radius, np.float32(-2.0), out=radius)
    np.sqrt(radius, out=radius)
    angle = np.multiply(u2, np.float32(2.0 * np.pi))
    out = np.empty(2 * half, dtype=np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    np.multiply(out[:half], radius, out=out[:half])
    np.multiply(out[half:], radius, out=out[half:])
    return out[:n].reshape(rows, cols)
