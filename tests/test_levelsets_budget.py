"""DSS bead budget: beads train to their target by default (adaptive budget with a stated
maximum, as the authors' code has no cap), and a failure says whether the training budget or
the depth limit ended it; beads counted as the paper does; strings evaluated on other data."""

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.levelsets import dynamic_string_sampling, load_string

ARCH = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
X = np.random.default_rng(0).standard_normal((40, 2))
Y = X @ [[1.0], [-2.0]]
A = ARCH.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
B = ARCH.pack([np.array([[2.0, -4.0]]), np.array([[0.5]])])     # a rescaling of A
KW = dict(arch=ARCH, threshold=1e-3, lr=1e-5, progress=False)


def test_default_trains_a_bead_past_the_old_step_cap_to_its_target():
    res = dynamic_string_sampling(A, B, X, Y, max_depth=1, **KW)
    s = res[0]
    assert s.bead_stop == ("endpoint", "target", "endpoint")
    assert s.bead_steps[1] > 5000                  # the old default cap was 5000 steps
    assert s.bead_loss[1] <= 0.95e-3
    assert s.failure == "depth"                    # every bead at target: the depth ended it
    assert s.settings["steps"] is None and s.settings["budget"]["max_steps"] == 200_000


def test_a_fixed_cap_is_still_available_and_its_failure_is_budget_limited():
    s = dynamic_string_sampling(A, B, X, Y, max_depth=1, steps=5000, **KW)[0]
    assert s.bead_stop[1] == "max_steps" and s.bead_steps[1] == 5000
    assert s.failure == "budget" and not s.connected
    s = dynamic_string_sampling(A, B, X, Y, max_depth=1, first_steps=100, max_steps=300,
                                **KW)[0]
    assert s.bead_stop[1] == "max_steps" and s.bead_steps[1] == 300 and s.failure == "budget"


@pytest.mark.filterwarnings("ignore:.*endpoints have loss above")
def test_a_bead_that_cannot_improve_stops_as_stalled():
    # target below the global minimum of a misspecified model: the bead cannot reach it
    y = Y + 0.3 * np.sin(5 * X[:, :1])
    s = dynamic_string_sampling(A, A * 1.0001, X, y, arch=ARCH, threshold=1e-4, lr=1e-2,
                                max_depth=1, first_steps=50, progress=False)[0]
    if s.connected:
        pytest.skip("segment accepted without a bead")
    assert "stalled" in s.bead_stop and s.failure == "budget"
    assert max(s.bead_steps) < 200_000


def test_connected_strings_count_beads_with_endpoints_and_round_trip(tmp_path):
    res = dynamic_string_sampling(A, B, X, Y, **KW)
    s = res[0]
    assert s.connected and s.failure is None
    assert s.n_beads_total == s.n_beads + 2 == s.beads.shape[0]
    assert s.to_dict()["n_beads_total"] == s.n_beads_total
    t = load_string(s.save(tmp_path / "s.npz"))
    assert t.bead_stop == s.bead_stop and np.array_equal(t.bead_steps, s.bead_steps)
    assert t.failure is None and t.n_beads_total == s.n_beads_total
    # evaluate on the training data reproduces the certificate; on other data it differs
    bl, em = s.evaluate(X, Y, loss="mse")
    assert np.allclose(bl, s.bead_loss, rtol=1e-12) and np.allclose(em, s.edge_max_loss,
                                                                     rtol=1e-12)
    X2 = np.random.default_rng(1).standard_normal((30, 2))
    bl2, _ = s.evaluate(X2, X2 @ [[1.0], [-2.1]], loss="mse")
    assert not np.allclose(bl2, s.bead_loss)
    assert "budget-limited" in res.summary()


def test_budget_arguments_are_validated():
    with pytest.raises(ValidationError, match="max_steps"):
        dynamic_string_sampling(A, B, X, Y, max_steps=0, **KW)
    with pytest.raises(ValidationError, match="min_progress"):
        dynamic_string_sampling(A, B, X, Y, min_progress=2.0, **KW)


def test_first_bead_inserts_the_authors_initial_bead_even_on_an_accepted_segment():
    a = ARCH.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
    b = ARCH.pack([np.array([[1.001, -2.002]]), np.array([[1 / 1.001]])])
    plain = dynamic_string_sampling(a, b, X, Y, arch=ARCH, threshold=1e-3, progress=False)[0]
    assert plain.connected and plain.n_beads_total == 2
    s = dynamic_string_sampling(a, b, X, Y, arch=ARCH, threshold=1e-3, first_bead=True,
                                progress=False)[0]
    assert s.connected and s.n_beads_total == 3 and s.depth == 1
    assert s.settings["first_bead"] is True
    with pytest.raises(ValidationError, match="first_bead"):
        dynamic_string_sampling(a, b, X, Y, arch=ARCH, threshold=1e-3, first_bead="yes")
