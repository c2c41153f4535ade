"""Tests of the exact one-step drift of the neuron invariants (topoanalysis.symbolic.drift).

Symbolic: the drift is compared with η² (||G_w||² − ||G_a||²) built here from the symbol
names; the first-order term must cancel only for the true gradient and plain GD.
Numeric: one gradient-descent step of the NumPy model in topoanalysis.network, measured
change of c_k against the derived formula (lambdified) and the NumPy helper.
"""

import numpy as np
import pytest
import sympy

from topoanalysis.exceptions import NotSupportedError, ShapeError, ValidationError
from topoanalysis.network import Architecture, Network
from topoanalysis.symbolic import gd_drift, predicted_drift, symbolic_network

EPS = np.finfo(np.float64).eps


def G(p):
    return sympy.Symbol(f"dL_d{p.name}")


# --- symbolic -----------------------------------------------------------------------------

@pytest.mark.parametrize("d,l,e,hb,ob", [(1, 1, 1, False, False), (2, 2, 1, True, True),
                                         (3, 3, 2, True, True), (2, 2, 2, False, True)])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "abs"])
def test_gd_drift_formula_and_cancellation(d, l, e, hb, ob, activation):
    res = gd_drift(d, (l,), e, activation=activation, hidden_bias=hb, output_bias=ob)
    net = res.network
    eta = res.learning_rate
    assert sorted(res.drift) == list(range(l))
    for k in range(l):
        w, a = net.incoming(1, k), net.outgoing(1, k)
        expected = eta**2 * (sum(G(p) ** 2 for p in w) - sum(G(p) ** 2 for p in a))
        assert sympy.expand(res.drift[k] - expected) == 0
        # before substituting the true gradient the linear term is there
        linear = -2 * eta * (sum(p * G(p) for p in w) - sum(p * G(p) for p in a))
        assert sympy.expand(res.first_order[k] - linear) == 0
        assert sympy.expand(res.increments[k] - linear - expected) == 0
    holds, residual = res.check()
    assert holds is True
    assert residual == sympy.zeros(l, 1)


def test_gd_drift_deep_network():
    res = gd_drift(2, (2, 2), 1)
    assert list(res.drift) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert res.check()[0] is True
    net = res.network
    eta = res.learning_rate
    inc, out = net.incoming(2, 1), net.outgoing(2, 1)
    expected = eta**2 * (sum(G(p) ** 2 for p in inc) - sum(G(p) ** 2 for p in out))
    assert sympy.expand(res.drift[(2, 1)] - expected) == 0


def test_preconditioned_step_breaks_first_order_cancellation():
    res = gd_drift(2, (2,), 1, preconditioned=True)
    assert res.preconditioned
    holds, residual = res.check()
    assert holds is False
    assert all(r != 0 for r in residual)
    # with D = 1 the residual vanishes again: the scaling is what breaks it
    ones = {s: 1 for s in res.scaling_symbols}
    assert all(sympy.expand(r.xreplace(ones)) == 0 for r in residual)


def test_gd_drift_needs_homogeneous_activation():
    with pytest.raises(NotSupportedError, match="tanh"):
        gd_drift(2, (2,), 1, activation="tanh")


def test_gd_drift_bad_arguments():
    with pytest.raises(ValidationError, match="`preconditioned`"):
        gd_drift(1, (1,), 1, preconditioned="yes")
    net = symbolic_network(1, (1,), 1)
    with pytest.raises(ValidationError, match="`output_bias`"):
        gd_drift(net, output_bias=False)
    res = gd_drift(net)
    with pytest.raises(ValidationError, match="`which`"):
        res.lambdified("both")
    f = res.lambdified()
    with pytest.raises(ValidationError, match="2 arguments"):
        f(np.zeros(net.n_params))
    with pytest.raises(ShapeError, match="`grad`"):
        f(np.zeros(net.n_params + 1), 0.1)


# --- numeric: one GD step of the NumPy model ------------------------------------------------

def _data(d, e, loss, n=9, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if loss == "mse":
        Y = rng.normal(size=(n, e))
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(n, e)).astype(float)
    else:
        Y = np.eye(e)[rng.integers(0, e, size=n)]
    return X, Y


def _tolerance(net):
    w, a = net.neuron_weights()
    scale = np.sum(w * w, axis=1) + np.sum(a * a, axis=1)
    return 64 * EPS * scale


@pytest.mark.parametrize("d,l,e,hb,ob,activation,loss", [
    (3, 3, 2, True, True, "relu", "mse"),
    (2, 4, 1, False, True, "relu", "bce"),
    (3, 2, 3, True, False, "leaky_relu", "cross_entropy"),
    (2, 3, 2, True, True, "abs", "mse"),
    (1, 1, 1, False, False, "relu", "mse"),
])
def test_measured_drift_matches_formula(d, l, e, hb, ob, activation, loss):
    arch = Architecture(inputs=d, hidden=(l,), outputs=e, hidden_bias=hb, output_bias=ob,
                        activation=activation)
    net = Network.initialize(arch, scheme="kaiming_normal", seed=0)
    X, Y = _data(d, e, loss)
    _, grad = net.loss_and_grad(X, Y, loss=loss)
    res = gd_drift(arch)
    drift = res.lambdified()
    increment = res.lambdified("increment")
    for lr in (0.05, 0.3):
        stepped = Network(arch, net.params - lr * grad)
        measured = stepped.conserved_quantities() - net.conserved_quantities()
        derived = drift(grad, lr)
        tol = _tolerance(net) + _tolerance(stepped)
        np.testing.assert_allclose(measured, derived, rtol=1e-12, atol=tol.max())
        # the exact increment (with the cancelled first-order term) agrees too
        np.testing.assert_allclose(increment(net.params, grad, lr), derived, rtol=1e-10,
                                   atol=tol.max())
        # NumPy helper on the unpacked gradient
        (gW1, gb1), (gW2, _) = arch.unpack(grad)
        grad_w = gW1 if gb1 is None else np.concatenate([gW1, gb1[:, None]], axis=1)
        np.testing.assert_allclose(predicted_drift(grad_w, gW2, lr), derived, rtol=1e-12,
                                   atol=1e-300)
        assert np.any(np.abs(derived) > 1e3 * tol.max())  # a real, measurable drift


def test_per_coordinate_scaling_changes_ck_at_first_order():
    # an Adam-like step θ' = θ − η D ∇L: the exact increment is reproduced by the derived
    # expression, and it is O(η), not O(η²)
    arch = Architecture(inputs=2, hidden=(3,), outputs=1, activation="relu")
    net = Network.initialize(arch, seed=2)
    X, Y = _data(2, 1, "mse", seed=4)
    _, grad = net.loss_and_grad(X, Y)
    D = 1.0 / (np.abs(grad) + 1e-3)  # sign-like scaling as in Adam's first step
    res = gd_drift(arch, preconditioned=True)
    increment = res.lambdified("increment")
    gd_only = gd_drift(arch).lambdified()
    ratios = []
    for lr in (1e-3, 1e-4):
        stepped = Network(arch, net.params - lr * D * grad)
        measured = stepped.conserved_quantities() - net.conserved_quantities()
        np.testing.assert_allclose(increment(net.params, grad, lr, D), measured, rtol=1e-7,
                                   atol=1e-14)
        ratios.append(np.abs(measured) / np.maximum(np.abs(gd_only(grad, lr)), 1e-300))
    # GD's drift shrinks like η², this one like η: the ratio grows ~10x per decade
    # (neurons that receive no gradient, dead on all data, do not move at all)
    alive = np.abs(gd_only(grad, 1.0)) > 0
    assert alive.sum() >= 2
    assert np.all(ratios[1][alive] > 5 * ratios[0][alive])


# --- predicted_drift validation ----------------------------------------------------------

def test_predicted_drift_batched():
    rng = np.random.default_rng(0)
    gw = rng.normal(size=(5, 4, 3))
    ga = rng.normal(size=(5, 2, 4))
    out = predicted_drift(gw, ga, 0.1)
    assert out.shape == (5, 4)
    np.testing.assert_allclose(out[2], 0.01 * ((gw[2] ** 2).sum(1) - (ga[2] ** 2).sum(0)))


@pytest.mark.parametrize("lr", [0.0, -0.1, np.inf, "0.1", None])
def test_predicted_drift_bad_lr(lr):
    with pytest.raises(ValidationError, match="`lr`"):
        predicted_drift(np.ones((2, 3)), np.ones((1, 2)), lr)


def test_predicted_drift_bad_shapes():
    with pytest.raises(ShapeError, match="`grad_a`"):
        predicted_drift(np.ones((2, 3)), np.ones((1, 3)), 0.1)
    with pytest.raises(ShapeError, match="`grad_w`"):
        predicted_drift(np.ones(3), np.ones((1, 3)), 0.1)
    with pytest.raises(ShapeError, match="`grad_a`"):
        predicted_drift(np.ones((2, 3)), np.ones(2), 0.1)
    with pytest.raises(ValidationError, match="`grad_w`.*finite"):
        predicted_drift(np.full((2, 3), np.nan), np.ones((1, 2)), 0.1)
