"""Critical points of shallow ReLU-like networks: hand-built cases, brute force, known answers."""

import json

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import (
    add_zero_neurons, classify, detect_plateaus, directional_derivative, embedding_family,
    escape_neurons, kink_samples, snap, snap_and_classify, split_neuron, stationarity,
    symbolic_conditions, tangential_minimum)
from topoanalysis.critical._point import pack, shallow_point
from topoanalysis.exceptions import NotSupportedError, ValidationError


def net_from(w, a, b=None, *, hidden_bias=True, activation="relu", slope=0.01):
    w, a = np.atleast_2d(np.asarray(w, float)), np.asarray(a, float)
    a = a.reshape(w.shape[0], -1)
    d = w.shape[1] - (1 if hidden_bias else 0)
    arch = Architecture(d, (w.shape[0],), a.shape[1], hidden_bias=hidden_bias,
                        output_bias=b is not None, activation=activation, negative_slope=slope)
    return Network(arch, pack(arch, w, a, None if b is None else np.atleast_1d(b)))


def loss_of(net, X, y):
    return net.loss(X, y)


# --- one-sided directional derivative ---------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("e", [1, 2])
def test_directional_derivative_matches_one_sided_differences(activation, e):
    rng = np.random.default_rng(1)
    for trial in range(6):
        l, d, N = 3, 2, 7
        w = rng.normal(size=(l, d + 1))
        X = rng.normal(size=(N, d))
        # put samples exactly on hyperplanes: x_n with w_k·(x, 1) = 0
        for n, k in ((0, 0), (1, 0), (2, 1)):
            X[n, 1] = -(w[k, 0] * X[n, 0] + w[k, 2]) / w[k, 1]
        a = rng.normal(size=(l, e))
        net = net_from(w, a, rng.normal(size=e), activation=activation, slope=0.1)
        y = rng.normal(size=(N, e))
        pre = np.c_[X, np.ones(N)] @ w.T
        kink = np.abs(pre) < 1e-12
        assert kink.sum() >= 3
        L0 = loss_of(net, X, y)
        for _ in range(10):
            delta = rng.normal(size=net.arch.n_params)
            got = directional_derivative(net, X, y, delta, kink_tol=1e-12)
            t = 1e-7
            fd = (loss_of(Network(net.arch, net.params + t * delta), X, y) - L0) / t
            assert got == pytest.approx(fd, rel=1e-4, abs=1e-6)
            # positively homogeneous, and not linear at the kinks
            assert directional_derivative(net, X, y, 3 * delta, kink_tol=1e-12) == \
                pytest.approx(3 * got, rel=1e-12, abs=1e-14)


def test_directional_derivative_is_not_linear_at_a_kink():
    net = net_from([[1.0, 0.0]], [1.0])
    X, y = np.array([[0.0]]), np.array([[1.0]])
    up = np.array([0.0, 1.0, 0.0])
    assert directional_derivative(net, X, y, up) == -2.0
    assert directional_derivative(net, X, y, -up) == 0.0          # not -(-2)
    assert kink_samples(net, X).samples(0) == [0]


# --- the LP against brute force ---------------------------------------------------------------
def brute_min(g, Xk, c, alpha, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    U = rng.uniform(-1, 1, size=(n, g.size))
    # points on the faces of the box too (the minimum of a homogeneous function is there)
    idx = rng.integers(0, g.size, size=n)
    U[np.arange(n), idx] = np.sign(U[np.arange(n), idx])
    Z = U @ Xk.T
    vals = U @ g + (np.where(Z > 0, Z, alpha * Z) * c).sum(axis=1)
    return vals.min()


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_tangential_lp_matches_brute_force(alpha):
    rng = np.random.default_rng(7)
    agree = 0
    for trial in range(40):
        D = int(rng.integers(2, 4))
        m = int(rng.integers(1, 4))
        Xk = rng.normal(size=(m, D))
        c = rng.normal(size=m)
        g = rng.normal(size=D) * rng.choice([0.0, 0.3, 1.0])
        value, u, _ = tangential_minimum(g, Xk, c, alpha)
        Z = Xk @ u
        at_u = u @ g + np.sum(np.where(Z > 0, Z, alpha * Z) * c)
        assert at_u == pytest.approx(value, abs=1e-9)           # the minimizer is genuine
        assert np.max(np.abs(u)) <= 1 + 1e-9
        b = brute_min(g, Xk, c, alpha, seed=trial)
        assert value <= b + 1e-9                                 # the LP is a true minimum
        assert value == pytest.approx(min(b, 0.0), abs=0.05 * (1 + abs(b)))
        agree += (value < -1e-9) == (b < -1e-9)
    assert agree == 40


# --- hand-built stationary points -------------------------------------------------------------
# one neuron f = a relu(w·(x, 1)), sample x = 0 on its hyperplane with residual > 0 there
X3, Y3 = np.array([[0.0], [1.0], [2.0]]), np.array([[-1.0], [1.0], [2.0]])
NARROW = net_from([[1.0, 0.0]], [1.0])


def test_tangential_condition_holds_and_fails_at_a_kink():
    st = stationarity(NARROW, X3, Y3)
    assert st.is_stationary and st.conditions[0]["kink_samples"] == [0]
    flipped = net_from([[1.0, 0.0]], [-1.0])             # same kink, c_n < 0: fails
    st2 = stationarity(flipped, X3, Y3)
    assert not st2.is_stationary
    assert {f["condition"] for f in st2.failures} >= {"tangential"}
    assert st2.descent_slope < 0
    t = 1e-6
    moved = Network(flipped.arch, flipped.params + t * st2.descent_direction)
    assert loss_of(moved, X3, Y3) < loss_of(flipped, X3, Y3)


def test_scalar_local_minimum_and_saddle():
    v = classify(NARROW, X3, Y3, n_perturbations=100)
    assert v.verdict == "local minimum" and "Theorem 4.2" in v.reason
    # the three requested radii plus 0.5 and 0.99 of the certified radius (#13 finding 7)
    assert v.check_agrees and sum(v.perturbations["tried"]) == 500
    assert v.radius["radius"] == pytest.approx(np.sqrt(0.5))   # sample x = 1 off w = (1, 0)
    wide = add_zero_neurons(NARROW)                       # zero neuron at the origin: escape
    v2 = classify(wide, X3, Y3)
    assert v2.verdict == "saddle" and v2.escape.escape == [1]
    assert v2.curve["decreasing"] and v2.curve["loss"][-1] < v2.curve["loss"][0]


def test_vector_output_saddle_and_undetermined():
    X = np.array([[1.0, 0.1], [0.1, 1.0]])
    Y = np.array([[3.0, 1.0], [1.0, 2.0]])
    U, S, Vt = np.linalg.svd(Y)
    u1 = U[:, 0] * np.sign(U[0, 0])
    w = np.linalg.solve(X, u1)                             # best rank-1 fit, all samples active
    a = S[0] * Vt[0] * np.sign(U[0, 0])
    net = net_from(w[None, :], a[None, :], hidden_bias=False)
    assert np.all(X @ w > 0)
    assert stationarity(net, X, Y).is_stationary
    v = classify(net, X, Y)
    assert v.verdict == "undetermined" and v.escape.escape == [0]
    assert not v.escape.zero_output_escape
    assert v.check_agrees is not False                      # a global minimum: no decrease found
    v2 = classify(add_zero_neurons(net), X, Y)              # zero-output escape neuron: saddle
    assert v2.verdict == "saddle" and 1 in v2.escape.zero_output_escape
    assert v2.curve["decreasing"]


def test_escape_first_order_map_closed_form_matches_evaluation():
    rng = np.random.default_rng(3)
    for _ in range(10):
        X = rng.normal(size=(6, 2))
        y = rng.normal(size=(6, 1))
        net = net_from(np.zeros((1, 3)), np.zeros((1, 1)))    # every sample on the kink
        rep = escape_neurons(net, X, y)
        point = shallow_point(net, X, y)
        U = rng.normal(size=(2000, 3))
        Z = U @ point.Xa.T
        F = np.maximum(Z, 0) @ point.residual()
        assert (rep.escape == [0]) == bool(np.max(np.abs(F)) > 1e-9)


# --- embedding --------------------------------------------------------------------------------
def test_splits_keep_function_and_break_minimality_with_negative_lambda():
    fam = embedding_family(NARROW, X3, Y3, zero_neurons=[np.zeros(2), np.array([-1.0, -1.0])])
    by = {r["name"]: r for r in fam.rows}
    assert by["narrow"]["verdict"] == "local minimum"
    assert all(r["function_change"] < 1e-12 for r in fam.rows)
    assert by["split 0 λ=(0.5, 0.5)"]["verdict"] == "local minimum"
    assert by["split 0 λ=(2.0, -1.0)"]["verdict"] == "not stationary"     # negative λ breaks it
    assert by["split 0 λ=(1.0, 0.0)"]["verdict"] == "saddle"
    assert by["zero neuron w=[-1.0, -1.0]"]["verdict"] == "local minimum"  # dead zero neuron
    g = fam.graph
    assert g.number_of_nodes() == 6 and g.edges["narrow", "split 0 λ=(2.0, -1.0)"]["effect"] \
        == "local minimum -> not stationary"
    # the negative split really descends
    wide = split_neuron(NARROW, 0, [2.0, -1.0])
    v = classify(wide, X3, Y3)
    assert v.curve["decreasing"]
    with pytest.raises(ValidationError, match="lambdas"):
        split_neuron(NARROW, 0, [0.5, 0.6])


# --- Cheridito, Jentzen, Rossmannek: affine 1-D targets ---------------------------------------
XA = np.linspace(-1, 1, 9)[:, None]
YA = 0.7 * XA + 0.2


def test_cjr_dead_relu_neurons_give_a_non_global_local_minimum():
    # every neuron dead on the data, output bias = mean(y): stationary, loss > 0 (not global)
    net = net_from([[1.0, -2.0], [-1.0, -1.5]], [0.5, -0.3], b=[0.2])
    v = classify(net, XA, YA)
    assert v.verdict == "local minimum" and v.loss > 1e-3
    assert v.check_agrees


def test_cjr_no_non_global_local_minimum_with_leaky_relu():
    # the same configuration with leaky ReLU: the neurons are not dead any more
    for slope in (0.05, 0.3):
        net = net_from([[1.0, -2.0], [-1.0, -1.5]], [0.0, 0.0], b=[0.2], activation="leaky_relu",
                       slope=slope)
        v = classify(net, XA, YA)
        assert v.verdict in ("saddle", "not stationary") and v.curve["decreasing"]


def test_cjr_trained_local_minima():
    """Snap and classify trained small networks: certified non-global minima need dead ReLUs."""
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params

    found = {"relu": 0, "leaky_relu": 0}
    for act in ("relu", "leaky_relu"):
        arch = Architecture(1, (3,), 1, activation=act, negative_slope=0.2)
        th = init_params(arch, "kaiming_normal", seed=5, n_networks=12)
        res = train(th, XA, YA, arch=arch, lr=0.05, steps=6000, progress=False)
        for p in res.params:
            s, v = snap_and_classify(Network(arch, p), XA, YA, check=False)
            if v.verdict == "local minimum" and v.loss > 1e-6:
                found[act] += 1
                assert act == "relu" and s.dead_neurons, (act, v.loss)
    assert found["leaky_relu"] == 0 and found["relu"] >= 1


# --- snapping ---------------------------------------------------------------------------------
def test_snap_recovers_a_perturbed_stationary_point():
    rng = np.random.default_rng(0)
    near = Network(NARROW.arch, NARROW.params + 1e-5 * rng.normal(size=NARROW.arch.n_params))
    s, v = snap_and_classify(near, X3, Y3)
    assert s.pattern_kept and s.kink_samples == {0: [0]}
    assert s.loss_after == pytest.approx(loss_of(NARROW, X3, Y3), abs=1e-12)
    assert s.moved < 1e-4 and v.verdict == "local minimum"
    # an un-grown neuron becomes a zero neuron (the origin)
    tiny = add_zero_neurons(near, 1, [[1e-9, 2e-9]])
    s2 = snap(tiny, X3, Y3)
    assert s2.zero_neurons == [1]


# --- plateaus ---------------------------------------------------------------------------------
def test_detect_plateaus_on_a_staircase():
    t = np.arange(0, 10001, 50)
    L = 1.0 - 0.4 / (1 + np.exp(-(t - 3000) / 80)) - 0.3 / (1 + np.exp(-(t - 7000) / 80))
    plats = detect_plateaus(L, t)
    assert len(plats) == 3
    assert plats[0].start_step == 0 and plats[-1].end_step == 10000
    assert [round(p.loss, 2) for p in plats] == [1.0, 0.6, 0.3]
    assert detect_plateaus(np.exp(-t / 1000), t) == []        # steady decay has no plateau


# --- symbolic ---------------------------------------------------------------------------------
def test_symbolic_directional_derivative_matches_numeric():
    import sympy as sp

    c = symbolic_conditions(X3, Y3, 1)
    out, der, esc = c.at(NARROW)
    assert all(o == 0 for o in out)                          # output condition holds exactly
    rng = np.random.default_rng(2)
    for _ in range(5):
        u = rng.normal(size=2)
        val = float(der[0].subs({c.u[0]: sp.Float(u[0]), c.u[1]: sp.Float(u[1])}))
        direction = np.r_[u, 0.0]
        assert val == pytest.approx(directional_derivative(NARROW, X3, Y3, direction), abs=1e-12)


# --- validation and the command line ----------------------------------------------------------
def test_refuses_other_activations_and_depths():
    tanh = Network.initialize(Architecture(1, (2,), 1, activation="tanh"), seed=0)
    with pytest.raises(NotSupportedError, match="ReLU-like"):
        classify(tanh, X3, Y3)
    deep = Network.initialize(Architecture(1, (2, 2), 1), seed=0)
    with pytest.raises(NotSupportedError, match="one hidden layer"):
        stationarity(deep, X3, Y3)
    with pytest.raises(ValidationError, match="loss"):
        classify(NARROW, X3, Y3, loss="l1")


def test_cli_critical(tmp_path, capsys):
    from topoanalysis.cli import main
    from topoanalysis.io import save_network

    path = save_network(NARROW, tmp_path / "narrow.npz")
    np.savez(tmp_path / "data.npz", X=X3, y=Y3)
    out = tmp_path / "r.json"
    assert main(["critical", str(path), "--data", str(tmp_path / "data.npz"),
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "verdict: local minimum" in text and "Theorem 4.2" in text
    rep = json.loads(out.read_text())
    assert rep["verdict"]["verdict"] == "local minimum" and rep["snap"]["pattern_kept"]
    assert main(["critical", str(tmp_path / "missing.npz"), "--data", "wu5"]) == 2


def test_snap_vector_output_alternating_least_squares():
    from topoanalysis.dynamics import train

    X = np.array([[1.0, 0.1], [0.1, 1.0], [0.5, 0.6]])
    Y = np.array([[3.0, 1.0], [1.0, 2.0], [1.0, 1.0]])
    rng = np.random.default_rng(0)
    net = net_from(rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), hidden_bias=False)
    res = train(net, X, Y, lr=0.05, steps=20000, progress=False)
    s, v = snap_and_classify(Network(net.arch, res.params[0]), X, Y)
    assert s.pattern_kept and s.gradient_norm < 1e-10 and s.moved < 1e-6
    assert s.dead_neurons == [0]
    assert v.verdict == "undetermined" and v.escape.escape == [1]
    assert not v.perturbations["found_decrease"]
