"""Saddle-to-saddle runs of Wu, Simsek & Ged in the authors' settings (issue 15, paper 2).

Plateau detection on recorded loss curves of the three tasks (fixtures from the 100-seed runs
of ``scripts/saddle_to_saddle.py``), and the verdicts of the 3-D task's plateaus on a reduced
run.
"""

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.critical import saddle_to_saddle
from topoanalysis.datasets import wu_three_d_regression
from topoanalysis.dynamics import train
from topoanalysis.init import init_params


@pytest.fixture(scope="module")
def run_3d():
    """The authors' 3-D task (width 50, sigma 50^-6.5, lr 1e-3, float32), first 240k steps."""
    d = wu_three_d_regression()
    arch = Architecture(3, (50,), 1, hidden_bias=False, output_bias=False)
    th = init_params(arch, "normal", seed=0, std=50 ** -6.5)
    res = train(th, d.X, d.y, arch=arch, lr=1e-3, steps=240_000, record_every=1000,
                record_params=True, progress=False, dtype="float32")
    s = saddle_to_saddle(res.trajectory[0].astype(np.float64), res.record_steps, d.X, d.y,
                         arch=arch, loss_curve=res.loss[0], check=False)
    return d, arch, res, s


def test_3d_plateaus_are_saddles_once_escaping_neurons_are_at_the_origin(run_3d):
    """Plateaus 1 and 2 of the 3-D task were "not stationary": neurons still leaving the saddle
    (growing 10x later, ~1e-3 of the grown amplitude) stayed live after the snap, and their
    growth direction is a descent direction. At the origin (the vanishing-initialization
    limit) the snapped points are saddles with escape neurons."""
    d, arch, res, s = run_3d
    traj = res.trajectory[0].astype(np.float64)
    assert [round(p["loss"], 3) for p in s.plateaus] == [0.207, 0.119, 0.046, 0.035]
    assert [p["verdict"] for p in s.plateaus[:3]] == ["saddle"] * 3
    assert all(p["escape_neurons"] for p in s.plateaus[:3])
    assert all(abs(p["snapped_loss"] / p["loss"] - 1) < 5e-3 for p in s.plateaus[:3])
    # the former snap (zero_tol alone) leaves plateaus 1 and 2 off the stationary point
    old = saddle_to_saddle(traj, res.record_steps, d.X, d.y, arch=arch, loss_curve=res.loss[0],
                           check=False, zero_escaping=False, zero_tol_ladder=(1,))
    assert [p["verdict"] for p in old.plateaus[1:3]] == ["not stationary"] * 2


def test_3d_last_plateau_is_a_slow_slide_not_a_stationary_point(run_3d):
    """The 0.035 plateau is not stationary: GD slides along the kinks of sample 4 with the
    one-sided slope the LP certifies; the loss falls at about ``lr * slope**2`` per step (the
    flow's rate along the steepest one-sided direction), not at the rate ``lr * ||grad||**2``
    of the zig-zagging full gradient."""
    d, arch, res, s = run_3d
    p = s.plateaus[3]
    assert p["verdict"] == "not stationary" and p["descent_slope"] < 0
    steps, L = res.record_steps, res.loss[0]
    i = int(np.flatnonzero(steps == p["representative_step"])[0])
    j = min(i + 10, steps.size - 1)
    rate = (L[i] - L[j]) / (steps[j] - steps[i])
    predicted = 1e-3 * p["descent_slope"] ** 2
    assert predicted / 4 < rate < predicted * 4
