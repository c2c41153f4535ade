"""Loss along segments and paths (compiled engine) against a NumPy loop over the reference."""

import numpy as np
import pytest

from topoanalysis import Architecture, Network, ShapeError, ValidationError
from topoanalysis.init import init_params
from topoanalysis.losses import accuracy, loss_value
from topoanalysis.network import forward
from topoanalysis.dynamics import interpolate, interpolation_barrier, path_losses

RTOL = 1e-10


def reference_curve(arch, a, b, ts, X, Y, loss):
    thetas = np.array([(1.0 - t) * a + t * b for t in ts])
    out = forward(arch, thetas, X)
    acc = accuracy(out, Y, loss) if loss in ("bce", "cross_entropy") else None
    return loss_value(loss, out, Y), acc


def data(loss, e=1, n=41, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss == "bce":
        Y = (X[:, :e] > 0).astype(float)
    elif loss == "cross_entropy":
        Y = np.eye(e)[rng.integers(0, e, n)]
    else:
        Y = rng.standard_normal((n, e))
    return X, Y


@pytest.mark.parametrize("loss, e", [("mse", 2), ("l1", 1), ("bce", 2), ("cross_entropy", 3)])
def test_segments_match_reference(loss, e):
    arch = Architecture(3, (6, 4), e, activation="leaky_relu")
    X, Y = data(loss, e)
    A = init_params(arch, n_networks=4, seed=1)
    B = init_params(arch, n_networks=4, seed=2)
    ts = np.array([-0.25, 0.0, 0.3, 0.5, 1.0, 1.5])
    res = interpolate(A, B, X, Y, arch=arch, loss=loss, ts=ts, n_threads=2)
    assert res.loss.shape == (4, 6)
    for m in range(4):
        ref_loss, ref_acc = reference_curve(arch, A[m], B[m], ts, X, Y, loss)
        assert np.max(np.abs(res.loss[m] - ref_loss) / ref_loss) < RTOL
        if ref_acc is None:
            assert res.accuracy is None
        else:
            assert np.array_equal(res.accuracy[m], ref_acc)


def test_endpoints_are_exact_and_single_network_broadcasts():
    arch = Architecture(3, (5,), 1)
    X, Y = data("bce")
    a = Network.initialize(arch, seed=0)
    many = [Network.initialize(arch, seed=s) for s in range(1, 4)]
    res = interpolate(a, many, X, Y, loss="bce", n_points=3)
    assert res.loss.shape == (3, 3) and res.ts.tolist() == [0.0, 0.5, 1.0]
    assert np.allclose(res.loss[:, 0], a.loss(X, Y, "bce"), rtol=1e-14)
    assert np.allclose(res.loss[:, 2], [n.loss(X, Y, "bce") for n in many], rtol=1e-14)


def test_threads_do_not_change_results():
    arch = Architecture(3, (7,), 2, activation="sigmoid")
    X, Y = data("cross_entropy", e=2)
    A = init_params(arch, n_networks=5, seed=3)
    B = init_params(arch, n_networks=5, seed=4)
    one = interpolate(A, B, X, Y, arch=arch, loss="cross_entropy", n_points=9, n_threads=1)
    two = interpolate(A, B, X, Y, arch=arch, loss="cross_entropy", n_points=9, n_threads=2)
    assert np.array_equal(one.loss, two.loss) and np.array_equal(one.accuracy, two.accuracy)


def test_path_losses_match_segments_and_join():
    arch = Architecture(3, (5,), 1)
    X, Y = data("mse")
    beads = init_params(arch, n_networks=8, seed=5).reshape(2, 4, -1)
    res = path_losses(beads, X, Y, arch=arch, loss="mse", points_per_edge=5)
    assert res.loss.shape == (2, 3, 5)
    for q in range(2):
        for k in range(3):
            ref, _ = reference_curve(arch, beads[q, k], beads[q, k + 1], res.ts, X, Y, "mse")
            assert np.max(np.abs(res.loss[q, k] - ref) / ref) < RTOL
    pos, joined = res.along_path()
    assert pos.shape == (13,) and joined.shape == (2, 13)
    assert pos[0] == 0 and pos[-1] == 3 and np.all(np.diff(pos) > 0)
    assert np.array_equal(joined[:, 4], res.loss[:, 1, 0])
    assert np.array_equal(res.max_loss, res.loss.max(axis=(1, 2)))
    nets = [Network(arch, p) for p in beads[0]]
    same = path_losses(nets, X, Y, loss="mse", points_per_edge=5)
    assert np.array_equal(same.loss[0], res.loss[0])


def test_barrier_definitions():
    arch = Architecture(3, (6,), 1)
    X, Y = data("bce")
    A = init_params(arch, n_networks=3, seed=6)
    B = init_params(arch, n_networks=3, seed=7)
    res = interpolation_barrier(A, B, X, Y, arch=arch, loss="bce", n_points=20)
    ts = res.ts
    assert 0.5 in ts and ts[0] == 0.0 and ts[-1] == 1.0 and ts.size == 21
    for m in range(3):
        curve, _ = reference_curve(arch, A[m], B[m], ts, X, Y, "bce")
        l0, l1 = curve[0], curve[-1]
        above = curve - ((1 - ts) * l0 + ts * l1)
        assert np.isclose(res.barrier[m], above.max(), rtol=1e-10, atol=1e-14)
        chord = (1 - ts) * res.loss_a[m] + ts * res.loss_b[m]
        assert res.t_barrier[m] == ts[np.argmax(res.loss[m] - chord)]
        assert np.isclose(res.mean[m], curve.max() - (l0 + l1) / 2, rtol=1e-10)
        assert np.isclose(res.midpoint[m], curve[ts == 0.5][0] - (l0 + l1) / 2, rtol=1e-10)
        assert res.t_max[m] == ts[np.argmax(res.loss[m])]
    assert np.all(res.barrier >= 0)
    assert np.all(res.mean >= res.midpoint)
    assert np.array_equal(res.get("mean"), res.mean)
    with pytest.raises(ValidationError, match="`kind`"):
        res.get("max")


def test_barrier_is_zero_on_a_convex_segment():
    # a linear network with MSE is convex in the output-layer weights
    arch = Architecture(2, (3,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X, Y = data("mse", d=2)
    a = init_params(arch, seed=0)
    b = a.copy()
    b[-3:] += 1.0  # move only the output weights
    res = interpolation_barrier(a, b, X, Y, arch=arch, loss="mse", n_points=11)
    assert res.barrier[0] <= 1e-12 and res.t_barrier[0] in (0.0, 1.0)


def test_bad_inputs_name_the_parameter():
    arch = Architecture(3, (5,), 1)
    X, Y = data("mse")
    a = init_params(arch, n_networks=2, seed=0)
    with pytest.raises(ValidationError, match="`arch`"):
        interpolate(a, a, X, Y)
    with pytest.raises(ShapeError, match="`theta_a` and `theta_b`"):
        interpolate(a, init_params(arch, n_networks=3), X, Y, arch=arch)
    other = Network.initialize(Architecture(3, (4,), 1))
    with pytest.raises(ValidationError, match="`theta_b`|`arch`"):
        interpolate(Network(arch, a[0]), other, X, Y)
    with pytest.raises(ValidationError, match="`n_points`"):
        interpolate(a, a, X, Y, arch=arch, n_points=1)
    with pytest.raises(ValidationError, match="`ts`"):
        interpolate(a, a, X, Y, arch=arch, ts=[0.0, np.nan])
    with pytest.raises(ShapeError, match="`beads`"):
        path_losses(a[:1], X, Y, arch=arch)
    with pytest.raises(ValidationError, match="`arch`"):
        path_losses(a, X, Y)
    with pytest.raises(ValidationError, match="`points_per_edge`"):
        path_losses(a, X, Y, arch=arch, points_per_edge=0)
    with pytest.raises(ValidationError, match="`loss`"):
        interpolation_barrier(a, a, X, Y, arch=arch, loss="hinge")


def test_barrier_of_a_segment_to_itself_is_exactly_zero():
    """Identical endpoints are one point: constant curve, barrier, mean and midpoint exactly 0
    (the kernel's (1 - t) z_a + t z_b of equal pre-activations rounds away from z_a)."""
    from topoanalysis.dynamics import interpolation_barrier

    rng = np.random.default_rng(3)
    arch = Architecture(3, (5,), 1, hidden_bias=True, output_bias=True, activation="relu")
    X = rng.standard_normal((40, 3))
    y = rng.standard_normal((40, 1))
    theta = rng.standard_normal((6, arch.n_params)) * 1.7
    res = interpolation_barrier(theta, theta.copy(), X, y, arch=arch, loss="mse", n_points=37)
    assert np.all(res.barrier == 0.0) and np.all(res.mean == 0.0)
    assert np.all(res.midpoint == 0.0)
    assert np.all(res.loss == res.loss_a[:, None])
    # the chord is exact at both ends: a pair of distinct endpoints keeps barrier >= 0 and
    # its ends on the chord
    other = rng.standard_normal((6, arch.n_params))
    res2 = interpolation_barrier(theta, other, X, y, arch=arch, loss="mse", n_points=37)
    assert np.all(res2.barrier >= 0.0)
    assert np.all(res2.loss[:, 0] == res2.loss_a) and np.all(res2.loss[:, -1] == res2.loss_b)


def test_interpolate_between_identical_endpoints_is_the_point_everywhere():
    """The segment kernel's owner treats identical ends as one point: the curve is the
    point's loss at every t (also for grids without t = 0, and in float32)."""
    rng = np.random.default_rng(5)
    arch = Architecture(3, (5,), 1, hidden_bias=True, output_bias=True, activation="relu")
    X, y = rng.standard_normal((30, 3)), rng.standard_normal((30, 1))
    theta = rng.standard_normal((4, arch.n_params)) * 1.9
    for dtype in ("float64", "float32"):
        ref = interpolate(theta, theta, X, y, arch=arch, ts=[0.0], dtype=dtype).loss[:, 0]
        res = interpolate(theta, theta.copy(), X, y, arch=arch, ts=[0.13, 0.5, 0.77, 1.0],
                          dtype=dtype)
        assert np.array_equal(res.loss, np.repeat(ref[:, None], 4, axis=1))
