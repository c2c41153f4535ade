"""Drift of the conserved quantities after a fixed training time, against the learning rate.

Gradient flow conserves ``c_k = ||w_k||² − ||a_k||²`` for every hidden neuron of a ReLU network
(Nurisso et al., the invariant behind the quadric level sets; Du, Hu & Lee 2018 for the balance
of layers). One gradient-descent step changes it by exactly ``η² (||∇_{w_k} L||² − ||∇_{a_k} L||²)``:
the first-order terms cancel because ``w_k · ∇_{w_k} L = a_k · ∇_{a_k} L``. After a fixed
training *time* ``τ = η · steps`` the accumulated drift of GD therefore scales like
``η² · τ/η = η τ``: slope 1 on a log-log plot against ``η``. Adam rescales each coordinate of
the gradient, the first-order cancellation is lost, each step moves ``c_k`` by ``O(η)`` and the
drift after a fixed time stays ``O(τ)``: slope about 0. This is not a figure of the papers; it
shows numerically the finite-step statement the toolkit relies on.

Setup: breast cancer training split (455 x 30, standardized), shallow ReLU networks with
biases (l = 6), BCE with logits, full batch, 8 seeded initializations, ``τ = 2``.

Usage::

    python scripts/drift_vs_lr.py --out results/drift_vs_lr

Writes ``drift_vs_lr.csv`` and ``drift_vs_lr.png`` to ``--out`` and prints the fitted slopes.
"""

import argparse
import os
import sys

import numpy as np

from topoanalysis.io import save_figure, write_csv
from topoanalysis import Architecture
from topoanalysis.datasets import load_breast_cancer
from topoanalysis.dynamics import train
from topoanalysis.init import init_params

TAU = 2.0
LRS = np.logspace(-3, -0.5, 9)
N_NETWORKS = 8
SEED = 0


def total_drift(result):
    """Mean over networks of sum_k |c_k(end) - c_k(0)|, and its standard deviation."""
    per_net = np.sum(np.abs(result.conserved[:, -1] - result.conserved[:, 0]), axis=1)
    return float(per_net.mean()), float(per_net.std())


def measure():
    data = load_breast_cancer(test_size=0.2, seed=SEED, standardize=True)
    arch = Architecture(30, (6,), 1)
    theta0 = init_params(arch, "kaiming_normal", n_networks=N_NETWORKS, seed=SEED,
                         bias_init="pytorch")
    rows = []
    for optimizer in ("gd", "adam"):
        for lr in LRS:
            steps = max(1, int(round(TAU / lr)))
            res = train(theta0, data.X_train, data.y_train, arch=arch, loss="bce",
                        optimizer=optimizer, lr=float(lr), steps=steps, record_every=steps,
                        progress=False)
            mean, std = total_drift(res)
            rows.append(dict(optimizer=optimizer, lr=float(lr), steps=steps, drift=mean,
                             drift_std=std, final_loss=float(np.mean(res.final_loss)),
                             diverged=int(res.diverged.sum())))
    return rows


SLOPE_MAX_LR = 0.02  # slopes are fitted in the small-step regime, lr <= this


def slope(rows, optimizer):
    """Least-squares slope of log(drift) against log(lr) for lr <= SLOPE_MAX_LR."""
    sel = [r for r in rows if r["optimizer"] == optimizer and r["lr"] <= SLOPE_MAX_LR]
    x = np.log([r["lr"] for r in sel])
    y = np.log([r["drift"] for r in sel])
    return float(np.polyfit(x, y, 1)[0])


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("drift_vs_lr.py needs matplotlib for the figure: "
                         "pip install 'topoanalysis[plot]' (or pip install matplotlib).") from None
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    for optimizer, label, marker in (("gd", "gradient descent", "o"), ("adam", "Adam", "s")):
        sel = [r for r in rows if r["optimizer"] == optimizer]
        lr = np.array([r["lr"] for r in sel])
        d = np.array([r["drift"] for r in sel])
        ax.errorbar(lr, d, yerr=[r["drift_std"] for r in sel], marker=marker, capsize=2,
                    label=f"{label} (slope {slope(rows, optimizer):.2f} for η ≤ {SLOPE_MAX_LR})")
        ref = 1.0 if optimizer == "gd" else 0.0
        ax.plot(lr, d[0] * (lr / lr[0]) ** ref, ":", color="gray",
                label="slope 1 (GD: η² per step × τ/η steps)" if ref else "slope 0")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(r"$\sum_k |c_k(\tau) - c_k(0)|$  (mean ± std, 8 nets)")
    ax.set_title(f"Conserved-quantity drift after time τ = η·steps = {TAU:g}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=150)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("results", "drift_vs_lr"),
                        help="output folder (created if missing)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rows = measure()
    csv_path = os.path.join(args.out, "drift_vs_lr.csv")
    write_csv(csv_path, list(rows[0]), [list(r.values()) for r in rows])
    png_path = os.path.join(args.out, "drift_vs_lr.png")
    plot(rows, png_path)
    print(f"log-log slope of the drift against lr at fixed time (lr <= {SLOPE_MAX_LR}): "
          f"GD {slope(rows, 'gd'):.2f} (expected 1), Adam {slope(rows, 'adam'):.2f} "
          f"(expected about 0: no first-order cancellation)")
    print(f"wrote {csv_path}\nwrote {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
