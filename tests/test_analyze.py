import pytest

from topoanalysis import ValidationError
from topoanalysis.analyze import analyze


def test_analyze_is_reproducible_across_thread_counts():
    one = analyze(seeds=2, steps=40, out=None, progress=False, n_threads=1)
    two = analyze(seeds=2, steps=40, out=None, progress=False, n_threads=2)
    assert one.networks == two.networks
    assert one.pairs == two.pairs
    assert one.probabilities == two.probabilities


def test_analyze_twins_keep_the_function_and_are_fully_pathological():
    rep = analyze(seeds=3, steps=20, out=None, progress=False)
    inits = [n for n in rep.networks if n["kind"] == "init"]
    twins = [n for n in rep.networks if n["kind"] == "twin"]
    assert [n["seed"] for n in inits] == [n["seed"] for n in twins] == [0, 1, 2]
    assert all(n["l_plus"] == 0 and n["l_minus"] == 6 for n in twins)
    # trained by GD with a small rate, no pathological output weight changed sign
    assert all(n["stayed_in_component"] for n in rep.networks)
    assert "Loss barrier" in rep.text()


@pytest.mark.parametrize("kwargs, name", [({"hidden": 0}, "hidden"), ({"seeds": 0}, "seeds"),
                                          ({"lr": 0.0}, "lr"), ({"steps": -3}, "steps")])
def test_analyze_errors(kwargs, name):
    with pytest.raises(ValidationError, match=f"`{name}`"):
        analyze(out=None, progress=False, **kwargs)


def test_laws_section_follows_the_analyzed_architecture():
    """The conservation-law section reads widths, activation and biases off the architecture:
    a linear network without biases has l(l+1)/2 laws (for l <= d), ReLU l."""
    from topoanalysis import Architecture
    from topoanalysis.analyze import _conservation_laws_section

    relu = _conservation_laws_section(Architecture(3, (2,), 1))
    assert relu["count"] == 2 and relu["complete"]
    lin = _conservation_laws_section(Architecture(3, (2,), 1, activation="linear",
                                                  hidden_bias=False, output_bias=False))
    assert lin["count"] == 3 and lin["complete"]
    assert "3 independent" in lin["text"] and "there are no others" in lin["text"]
    assert "the c_k are all of them" in relu["text"]
