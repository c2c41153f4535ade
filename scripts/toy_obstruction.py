"""Figure 3 of Nurisso, Leroy & Vaccarino: an obstructed and an unobstructed initialization.

Two inputs, two hidden ReLU neurons without biases, one output, so each neuron's parameters
``(w_k, a_k)`` live in R³ and gradient flow keeps them on the quadric
``||w_k||² − a_k² = c_k``: a hyperboloid of one sheet (``c_k > 0``, connected) or of two sheets
(``c_k < 0``, the sign of ``a_k`` is frozen). The target ``y = relu(x_1) − relu(x_2)`` needs one
positive and one negative output weight. Both initializations realize the *same* function
(both output weights positive); the obstructed one has both neurons pathological, so no
training can produce the negative output weight, while the unobstructed one (the same
function, neurons rescaled onto one-sheet hyperboloids) can.

Settings and their source: the architecture (2 inputs, 2 hidden ReLU neurons without biases,
1 output), the 500 gradient-descent steps and the two panels per initialization are the paper's
(Figure 3 and its caption); the data (60 Gaussian inputs, target ``relu(x_1) − relu(x_2)``), the
squared loss, the learning rate 0.1 and the two initializations (one function, both neurons
rescaled to ``||w||²/a² = 1/4`` or ``4``) are our choices.
Differs from the paper: the paper does not print its data, loss, learning rate or
initial weights, and no code of the authors is public (searched: GitHub, the NeurIPS 2024
page); our figure shows the same phenomenon, not the same curves.

Writes ``toy_obstruction.png`` (3-D trajectories of the 500 gradient-descent steps on the
hyperboloids, and the two loss curves) and ``toy_obstruction.csv`` (loss curves) to ``--out``.

    python scripts/toy_obstruction.py --out figures
"""

import argparse
import os

import numpy as np

from topoanalysis.io import save_figure, write_csv
from topoanalysis import Architecture, Network
from topoanalysis.dynamics import train
from topoanalysis.obstruction import set_pathological_count


def make_problem(n_samples=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2))
    y = np.maximum(X[:, :1], 0) - np.maximum(X[:, 1:], 0)
    return X, y


def initializations(arch):
    """The same function twice: neurons roughly along the two axes, both output weights > 0."""
    W1 = np.array([[1.0, 0.3], [0.3, 1.0]])
    W1 /= np.linalg.norm(W1, axis=1, keepdims=True)
    W2 = np.array([[0.6, 0.4]])
    base = Network.from_weights([W1, W2], [None, None]).params
    obstructed = set_pathological_count(arch, base, 0, ratio=4.0)    # c_1, c_2 < 0
    unobstructed = set_pathological_count(arch, base, 2, ratio=4.0)  # c_1, c_2 > 0
    return np.stack([obstructed, unobstructed])


def hyperboloid(ax, c, extent):
    """Draw ||w||² − a² = c in (w_1, w_2, a) coordinates."""
    phi = np.linspace(0, 2 * np.pi, 60)
    if c > 0:
        a = np.linspace(-extent, extent, 30)
        A, P = np.meshgrid(a, phi)
        R = np.sqrt(c + A ** 2)
        ax.plot_surface(R * np.cos(P), R * np.sin(P), A, alpha=0.15, color="tab:blue", linewidth=0)
    else:
        r = np.linspace(0, np.sqrt(extent ** 2 + c) if extent ** 2 + c > 0 else extent, 30)
        Rr, P = np.meshgrid(r, phi)
        Z = np.sqrt(Rr ** 2 - c)
        for sign in (1, -1):
            ax.plot_surface(Rr * np.cos(P), Rr * np.sin(P), sign * Z, alpha=0.15,
                            color="tab:red", linewidth=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures", help="output folder (default ./figures)")
    parser.add_argument("--steps", type=int, default=500, help="gradient-descent steps (default 500)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data")
    args = parser.parse_args(argv)

    arch = Architecture(2, (2,), 1, hidden_bias=False, output_bias=False)
    X, y = make_problem(seed=args.seed)
    theta0 = initializations(arch)
    res = train(theta0, X, y, arch=arch, loss="mse", optimizer="gd", lr=args.lr, steps=args.steps,
                record_every=1, record_params=True, progress=False)
    traj = res.trajectory                      # (2, R, P)
    losses = res.loss                          # (2, R)
    c0 = Network(arch, theta0[0]).conserved_quantities(), Network(arch, theta0[1]).conserved_quantities()

    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "toy_obstruction.csv")
    write_csv(csv_path, ["step", "loss_obstructed", "loss_unobstructed"],
              np.column_stack([res.record_steps, losses.T]))
    print(f"final loss: obstructed {losses[0, -1]:.4g}, unobstructed {losses[1, -1]:.4g}")
    print(f"wrote {csv_path}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'topoanalysis[plot]'): no PNG written")
        return 0
    fig = plt.figure(figsize=(13, 8))
    names = ("obstructed", "unobstructed")
    for row in range(2):
        (W1, _), (W2, _) = arch.unpack(traj[row])
        for k in range(2):
            ax = fig.add_subplot(2, 3, 3 * row + k + 1, projection="3d")
            path = np.column_stack([W1[:, k, 0], W1[:, k, 1], W2[:, 0, k]])
            extent = 1.2 * np.abs(path).max()
            hyperboloid(ax, c0[row][k], extent)
            ax.plot(*path.T, color="k", lw=1.5)
            ax.scatter(*path[0], color="tab:green", s=30, label="start")
            ax.scatter(*path[-1], color="tab:orange", s=30, label="end")
            ax.set_xlabel("$w_1$")
            ax.set_ylabel("$w_2$")
            ax.set_zlabel("$a$")
            ax.set_title(f"{names[row]}: neuron {k + 1}, $c_{k + 1}$ = {c0[row][k]:+.3f}")
            if row == 0 and k == 0:
                ax.legend(loc="upper left", fontsize=8)
        ax = fig.add_subplot(2, 3, 3 * row + 3)
        ax.semilogy(res.record_steps, losses[row], color="tab:red" if row == 0 else "tab:blue")
        ax.set_xlabel("step")
        ax.set_ylabel("MSE")
        ax.set_title(f"{names[row]} loss")
    fig.suptitle("Gradient descent stays on the quadrics ||w||² − a² = c (Nurisso et al., Fig. 3)")
    fig.tight_layout()
    png = os.path.join(args.out, "toy_obstruction.png")
    save_figure(fig, png, dpi=110, footer=(
        f"settings: 2-2-1 ReLU, no biases, {args.steps} GD steps (paper, Fig. 3); data: 60 "
        f"N(0, I) inputs, y = relu(x1) - relu(x2), seed {args.seed}; MSE; lr {args.lr:g}; "
        "neurons rescaled to ||w||^2/a^2 = 1/4 (obstructed) or 4 (our choices).\n"
        "differs from the paper: its data, loss, learning rate and initial weights are not "
        "given and no code is public; same phenomenon, not the same curves."))
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
