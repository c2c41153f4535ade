"""How l_+ is set: the ratio (paper) and the scale-controlled 'kernel' balance of Figure 4."""

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.init import init_params
from topoanalysis.network import conserved_quantities, forward, loss_and_gradient
from topoanalysis.obstruction import (breast_cancer_cell, breast_cancer_sweep_cell, kernel_trace,
                                      set_pathological_count)


def reference_kernel_trace(arch, theta, X):
    """Σ_n Σ_j ||∂f_j(x_n)/∂θ_k||² per neuron from the NumPy reference gradient.

    With MSE (mean over the ``e`` entries) on one sample and the target ``f(x)`` except
    ``f_j(x) - e/2`` in output ``j``, the gradient is exactly ``∂f_j/∂θ``.
    """
    (W1, b1), (W2, b2) = arch.unpack(np.arange(arch.n_params, dtype=float))
    idx = [np.concatenate([W1[k], [] if b1 is None else [b1[k]], W2[:, k]]).astype(int)
           for k in range(arch.hidden[0])]
    out = np.zeros(arch.hidden[0])
    e = arch.outputs
    for x in X:
        f = forward(arch, theta, x[None, :])
        for j in range(e):
            y = f.copy()
            y[0, j] -= e / 2
            _, g = loss_and_gradient(arch, theta, x[None, :], y, "mse")
            out += np.array([np.sum(g[i] ** 2) for i in idx])
    return out


@pytest.mark.parametrize("bias, e", [(True, 1), (False, 1), (True, 2)])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu(0.2)", "abs"])
def test_kernel_trace_matches_reference(bias, e, activation):
    arch = Architecture(3, (4,), e, hidden_bias=bias, activation=activation)
    theta = init_params(arch, "kaiming_normal", seed=2)
    X = np.random.default_rng(0).normal(size=(7, 3))
    assert np.allclose(kernel_trace(arch, theta, X), reference_kernel_trace(arch, theta, X),
                       rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("balance", ["ratio", "kernel"])
def test_balances_set_l_plus_and_keep_the_function(balance):
    arch = Architecture(5, (4,), 1)
    theta = init_params(arch, "kaiming_normal", seed=1, n_networks=6)
    X = np.random.default_rng(1).normal(size=(30, 5))
    for lp in range(5):
        moved = set_pathological_count(arch, theta, lp, ratio=3.0, balance=balance, X=X)
        c = conserved_quantities(arch, moved)
        assert np.all((c > 0).sum(axis=1) == lp) and np.all(c[:, :lp] > 0)
        assert np.allclose(forward(arch, moved, X), forward(arch, theta, X))
        w2 = np.sum(arch.unpack(moved)[0][0] ** 2, axis=-1) + arch.unpack(moved)[0][1] ** 2
        a2 = np.sum(arch.unpack(moved)[1][0] ** 2, axis=-2)
        # the less extreme of a neuron's two versions has exactly the ratio (or its inverse)
        assert np.all(np.where(c > 0, w2 / a2, a2 / w2) >= 3.0 * (1 - 1e-9))


def test_ratio_keeps_the_norm_kernel_keeps_the_kernel_trace():
    arch = Architecture(30, (5,), 1)
    theta = init_params(arch, "kaiming_normal", seed=3, n_networks=4)
    X = np.random.default_rng(2).normal(size=(50, 30))
    ratio = {lp: set_pathological_count(arch, theta, lp) for lp in (0, 5)}
    kern = {lp: set_pathological_count(arch, theta, lp, balance="kernel", X=X) for lp in (0, 5)}
    norm = lambda t: np.linalg.norm(t, axis=-1)  # noqa: E731
    # the paper's rescaling: same parameter norm for every l_+, but not the same kernel trace
    assert np.allclose(norm(ratio[0]), norm(ratio[5]))
    t0, t5 = (reference_kernel_trace(arch, ratio[lp][0], X).sum() for lp in (0, 5))
    assert t0 > 2 * t5
    # the scale-controlled variant: the same per-neuron kernel trace for both signs
    k0 = reference_kernel_trace(arch, kern[0][0], X)
    k5 = reference_kernel_trace(arch, kern[5][0], X)
    assert np.allclose(k0, k5, rtol=1e-10)
    assert np.allclose(k0, reference_kernel_trace(arch, ratio[0][0], X), rtol=1e-10)


def test_dead_neuron_falls_back_to_the_ratio():
    arch = Architecture(2, (2,), 1, hidden_bias=False, output_bias=False)
    theta = arch.pack([np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, 1.0]])])
    X = np.array([[1.0, 0.0], [2.0, 1.0]])                 # neuron 1 is dead on X
    moved = set_pathological_count(arch, theta, 2, ratio=4.0, balance="kernel", X=X)
    (W1, _), (W2, _) = arch.unpack(moved)
    assert np.sum(W1[1] ** 2) / W2[0, 1] ** 2 == pytest.approx(4.0)
    assert np.all(conserved_quantities(arch, moved) > 0)


def test_balance_errors():
    arch = Architecture(2, (3,), 1)
    theta = init_params(arch, seed=0)
    with pytest.raises(ValidationError, match="`balance`"):
        set_pathological_count(arch, theta, 1, balance="norm")
    with pytest.raises(ValidationError, match="`X`"):
        set_pathological_count(arch, theta, 1, balance="kernel")
    with pytest.raises(ValidationError, match="`X`"):
        set_pathological_count(arch, theta, 1, balance="kernel", X=np.ones((4, 3)))
    with pytest.raises(ValidationError, match="`cell`"):
        breast_cancer_sweep_cell({"width": 2})


def test_kernel_cell_runs_and_reports_its_scale():
    kw = dict(n_init=3, steps=20, n_threads=1)
    a = breast_cancer_cell(2, 0, balance="kernel", **kw)
    b = breast_cancer_sweep_cell({"width": 2, "n_positive": 2}, balance="kernel", **kw)
    assert a["kernel_trace_mean"] == pytest.approx(b["kernel_trace_mean"], rel=1e-10)
    r0 = breast_cancer_cell(2, 0, **kw)
    r2 = breast_cancer_cell(2, 2, **kw)
    assert r0["param_norm_mean"] == pytest.approx(r2["param_norm_mean"], rel=1e-10)
    assert r0["kernel_trace_mean"] > 2 * r2["kernel_trace_mean"]


def test_sweep_script_variant_flags(load_script, tmp_path):
    import csv

    from topoanalysis.io import FileError

    pytest.importorskip("matplotlib")
    sweep = load_script("breast_cancer_sweep")
    base = ["--widths", "2:2", "--n-init", "2", "--steps", "5", "--quiet"]
    assert sweep.main(base + ["--out", str(tmp_path / "k"), "--balance", "kernel"]) == 0
    with open(tmp_path / "k" / "breast_cancer_sweep.csv") as fh:
        rows = list(csv.DictReader(fh))
    traces = [float(r["kernel_trace_mean"]) for r in rows]    # same trace for every l_+
    assert len(rows) == 3 and traces == pytest.approx([traces[0]] * 3, rel=1e-12)
    with pytest.raises(FileError, match="other settings"):       # a folder keeps one variant
        sweep.main(base + ["--out", str(tmp_path / "k"), "--ratio", "2"])
    with pytest.raises(SystemExit):
        sweep.main(base + ["--out", str(tmp_path / "r"), "--ratio", "1"])


def test_overflowing_ratio_is_named():
    arch = Architecture(1, (1,), 1, hidden_bias=False, output_bias=False)
    theta = arch.pack([np.array([[1e-3]]), np.array([[10.0]])])
    with pytest.raises(ValidationError, match="floating-point range"):
        set_pathological_count(arch, theta, 1, ratio=1e308)
