"""Every public result type is a frozen dataclass that serializes itself (issue #20).

``FACTORIES`` builds one small instance of every public result dataclass (found by
introspecting the ``__all__`` of every module); each must be frozen, have a non-empty
``summary()`` and a ``to_dict()`` of plain data that survives JSON (NaN/inf written as
``null`` by :func:`topoanalysis.io.write_json`). Types with ``from_dict`` must rebuild an
equal result from the JSON text.
"""

import dataclasses
import importlib
import inspect
import json
import pkgutil

import numpy as np
import pytest

import topoanalysis
from topoanalysis import Architecture, Network
from topoanalysis.io import to_jsonable

X = np.array([[1.0, 0.5], [-0.5, 1.0], [0.3, -1.2], [2.0, 0.1], [-1.0, -0.7], [0.4, 0.9]])
Y = np.array([[0.5], [-0.2], [0.1], [1.0], [0.0], [0.3]])
ARCH = Architecture(2, (3,), 1)
NET = Network.initialize(ARCH, seed=1)
NET2 = Network.initialize(ARCH, seed=2)
X1, Y1 = np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]])
NEAR = Network.from_weights([np.array([[1.1]]), np.array([[0.8]])])
RELU0 = Network.initialize(Architecture(2, (3,), 1, hidden_bias=False, output_bias=False), seed=3)


def _m(name):
    return importlib.import_module(f"topoanalysis.{name}")


def _saddle():
    res = _m("dynamics").train(NET, X, Y, lr=0.05, steps=20, record_every=10,
                               record_params=True, progress=False)
    return _m("critical").saddle_to_saddle(res.trajectory[0], res.record_steps, X, Y,
                                           arch=ARCH, check=False)


FACTORIES = {
    "topoanalysis.analyze.AnalysisReport":
        lambda: _m("analyze").analyze(train=False, out=None, seeds=1, hidden=2, progress=False),
    "topoanalysis.critical.kinks.KinkReport": lambda: _m("critical").kink_samples(NET, X),
    "topoanalysis.critical.stationarity.StationarityReport":
        lambda: _m("critical").stationarity(NET, X, Y),
    "topoanalysis.critical.escape.EscapeReport":
        lambda: _m("critical").escape_neurons(NET, X, Y),
    "topoanalysis.critical.verdict.Verdict":
        lambda: _m("critical").classify(NET, X, Y, check=False),
    "topoanalysis.critical.snap.SnapResult": lambda: _m("critical").snap(NEAR, X1, Y1),
    "topoanalysis.critical.embedding.EmbeddingFamily":
        lambda: _m("critical").embedding_family(NEAR, X1, Y1),
    "topoanalysis.critical.plateaus.Plateau":
        lambda: _m("critical.plateaus").Plateau(0, 3, 0, 30, 1, 0.25),
    "topoanalysis.critical.plateaus.SaddleToSaddle": _saddle,
    "topoanalysis.critical.symbolic.SymbolicConditions":
        lambda: _m("critical").symbolic_conditions([[1], [2]], [[1], [2]], 1),
    "topoanalysis.critical.report.TrainedVerdicts":
        lambda: _m("critical").classify_trained(NEAR.arch, NEAR.params[None], X1, Y1),
    "topoanalysis.degeneracy.canonical.CanonicalForm":
        lambda: _m("degeneracy").canonical_form(NET, n_check=16),
    "topoanalysis.degeneracy.conditions.Membership":
        lambda: _m("degeneracy").restricted_space_membership(NET),
    "topoanalysis.degeneracy.conditions.SymbolicConditions":
        lambda: _m("degeneracy").symbolic_conditions([[1, 2, 1], [1, -1, -3]], [[1], [-2]]),
    "topoanalysis.degeneracy.detect.Degeneracy":
        lambda: _m("degeneracy.detect").Degeneracy("dead", (0,), 0.0, 1e-9, "no output"),
    "topoanalysis.degeneracy.detect.DegeneracyReport":
        lambda: _m("degeneracy").detect_degeneracies(NET),
    "topoanalysis.degeneracy.distance.SobolevDistance":
        lambda: _m("degeneracy").sobolev_distance(RELU0, RELU0, n_samples=50),
    "topoanalysis.degeneracy.distance.UniformDistance":
        lambda: _m("degeneracy").uniform_distance(RELU0, RELU0,
                                                  _m("degeneracy").Ball(np.zeros(2), 1.0)),
    "topoanalysis.degeneracy.report.NetworkStability":
        lambda: _m("degeneracy").network_stability(NET),
    "topoanalysis.degeneracy.report.StabilityOfNetworks":
        lambda: _m("degeneracy").stability_of_networks([NET, NET2]),
    "topoanalysis.degeneracy.stability.ParameterDistance":
        lambda: _m("degeneracy").parameter_distance(RELU0, RELU0),
    "topoanalysis.degeneracy.stability.StabilityMeasurement":
        lambda: _m("degeneracy").inverse_stability(*_m("degeneracy").restricted_pair("random",
                                                                                     0.1),
                                                   n_samples=50),
    "topoanalysis.degeneracy.stability.FamilyMeasurement":
        lambda: _m("degeneracy").measure_family("unbalanced", (1, 2, 4)),
    "topoanalysis.degeneracy.canonical.StepCheck":
        lambda: _m("degeneracy").canonical_form(NET, n_check=16).steps[0],
    "topoanalysis.degeneracy.canonical.SymbolicStep":
        lambda: _m("degeneracy").canonical_form_symbolic([[1, 2, 1], [1, -1, -3]],
                                                         [[1], [-2]])[0],
    "topoanalysis.degeneracy.stability.CounterexamplePair":
        lambda: _m("degeneracy").counterexample("unbalanced", 2.0),
    "topoanalysis.levelsets.slices.LossSurface":
        lambda: _m("levelsets.slices").random_slice(_m("landscape").Landscape(ARCH, X, Y, "mse"),
                                                    NET, dim=2, n=5, seed=0),
    "topoanalysis.levelsets.persistence.PersistenceDiagram":
        lambda: (pytest.importorskip("gudhi") and _m("levelsets.persistence").minima_persistence(
            np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.9], [0.9, 0.9, 0.1]]))),
    "topoanalysis.degeneracy.conditions_unrestricted.Theorem31Conditions":
        lambda: _m("degeneracy").theorem_3_1_conditions(
            *_m("degeneracy").restricted_pair("random", 0.01, dim=2, width=3, seed=1)[::-1]),
    "topoanalysis.degeneracy.optimization.ExampleA1":
        lambda: _m("degeneracy.optimization").example_a1(ks=(1, 10)),
    "topoanalysis.degeneracy.optimization.ZeroOutputCertificate":
        lambda: _m("degeneracy.optimization").example_a1(ks=(1, 10)).certificate,
    "topoanalysis.degeneracy.optimization.LocalMinimumProbe":
        lambda: (lambda ex: _m("degeneracy.optimization").probe_local_minimum(
            ex.gamma_star, ex.X, ex.y, 0.5, samples=20))(
            _m("degeneracy.optimization").example_a1(ks=(1,))),
    "topoanalysis.degeneracy.optimization.RealizationProbe":
        lambda: (lambda ex: _m("degeneracy.optimization").probe_realizations(
            ex.gamma_star, ex.X, ex.y, 1e-3, samples=3))(
            _m("degeneracy.optimization").example_a1(ks=(1,))),
    "topoanalysis.degeneracy.optimization.RestrictedRepresentative":
        lambda: _m("degeneracy.optimization").restricted_representative(NET, X, Y),
    "topoanalysis.degeneracy.theory.AdversarialConstant":
        lambda: _m("degeneracy.theory").adversarial_constant(restarts=1, iterations=2, seed=0),
    "topoanalysis.degeneracy.theory.ConstantEstimate":
        lambda: _m("degeneracy.theory").stability_constant(
            _m("degeneracy.theory").measure_flipped((0.1, 0.01))),
    "topoanalysis.degeneracy.uniform_stability.AngleMeasurement":
        lambda: _m("degeneracy.uniform_stability").measure_wedge((0.5, 0.1)),
    "topoanalysis.symbolic.conservation.ConservationLaws":
        lambda: _m("symbolic").conservation_laws(1, 1, 1, activation="linear"),
    "topoanalysis.dynamics._shared.TrainResult":
        lambda: _m("dynamics").train([NET, NET2], X, Y, lr=0.05, steps=6, record_every=3,
                                     record_params=True, progress=False),
    "topoanalysis.dynamics.flow.FlowResult":
        lambda: _m("dynamics").gradient_flow(NET, X, Y, t_end=0.1, progress=False),
    "topoanalysis.dynamics.interpolate.InterpolationResult":
        lambda: _m("dynamics").interpolate(NET, NET2, X, Y, n_points=5),
    "topoanalysis.dynamics.interpolate.PathLosses":
        lambda: _m("dynamics").path_losses([NET, NET2, NET], X, Y, points_per_edge=3),
    "topoanalysis.dynamics.interpolate.InterpolationBarrier":
        lambda: _m("dynamics").interpolation_barrier(NET, NET2, X, Y, n_points=5),
    "topoanalysis.levelsets.strings.BeadString":
        lambda: _m("levelsets").dynamic_string_sampling(NET, NET2, X, Y, threshold=10.0, steps=3,
                                                        n_points=5, progress=False).strings[0],
    "topoanalysis.levelsets.strings.StringSamplingResult":
        lambda: _m("levelsets").dynamic_string_sampling(NET, NET2, X, Y, threshold=10.0, steps=3,
                                                        n_points=5, progress=False),
    "topoanalysis.levelsets.neb.MinimumEnergyPath":
        lambda: _m("levelsets").minimum_energy_path(
            NET.params, NET2.params, __import__("topoanalysis").Landscape(NET.arch, X, Y, "mse"),
            n_images=3, steps=5),
    "topoanalysis.levelsets.connectivity.BarrierMatrix":
        lambda: _m("levelsets").pairwise_barriers([NET, NET2], X, Y, n_points=5, progress=False),
    "topoanalysis.levelsets.connectivity.AlignedBarriers":
        lambda: _m("levelsets").aligned_barriers(NET, NET2, X, Y, n_points=5),
    "topoanalysis.levelsets.bounds.SegmentBounds":
        lambda: _m("levelsets").segment_loss_bounds(NET, NET2, X, Y, n_points=5),
    "topoanalysis.levelsets.kernel.KernelDerivation":
        lambda: _m("levelsets").relu_kernel_derivation(),
    "topoanalysis.levelsets.kernel.KernelCheck":
        lambda: _m("levelsets").check_relu_kernel(2, 2, n_samples=500),
    "topoanalysis.levelsets.kernel.Proposition23Check":
        lambda: _m("levelsets").check_proposition_2_3(5, 2),
    "topoanalysis.obstruction.probability.NeuronLaw": lambda: _m("obstruction").neuron_law(2, 3),
    "topoanalysis.obstruction.probability.PathologicalProbability":
        lambda: _m("obstruction").pathological_probability([2, 3], 3),
    "topoanalysis.obstruction.probability.ObstructionGrid":
        lambda: _m("obstruction").obstruction_grid([2, 3], [1, 2]),
    "topoanalysis.obstruction.topology.NetworkTopology":
        lambda: _m("obstruction").network_topology(NET),
    "topoanalysis.obstruction.topology.ReachabilityResult":
        lambda: _m("obstruction").reachability(NET, NET2),
    "topoanalysis.symbolic.drift.GradientDescentDrift": lambda: _m("symbolic").gd_drift(1, 1, 1),
    "topoanalysis.symbolic.invariants.ConservedQuadraticForms":
        lambda: _m("symbolic").conserved_quadratic_forms(1, 1, 1),
    "topoanalysis.symbolic.quadrics.QuadricTopology":
        lambda: _m("symbolic").quadric_topology(1, 2, 1),
    "topoanalysis.symbolic.quadrics.InvariantSetTopology":
        lambda: _m("symbolic").invariant_set_topology([1, -1], 2, 1),
    "topoanalysis.symmetry.AlignResult": lambda: _m("symmetry").align(NET, NET2),
    "topoanalysis.symmetry.MergeResult": lambda: _m("symmetry").merge_redundant_neurons(NET),
    "topoanalysis.network.Architecture": lambda: ARCH,
}

# public dataclasses that are inputs, models or values rather than results
NOT_RESULTS = {
    "topoanalysis.datasets.registry.BundledData": "input data (arrays and names)",
    "topoanalysis.datasets.generators.Dataset": "input data (arrays and names)",
    "topoanalysis.datasets.generators.SplitDataset": "input data (arrays and names)",
    "topoanalysis.degeneracy._form.ShallowForm": "the bias-free form, an intermediate value",
    "topoanalysis.degeneracy.distance.Box": "an input domain",
    "topoanalysis.degeneracy.distance.Ball": "an input domain",
    "topoanalysis.symbolic.networks.SymbolicNetwork": "the symbolic model itself",
    "topoanalysis.symbolic.quadrics.PoincareProduct": "an exact polynomial value",
}


def _public_dataclasses():
    found = {}
    for info in pkgutil.walk_packages(topoanalysis.__path__, "topoanalysis."):
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_public_result_type_is_covered():
    found = _public_dataclasses()
    missing = sorted(set(found) - set(FACTORIES) - set(NOT_RESULTS))
    assert not missing, f"result types without a factory here: {missing}"
    assert not sorted(set(FACTORIES) - set(found))


@pytest.mark.parametrize("path", sorted(FACTORIES))
def test_result_is_frozen_and_serializes_itself(path):
    obj = FACTORIES[path]()
    assert f"{type(obj).__module__}.{type(obj).__qualname__}" == path
    assert type(obj).__dataclass_params__.frozen, f"{path} is not frozen"
    field = dataclasses.fields(obj)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, field, getattr(obj, field))
    text = obj.summary()
    assert isinstance(text, str) and text.strip()
    d = obj.to_dict()
    assert isinstance(d, dict) and d
    # plain data: JSON without a conversion hook (NaN/inf allowed here; write_json nulls them)
    text = json.dumps(d)
    # strict JSON through the io boundary, and back
    strict = json.dumps(to_jsonable(d), allow_nan=False)
    assert json.loads(strict) == to_jsonable(d)
    if hasattr(type(obj), "from_dict"):
        again = type(obj).from_dict(json.loads(strict))
        assert to_jsonable(again.to_dict()) == to_jsonable(d)
        again = type(obj).from_dict(json.loads(text))
        assert json.dumps(again.to_dict()) == json.dumps(d)


def test_train_result_to_dict_has_train_json_keys():
    """``to_dict`` holds every key ``topoanalysis train`` writes by hand to train.json."""
    res = FACTORIES["topoanalysis.dynamics._shared.TrainResult"]()
    d = res.to_dict()
    for key in ("architecture", "loss", "settings", "final_loss", "steps_taken", "diverged",
                "reached_target", "max_abs_drift"):
        assert key in d
    assert d["settings"]["optimizer"] == "gd" and d["settings"]["lr"] == 0.05
    back = type(res).from_dict(json.loads(json.dumps(to_jsonable(d))))
    np.testing.assert_array_equal(back.params, res.params)
    np.testing.assert_array_equal(back.final_loss, res.final_loss)
    assert back.arch == res.arch


def test_interpolation_barrier_to_dict_has_barrier_json_keys():
    bar = FACTORIES["topoanalysis.dynamics.interpolate.InterpolationBarrier"]()
    d = bar.to_dict()
    for key in ("loss", "loss_a", "loss_b", "barrier", "t_barrier", "midpoint", "mean", "t_max"):
        assert key in d
    assert d["barrier"][0] == bar.barrier[0]


def test_obstruction_grid_round_trip_keeps_nan_and_settings():
    grid = FACTORIES["topoanalysis.obstruction.probability.ObstructionGrid"]()
    d = grid.to_dict()
    d["p"][0][0] = float("nan")                     # a non-finite value goes through null
    back = type(grid).from_dict(json.loads(json.dumps(to_jsonable(d), allow_nan=False)))
    assert np.isnan(back.p[0, 0]) and back.p[1, 1] == grid.p[1, 1]
    assert back.settings == grid.settings and back.scheme == "kaiming_normal"
    np.testing.assert_array_equal(back.events["obstructed"], grid.events["obstructed"])


def test_degeneracy_results_are_frozen():
    """They were mutable where the other results were frozen (issue #20)."""
    report = FACTORIES["topoanalysis.degeneracy.detect.DegeneracyReport"]()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.tolerances = {}


def test_results_over_data_record_the_data_source():
    """``to_dict`` says which data produced the numbers (sizes and a digest)."""
    from topoanalysis._results import data_source
    res = FACTORIES["topoanalysis.levelsets.connectivity.BarrierMatrix"]()
    data = res.to_dict()["settings"]["data"]
    assert data == data_source(X, Y) and data["n_samples"] == 6 and len(data["sha256"]) == 64
    other = data_source(X, Y + 1.0)
    assert other["sha256"] != data["sha256"]
    dss = FACTORIES["topoanalysis.levelsets.strings.StringSamplingResult"]()
    assert dss.to_dict()["settings"]["data"]["sha256"] == data["sha256"]
