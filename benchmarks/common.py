"""Shared pieces of the benchmarks: the workload, FLOP counts and timing.

Workload: the breast cancer training set (455 x 30, standardized, labels 0/1) from
``topoanalysis.datasets.load_breast_cancer``; shallow ReLU networks with biases, BCE with
logits, full-batch gradient descent, PyTorch-default initialization, seeded.
"""

import gc
import platform
import time

import numpy as np

from topoanalysis import Architecture
from topoanalysis.init import init_params


def load_workload():
    """``(X, y, source)``: the breast cancer training split, or a labelled fallback."""
    try:
        from topoanalysis.datasets import load_breast_cancer
    except ImportError:  # the datasets package is missing: same shapes, random data
        rng = np.random.default_rng(0)
        X = rng.standard_normal((455, 30))
        y = rng.integers(0, 2, (455, 1)).astype(float)
        return X, y, "FALLBACK random standardized 455x30 (topoanalysis.datasets missing)"
    split = load_breast_cancer(test_size=0.2, seed=0, standardize=True)
    return split.X_train, split.y_train, "breast cancer train split 455x30 (standardized)"


def architecture(hidden, d=30, e=1):
    return Architecture(d, tuple(hidden), e, hidden_bias=True, output_bias=True,
                        activation="relu")


def initial_params(arch, n_networks, seed=0):
    return init_params(arch, "pytorch", n_networks=n_networks, seed=seed, bias_init="pytorch")


def matmul_macs(arch):
    """Multiply-accumulates of the matrix products of one sample's forward pass."""
    sizes = arch.sizes
    return sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))


def cpu_name():
    """The CPU's model name from /proc/cpuinfo (else the platform's processor string)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def train_step_flops(arch, n_samples):
    """FLOPs of one full-batch gradient step of one network (matrix products only).

    ``2 N (2 M + M_1)`` with ``M = Σ_i n_in·n_out`` the multiply-accumulates of a forward
    pass and ``M_1`` those of the layers after the first: forward ``2NM``, weight gradients
    ``2NM``, back-propagated errors ``2N M_1`` (the input layer needs none). Elementwise work
    (activations, loss, update) is not counted.
    """
    sizes = arch.sizes
    m = matmul_macs(arch)
    m1 = m - sizes[0] * sizes[1]
    return 2.0 * n_samples * (2 * m + m1)


def eval_flops(arch, n_samples):
    """FLOPs of one loss evaluation of one network: ``2 N M`` (forward matrix products)."""
    return 2.0 * n_samples * matmul_macs(arch)


def best_time(fn, repeat, pause=0.3):
    """Smallest wall time of ``repeat`` calls of ``fn`` (after a short pause each, so that
    spinning BLAS/OpenMP threads of a previous measurement have gone to sleep)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        time.sleep(pause)
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result
