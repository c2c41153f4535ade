"""Saddle-to-saddle runs of Wu, Simsek & Ged in the authors' settings (issue 15, paper 2).

Plateau detection on recorded loss curves of the three tasks (fixtures from the 100-seed runs
of ``scripts/saddle_to_saddle.py``), and the verdicts of the 3-D task's plateaus on a reduced
run.
"""

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.critical import detect_plateaus, saddle_to_saddle
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


# --- plateau detection on recorded loss curves ----------------------------------------------
#: the plateau levels of each task (the authors' figures; values from our 100-seed runs)
LEVELS = {"1d": [0.03812, 0.030185, 0.027886], "3d": [0.20714, 0.11945, 0.04603, 0.03519],
          "2d2d": [0.3825, 0.1585, 0.0935, 0.085]}


def _visits(loss, steps, level, band=0.01, need=0.05):
    """The curve stays within ``band`` (log) of ``level`` for ``need`` in log-time: an
    oracle that knows the level, independent of the detector's slopes."""
    tau = np.log(steps - steps[0] + (steps[1] - steps[0]))
    inside = np.abs(np.log(loss / level)) < band
    best, j = 0.0, 0
    while j < inside.size:
        if inside[j]:
            k = j
            while k + 1 < inside.size and inside[k + 1]:
                k += 1
            best = max(best, tau[k] - tau[j])
            j = k + 1
        else:
            j += 1
    return best >= need


@pytest.fixture(scope="module")
def curves():
    import os
    path = os.path.join(os.path.dirname(__file__), "data", "wu_plateau_curves.npz")
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("task", sorted(LEVELS))
def test_every_plateau_the_paper_shows_is_detected(curves, task):
    """Recorded loss curves of the three tasks (seeds picked from the 100-seed float32 runs,
    and float64 for 2-D -> 2-D, including every seed the former detector got wrong): every
    level the curve holds is detected, at its loss, and no detected plateau spans a fall."""
    steps = curves[f"{task}_steps"]
    for key in [k for k in curves if k.startswith(task + "_loss")]:
        for seed, loss in zip(curves[key.replace("loss", "seeds")], curves[key]):
            loss = loss.astype(np.float64)
            plats = detect_plateaus(loss, steps)
            held = [lev for lev in LEVELS[task] if _visits(loss, steps, lev)]
            assert len(held) >= len(LEVELS[task]) - 1, (key, seed)   # the fixture visits them
            for lev in held:
                assert any(abs(np.log(p.loss / lev)) < 0.02 for p in plats), (key, seed, lev)
            for p in plats:
                seg = loss[p.start:p.end + 1]
                assert seg.max() / seg.min() < 1.05, (key, seed, p)


def test_former_detector_missed_the_3d_shoulder(curves):
    """Without the band rule (``band=0``, the former detector) the 0.046 shoulder of the 3-D
    task goes undetected in the seeds of the fixture that hold it with a slope of 0.16-0.27."""
    steps = curves["3d_steps"]
    missed = [seed for seed, loss in zip(curves["3d_seeds"], curves["3d_loss"].astype(float))
              if _visits(loss, steps, 0.04603)
              and not any(abs(np.log(p.loss / 0.04603)) < 0.02
                          for p in detect_plateaus(loss, steps, band=0))]
    assert len(missed) >= 5


def test_2d2d_last_saddle_is_left_later_in_float64(curves):
    """The precision confound of the 2-D -> 2-D task: the first two plateaus end at the same
    steps in float32 and float64, the 0.0935 plateau (left by splitting an aligned group,
    seeded by rounding) ends ~1.6x later in float64 (100 seeds: median 125k vs 203.5k)."""
    steps = curves["2d2d_steps"]

    def ends(key):
        out = []
        for loss in curves[key].astype(float):
            ps = detect_plateaus(loss, steps)
            out.append([p.end_step for p in ps[:3]])
        return np.array(out)

    e32, e64 = ends("2d2d_loss"), ends("2d2d_loss_float64")
    assert np.all(np.abs(e32[:, :2] - e64[:, :2]) <= 1000)
    assert np.all(e64[:, 2] > 1.4 * e32[:, 2])


@pytest.fixture(scope="module")
def seed2_final():
    """Seed 2 of the float32 2-D -> 2-D runs: 5 records of its final plateau (160k-300k steps).

    Neuron 9 grew to amplitude 6.1e-4 (the largest is 0.30) and stays there from 200k steps
    on, with sample 4 within 2.5e-5 (relative) of its hyperplane."""
    import os
    from topoanalysis.datasets import wu_two_d_two_d_regression
    path = os.path.join(os.path.dirname(__file__), "data", "wu_2d2d_seed2_final.npz")
    with np.load(path) as z:
        traj, steps, loss = z["trajectory"].astype(np.float64), z["steps"], z["loss"]
    d = wu_two_d_two_d_regression()
    arch = Architecture(2, (50,), 2, hidden_bias=False, output_bias=False)
    return d, arch, traj, steps, loss


def test_2d2d_final_verdict_is_about_the_network_as_trained(seed2_final):
    """A small neuron that has settled (amplitude constant over the final plateau) stays live:
    the final point is a local minimum (Theorem 4.2, stationarity proved exactly), reached by
    moving 2e-3. ``zero_tol`` alone put that neuron at the origin, where it is an escape
    neuron: the verdict "saddle" was about another point, 0.035 away (10 of 100 seeds)."""
    d, arch, traj, steps, loss = seed2_final
    s = saddle_to_saddle(traj, steps, d.X, d.y, arch=arch, loss_curve=loss, check=False)
    c = s.checks
    assert c["final_in_plateau"]
    assert c["final_verdict"] == "local minimum", c["final_reason"]
    assert c["final_kept_live"] == [9] and c["final_zero_neurons"] == []
    assert c["final_moved"] < 5e-3
    assert s.plateaus[-1]["verdict"] == "local minimum"
    old = saddle_to_saddle(traj, steps, d.X, d.y, arch=arch, loss_curve=loss, check=False,
                           final_settled=False)
    assert old.checks["final_verdict"] == "saddle"
    assert old.checks["final_zero_neurons"] == [9] and old.checks["final_moved"] > 0.03


def test_2d2d_settled_final_point_passes_the_perturbation_test(seed2_final):
    """The authors' check of their final point, on ours: random perturbations of size 1e-6 and
    1e-4 of the snapped point never lower the loss (the trained float32 point itself is only
    near-stationary: at 1e-6 its gradient shows, at 1e-4 no draw lowers the loss either)."""
    from topoanalysis import Network
    from topoanalysis.critical._point import shallow_point
    from topoanalysis.critical.snap import _snap

    d, arch, traj, steps, loss = seed2_final
    trained = shallow_point(Network(arch, traj[-1]), d.X, d.y, "mse")
    snapped = _snap(trained, 1e-3, 1e-3, keep=[9])
    assert snapped.zero_neurons == [] and snapped.pattern_kept
    rng = np.random.default_rng(0)
    for net in (snapped.network, trained.net):
        L0 = shallow_point(net, d.X, d.y, "mse").loss_value()
        for r in ((1e-6, 1e-4) if net is snapped.network else (1e-4,)):
            U = rng.standard_normal((300, net.params.size))
            U *= r / np.linalg.norm(U, axis=1, keepdims=True)
            L = [shallow_point(Network(arch, net.params + u), d.X, d.y, "mse").loss_value()
                 for u in U]
            assert min(L) >= L0, (r, min(L) - L0)


def test_snap_keeps_each_neurons_trained_balance():
    """Seed 5's final point: two settled neurons (amplitudes 1.6e-8, 6.4e-8, ``||w|| ≈ ||a||``)
    kept live. The fixed-pattern Newton step drifted along their rescaling symmetry (``||a_k||``
    0.54, moved 0.61); rescaled back to each neuron's trained ratio ``||w_k|| / ||a_k||`` (same
    function, pattern and verdict), the snap moves 0.018."""
    import os
    from topoanalysis import Network
    from topoanalysis.critical._point import shallow_point
    from topoanalysis.critical.snap import _snap
    from topoanalysis.critical.verdict import _classify
    from topoanalysis.datasets import wu_two_d_two_d_regression

    path = os.path.join(os.path.dirname(__file__), "data", "wu_2d2d_seed2_final.npz")
    with np.load(path) as z:
        theta = z["seed5_final"].astype(np.float64)
    d = wu_two_d_two_d_regression()
    arch = Architecture(2, (50,), 2, hidden_bias=False, output_bias=False)
    trained = shallow_point(Network(arch, theta), d.X, d.y, "mse")
    s = _snap(trained, 1e-3, 1e-3, keep=[11, 40])
    assert s.zero_neurons == [] and s.pattern_kept and s.moved < 0.05
    new = shallow_point(s.network, d.X, d.y, "mse")
    for k in (11, 40):
        r0 = np.linalg.norm(trained.w[k]) / np.linalg.norm(trained.a[k])
        assert np.linalg.norm(new.w[k]) / np.linalg.norm(new.a[k]) == pytest.approx(r0, rel=1e-9)
    v = _classify(new, 1e-9, 1e-8, 0.0, False, (1e-6,), 10, 0)
    assert v.verdict == "local minimum"
