"""Interrupted training resumes from its checkpoint with bit-identical results."""

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
import importlib

from topoanalysis.dynamics import train
from topoanalysis.init import init_params

# the package exports the function `train`, which shadows the submodule's attribute name
train_module = importlib.import_module("topoanalysis.dynamics.train")


@pytest.fixture
def problem():
    arch = Architecture(3, (5,), 1)
    theta = init_params(arch, seed=0, n_networks=4)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    return arch, theta, X, y


@pytest.mark.parametrize("kwargs", [dict(optimizer="gd", lr=0.1),
                                    dict(optimizer="sgd", lr=0.05, batch_size=7),
                                    dict(optimizer="adam", lr=0.01)])
def test_resume_is_bit_identical(problem, kwargs, tmp_path, monkeypatch):
    arch, theta, X, y = problem
    common = dict(arch=arch, loss="bce", steps=60, record_every=5, record_params=True,
                  progress=False, **kwargs)
    full = train(theta, X, y, **common)

    monkeypatch.setattr(train_module, "_chunk_steps", lambda *a: 7)
    monkeypatch.setattr(train_module, "CHECKPOINT_SECONDS", 0.0)
    calls = {"n": 0}
    original_save = train_module._save_checkpoint

    def save_then_maybe_stop(path, key, state, t0):
        original_save(path, key, state, t0)
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user stops the run after 3 chunks

    monkeypatch.setattr(train_module, "_save_checkpoint", save_then_maybe_stop)
    ckpt = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train(theta, X, y, checkpoint=ckpt, **common)
    assert ckpt.exists()
    resumed = train(theta, X, y, checkpoint=ckpt, **common)
    assert not ckpt.exists()  # removed once complete
    for name in ("params", "loss", "trajectory", "conserved", "final_loss", "steps_taken"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(full, name))


def test_foreign_checkpoint_is_rejected(problem, tmp_path, monkeypatch):
    arch, theta, X, y = problem
    monkeypatch.setattr(train_module, "_chunk_steps", lambda *a: 5)
    monkeypatch.setattr(train_module, "CHECKPOINT_SECONDS", 0.0)

    def stop(path, key, state, t0):
        train_module._save_checkpoint.__wrapped__(path, key, state, t0)
        raise KeyboardInterrupt

    stop.__wrapped__ = train_module._save_checkpoint
    monkeypatch.setattr(train_module, "_save_checkpoint", stop)
    ckpt = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train(theta, X, y, arch=arch, lr=0.1, steps=30, progress=False, checkpoint=ckpt)
    with pytest.raises(ValidationError, match="`checkpoint`"):
        train(theta, X, y, arch=arch, lr=0.2, steps=30, progress=False, checkpoint=ckpt)
