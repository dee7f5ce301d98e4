"""Regression values of the chunk-independent noise fields (recorded with the original code).

Other demo modules (terrain, forest, history, mine) depend on these exact values, so any speed-up
of :mod:`minecarbon.demo.noise` must reproduce them bit for bit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from minecarbon.demo import noise as nz

IX = np.array([0, 1, -1, 7, -123456, 2**40, -(2**50), 999_999_937])
IY = np.array([0, 0, 5, -3, 654321, -(2**41), 3, 2**33])
X = np.array([500015.0, 512345.678, -1234.5, 0.0, 4.25e6, 73.0])
Y = np.array([4099985.0, 4087654.321, 987.25, 0.0, -3.3e5, 4.1e6])

HASH_UNIFORM = [0.7607439691954286, 0.1576096155454597, 0.16903674179973072, 0.4156631043775655,
                0.031448659958405956, 0.08825138664403342, 0.3844514880714168, 0.8171521420171411]
HASH_UNIFORM_2 = [0.8136347413524967, 0.7006590739545556, 0.5543995870708026, 0.8586489992261673,
                  0.9482796725947978, 0.1509257014730666, 0.6052042667223265, 0.4599290888883597]
HASH_NORMAL = [-1.7932493199278026, 0.3677748382085273, -0.4825675960565283, -0.0426731854780467,
               0.6460915673639339, 1.983970122685312, 0.7389771117272739, -1.1582104423409774]
VALUE_NOISE = [-0.5833332806538929, 0.20830372186242196, 0.5948922100687586,
               -0.24576510452153633, 0.10070970481432129, 0.12092026111798537]
FBM = [0.25296060626249073, 0.11349633111384877, 0.2970774504371508, -0.5076686298187669,
       -0.1395416608077407, -0.1784174945832771]
RIDGED = [0.5261660033778406, 0.5415013294250012, 0.45506123438642987, 0.4084734952230083,
          0.6973127970022964, 0.43202762404009465]
# sha256 of the float64 bytes of fields on a 200 × 300 grid of 30 m pixel centres.
GRID_SHA256 = {
    "hash_uniform": "15babc521eee10b9b3fd4602133b1cc0d672b0e8a77b7a1f510fe69303106d48",
    "value_noise": "a2733667ff9f3cd87f4ac50e211164c8ee82b3e2c3ebc643389adc43f36d35a8",
    "fbm": "e5143a8d97693726c621f147c6b2a1b48dc9924be38d643af0f97defea5ead53",
    "ridged": "4aa2c8ff0b7023a17e63301a36abc3bffdf29728ce96957237027ddee0e92422",
    "fbm_gain": "277313b446ccc556f615ebd09027d7c8358794b50ec77a360b4d98796df3c59a",
}


def grid() -> tuple[np.ndarray, np.ndarray]:
    xs = 500_000.0 + (np.arange(300) + 0.5) * 30.0
    ys = 4_100_000.0 - (np.arange(200) + 0.5) * 30.0
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy


def sha(a: np.ndarray) -> str:
    assert a.dtype == np.float64
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_sample_values_unchanged() -> None:
    assert nz.hash_uniform(IX, IY, 3).tolist() == HASH_UNIFORM
    assert nz.hash_uniform(IX, IY, -17, 4242).tolist() == HASH_UNIFORM_2
    # Box–Muller goes through libm (log1p, cos): allow a last-bit difference across platforms.
    np.testing.assert_allclose(nz.hash_normal(IX, IY, 11, 5), HASH_NORMAL, rtol=1e-14, atol=0)
    assert nz.value_noise(X, Y, 180.0, 3, 11).tolist() == VALUE_NOISE
    assert nz.fbm(X, Y, 500.0, 3, octaves=4, stream=300_026_268).tolist() == FBM
    assert nz.ridged(X, Y, 700.0, 9, octaves=5, stream=2).tolist() == RIDGED


def test_grid_fields_unchanged() -> None:
    gx, gy = grid()
    li, lj = np.rint(gx * 8).astype(np.int64), np.rint(gy * 8).astype(np.int64)
    assert sha(nz.hash_uniform(li, lj, 11, 1234)) == GRID_SHA256["hash_uniform"]
    assert sha(nz.value_noise(gx, gy, 200.0, 11, 7)) == GRID_SHA256["value_noise"]
    assert sha(nz.fbm(gx, gy, 500.0, 11, octaves=4, stream=5)) == GRID_SHA256["fbm"]
    assert sha(nz.ridged(gx, gy, 800.0, 11, octaves=3, stream=5)) == GRID_SHA256["ridged"]
    assert sha(nz.fbm(gx, gy, 400.0, 2, octaves=3, gain=0.6, stream=1)) == GRID_SHA256["fbm_gain"]


def test_grid_layouts_agree() -> None:
    """A field is a function of coordinates only: every array layout gives the same values."""
    gx, gy = grid()
    whole = nz.fbm(gx, gy, 300.0, 4, octaves=5, stream=9)
    row, col = gx[:1], gy[:, :1]
    assert np.array_equal(nz.fbm(row, col, 300.0, 4, octaves=5, stream=9), whole)
    assert np.array_equal(nz.fbm(gx[0], col, 300.0, 4, octaves=5, stream=9), whole)
    flat = nz.fbm(gx.ravel(), gy.ravel(), 300.0, 4, octaves=5, stream=9)
    assert np.array_equal(flat.reshape(gx.shape), whole)
    # Transposed and shuffled layouts, and a single point.
    assert np.array_equal(nz.fbm(gx.T, gy.T, 300.0, 4, octaves=5, stream=9), whole.T)
    perm = np.random.default_rng(0).permutation(gx.size)
    shuffled = nz.fbm(gx.ravel()[perm], gy.ravel()[perm], 300.0, 4, octaves=5, stream=9)
    assert np.array_equal(shuffled, whole.ravel()[perm])
    point = nz.fbm(gx[7, 11], gy[7, 11], 300.0, 4, octaves=5, stream=9)
    assert np.ndim(point) == 0 and point == whole[7, 11]
    # Integer and float32 coordinates behave as before (float32 arithmetic on the coordinates).
    xi, yi = gx.astype(np.int64), gy.astype(np.int64)
    assert np.array_equal(nz.value_noise(xi, yi, 200.0, 1, 2),
                          nz.value_noise(xi.astype(np.float64), yi.astype(np.float64), 200.0, 1, 2))


def test_hash_normals_match_hash_normal() -> None:
    gx, gy = grid()
    li, lj = np.rint(gx * 8).astype(np.int64), np.rint(gy * 8).astype(np.int64)
    streams = [3, 17, 1_000_000]
    many = nz.hash_normals(li[:1], lj[:, :1], 5, streams)
    for s, field in zip(streams, many, strict=True):
        assert np.array_equal(field, nz.hash_normal(li, lj, 5, s))


@pytest.mark.parametrize("seed", [0, 1, -5, 2**40])
def test_hash_uniform_range_and_scalars(seed: int) -> None:
    u = nz.hash_uniform(np.arange(-500, 500), np.arange(1000) % 7, seed, 3)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert nz.hash_uniform(4, -9, seed, 3) == nz.hash_uniform(np.array([4]), np.array([-9]),
                                                                seed, 3)[0]
