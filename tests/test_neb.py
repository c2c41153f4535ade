"""Climbing-image nudged elastic band (:func:`topoanalysis.levelsets.minimum_energy_path`)
against a landscape whose lowest barrier is known in closed form."""

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, ShapeError, ValidationError
from topoanalysis.levelsets import minimum_energy_path
from topoanalysis.levelsets.neb import _resample, _tangents

# y = a · (w · x): the minima {a w = v} have two components (a > 0, a < 0); every path between
# them crosses a = 0, where the output is 0 and the loss is mean(y²); the path "shrink a to 0,
# turn w, grow a" stays at or below mean(y²). So the lowest barrier is exactly mean(y²).
ARCH = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
X = np.random.default_rng(0).standard_normal((40, 2))
Y = X @ [[1.0], [-2.0]]
LAND = Landscape(ARCH, X, Y, "mse")
A = ARCH.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
B = ARCH.pack([np.array([[-1.0, 2.0]]), np.array([[-1.0]])])
LOWEST = float(np.mean(Y ** 2))


def test_band_finds_the_known_lowest_barrier_from_above():
    # start from a bent path (not the segment) so that the band has to move
    bent = np.array([A + 0.3 * (B - A) + [0.0, 0.0, 0.8], A + 0.7 * (B - A) + [0.0, 0.0, 0.8]])
    p = minimum_energy_path(A, B, LAND, init=bent, n_images=12, steps=3000, lr=5e-3,
                            climb_after=300)
    assert p.height >= LOWEST * (1 - 1e-12)          # no path is lower than the bound
    assert p.height <= LOWEST * 1.02                 # and the band reaches it
    start = LAND.interpolate(_resample(np.concatenate([A[None], bent, B[None]]), 12)[:-1],
                             _resample(np.concatenate([A[None], bent, B[None]]), 12)[1:],
                             n_points=11).loss.max()
    assert start > 1.2 * LOWEST                      # the initial path was higher
    assert np.array_equal(p.images[0], A) and np.array_equal(p.images[-1], B)
    assert p.climbing_image == int(np.argmax(p.image_loss))
    assert abs(p.barrier() - (p.height - max(p.image_loss[0], p.image_loss[-1]))) < 1e-15
    assert "height" in p.summary() and p.to_dict()["height"] == p.height


def test_resample_is_even_in_arc_length_and_keeps_the_ends():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 3.0]])
    r = _resample(path, 4)
    assert np.allclose(r, [[0, 0], [1, 0], [1, 1], [1, 2], [1, 3]])


def test_upwind_tangent_points_to_the_higher_neighbour():
    x = np.array([[0.0], [1.0], [2.0]])
    assert _tangents(x, np.array([0.0, 1.0, 2.0]))[0, 0] == 1.0
    assert _tangents(x, np.array([2.0, 1.0, 0.0]))[0, 0] == 1.0   # still along the path


def test_arguments_are_validated():
    with pytest.raises(ValidationError, match="land"):
        minimum_energy_path(A, B, (X, Y))
    with pytest.raises(ValidationError, match="n_images"):
        minimum_energy_path(A, B, LAND, n_images=1)
    with pytest.raises(ShapeError, match="init"):
        minimum_energy_path(A, B, LAND, init=A[None])


def test_reported_force_is_the_force_at_the_returned_images():
    """max_force / converged describe the returned images (not the ones before the last
    update): a run one step longer with force_tol = that force stops there, on the same
    images; the climbing image is an interior one."""
    kw = dict(n_images=6, lr=5e-3, climb_after=3)
    for n in (0, 1, 7):
        p = minimum_energy_path(A, B, LAND, steps=n, force_tol=0.0, **kw)
        assert np.isfinite(p.max_force) and np.all(np.isfinite(p.image_loss))
        assert 1 <= p.climbing_image <= 5
        q = minimum_energy_path(A, B, LAND, steps=n + 1, force_tol=p.max_force, **kw)
        assert q.converged and q.steps == n + 1 and q.max_force == p.max_force
        assert np.array_equal(q.images, p.images)
        np.testing.assert_array_equal(q.image_loss, p.image_loss)
