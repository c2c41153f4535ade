"""The engine contract (issue #20): loss, activation, status and optimizer codes are defined once
(ext/codes.h) and exported by the engine; kernel statuses become exceptions and warnings in one
place (``_engine.raise_for_status``); ``train_chunk`` takes grouped options."""

import os
import re
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.activations import ACTIVATIONS, activation_code
from topoanalysis.dynamics import _engine, batch_loss_and_gradient, interpolate, train
from topoanalysis.exceptions import DivergenceWarning
from topoanalysis.losses import LOSSES, loss_code

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
eng = _engine.kernels()


def test_code_tables_cover_the_names_of_the_package():
    assert set(eng.LOSS_CODES) == set(LOSSES)
    assert set(eng.ACTIVATION_CODES) == set(ACTIVATIONS)
    assert len(set(eng.LOSS_CODES.values())) == len(LOSSES)
    assert len(set(eng.ACTIVATION_CODES.values())) == len(ACTIVATIONS)
    for name in LOSSES:
        assert loss_code(name) == eng.LOSS_CODES[name]
    assert loss_code("Cross-Entropy") == eng.LOSS_CODES["cross_entropy"]
    for name in ACTIVATIONS:
        assert activation_code(name) == eng.ACTIVATION_CODES[name]
    assert set(eng.OPTIMIZER_CODES) == {"gd", "sgd", "momentum", "adam"}
    statuses = [eng.STATUS_RUNNING, eng.STATUS_COMPLETED, eng.STATUS_REACHED_TARGET,
                eng.STATUS_DIVERGED, eng.STATUS_OUT_OF_MEMORY]
    assert len(set(statuses)) == 5 and set(eng.STATUS_NAMES) == set(statuses)


def test_codes_are_defined_in_the_header_and_not_as_literals_in_the_kernels():
    header = open(os.path.join(ROOT, "ext", "codes.h")).read()
    for name in ("TA_LOSS_CE", "TA_ACT_TANH", "TA_OUT_OF_MEMORY", "TA_DIVERGED", "TA_OPT_ADAM"):
        assert name in header
    # no comparison of a loss / activation code or a status with a bare number
    literal = re.compile(r"\b(loss|act|code)\s*[!=]=\s*-?\d|bad_out\[[^\]]*\]\s*=\s*\d"
                         r"|case\s+-?\d+\s*:")
    for fname in ("engine.pyx", "blockops_impl.h", "blockops_math.h", "blockops_bce.h"):
        src = open(os.path.join(ROOT, "ext", fname)).read()
        src = re.sub(r"TA_WGT\(.*", "", src)     # register-tile switch, not a code
        assert not literal.findall(src), (fname, literal.findall(src))


def test_raise_for_status_raises_on_out_of_memory_naming_what():
    status = np.array([eng.STATUS_COMPLETED, eng.STATUS_OUT_OF_MEMORY], dtype=np.int8)
    with pytest.raises(MemoryError, match="1 of 2 segments"):
        _engine.raise_for_status(status, "segments")


def test_raise_for_status_warns_on_divergence_naming_what():
    status = np.array([eng.STATUS_DIVERGED, eng.STATUS_COMPLETED, eng.STATUS_DIVERGED])
    with pytest.warns(DivergenceWarning, match="2 of 3 beads diverged \\(overflow\\)"):
        mask = _engine.raise_for_status(status, "beads", "overflow")
    assert mask.tolist() == [True, False, True]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = _engine.raise_for_status(status, "beads", on_diverged="ignore")
        assert mask.sum() == 2
        _engine.raise_for_status(np.array([eng.STATUS_COMPLETED]), "beads")
    with pytest.raises(ValueError, match="unknown status"):
        _engine.raise_for_status(np.array([17]), "beads")


def _nan_problem():
    arch = Architecture(2, (3,), 1)
    theta = np.stack([Network.initialize(arch, seed=0).params] * 2)
    theta[1] = 1e200   # finite parameters whose outputs overflow
    X = np.random.default_rng(0).standard_normal((20, 2))
    return arch, theta, X, X[:, :1]


def test_evaluation_kernels_report_divergence_with_the_status_code():
    arch, theta, X, y = _nan_problem()
    data = _engine.prepare_data(arch, X, y, "mse")
    B, P = theta.shape
    bad = np.zeros(B, dtype=np.int8)
    eng.evaluate_networks(theta, data.Xb, data.Yb, data.X, data.Y,
                          *_engine.kernel_arch_args(arch, "mse"), True, True, False, False,
                          np.zeros(B), np.zeros((B, P)), np.zeros(B), np.zeros((1, 1, 1)), bad, 1)
    assert bad.tolist() == [eng.STATUS_RUNNING, eng.STATUS_DIVERGED]
    with pytest.warns(DivergenceWarning, match="1 of 2 networks"):
        batch_loss_and_gradient(theta, X, y, arch=arch)
    with pytest.warns(DivergenceWarning, match="evaluation points"):
        interpolate(theta[0], theta[1], X, y, arch=arch, n_points=3)


def test_train_chunk_takes_grouped_options():
    arch = Architecture(2, (3,), 1)
    X = np.random.default_rng(1).standard_normal((40, 2))
    y = X[:, :1] * X[:, 1:]
    theta0 = Network.initialize(arch, seed=2).params
    ref = train(theta0, X, y, arch=arch, lr=0.1, steps=10, record_every=5, progress=False)
    data = _engine.prepare_data(arch, X, y, "mse")
    layout, act, slope, loss_c = _engine.kernel_arch_args(arch, "mse")
    with pytest.raises(TypeError):  # keyword-only: no positions to shift
        eng.TrainOptions(layout, act, slope, loss_c)
    opts = eng.TrainOptions(layout, act=act, slope=slope, loss=loss_c,
                            optimizer=eng.OPTIMIZER_CODES["gd"], lr=0.1, total_steps=10,
                            record_every=5)
    assert opts.has_target is False and opts.batch_size == 0
    theta = theta0[None].copy()
    state = eng.TrainState(theta=theta, state1=np.zeros((1, 1)), state2=np.zeros((1, 1)),
                           rng=np.zeros(1, np.uint64), status=np.zeros(1, np.int8),
                           steps_taken=np.zeros(1, np.int64), final_loss=np.zeros(1),
                           loss_rec=np.full((1, 3), np.nan), param_rec=np.zeros((1, 1, 1)),
                           cons_rec=np.zeros((1, 1, 1)))
    eng.train_chunk(data.Xb, data.Yb, data.X, data.Y, opts, state, 0, 4, 1)
    eng.train_chunk(data.Xb, data.Yb, data.X, data.Y, opts, state, 4, 11, 1)
    assert np.array_equal(theta, ref.params)
    assert np.array_equal(state.loss_rec, ref.loss)
    assert state.status[0] == eng.STATUS_COMPLETED
