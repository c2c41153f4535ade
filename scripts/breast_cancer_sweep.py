"""Figure 4 of Nurisso, Leroy & Vaccarino: test loss against the number of non-pathological neurons.

For every width ``l = 2..9`` and every ``l_+ = 0..l``, 100 initializations of a shallow ReLU
network (30 inputs, biases, one output) on the bundled breast cancer data are rescaled to have
exactly ``l_+`` non-pathological neurons (same initial functions for every ``l_+``), trained by
full-batch gradient descent on BCE, and their test BCE is averaged. The paper's finding: the
loss improves with the absolute count ``l_+``, not with the fraction ``l_+ / l``; compare
the first two panels of ``breast_cancer_fraction.png`` to check it (the README reports what
we see).

Each cell is appended to ``breast_cancer_sweep.csv`` as soon as it finishes; rerunning with the
same ``--out`` skips finished cells. Also writes ``breast_cancer_heatmap.png`` (mean test BCE
over ``(l, l_+)``) and ``breast_cancer_fraction.png`` (test BCE against ``l_+`` and against
``l_+ / l``, train BCE against ``l_+``). ``--scheduler`` runs the cells on a Dask cluster
instead of this process (an address such as ``tcp://host:8786`` of a running
``dask scheduler``, or ``local``).

Settings and their source: the data (breast cancer, 569 x 30, binary), the widths
``l = 2..9``, every ``l_+ <= l``, 100 initializations per cell and the test BCE are the paper's
(Figure 4); the split (80/20, standardized), full-batch GD, 2000 steps, learning rate 0.1,
Kaiming normal initialization and the rescaling ratio 4 are our choices.
Differs from the paper: it does not state its optimizer, learning rate, number of steps,
initialization, split or how it rescales neurons to set ``l_+``, and no code of the authors is
public (searched: GitHub, the NeurIPS 2024 page); every one of these is a flag here.

How ``l_+`` is set matters (see :mod:`topoanalysis.obstruction`): ``--ratio R`` is
``||w_k||²/||a_k||²`` after rescaling (``1/R`` for pathological neurons; default 4, the size of
the effect grows with it), and ``--balance kernel`` is the scale-controlled variant: every
neuron's positive and pathological versions have the same tangent-kernel trace on the training
inputs, so the initial gradient scale does not change with ``l_+``.

    python scripts/breast_cancer_sweep.py --out results/breast_cancer
"""

import argparse
import functools
import time

import numpy as np

from topoanalysis.io import OutputFolder, save_figure
from topoanalysis.obstruction import BALANCES, breast_cancer_sweep_cell
from topoanalysis.sweep import connect, run_sweep


def plot(rows, folder, variant="", footer=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'topoanalysis[plot]'): no PNG written")
        return []
    ls = sorted({int(r["width"]) for r in rows})
    grid = np.full((max(ls) + 1, len(ls)), np.nan)
    for r in rows:
        grid[int(r["n_positive"]), ls.index(int(r["width"]))] = float(r["test_bce_mean"])
    fig, ax = plt.subplots(figsize=(6.5, 5))
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis",
                   extent=(min(ls) - 0.5, max(ls) + 0.5, -0.5, max(ls) + 0.5))
    fig.colorbar(im, ax=ax, label="mean test BCE")
    ax.set_xlabel("hidden width $l$")
    ax.set_ylabel("non-pathological neurons $l_+$")
    ax.set_title("Breast cancer: test BCE after training")
    fig.tight_layout()
    heat = save_figure(fig, folder.path("breast_cancer_heatmap.png"), dpi=110, footer=footer)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    axes[1].sharey(axes[0])
    cmap = plt.get_cmap("plasma")
    for i, l in enumerate(ls):
        sel = sorted((r for r in rows if int(r["width"]) == l), key=lambda r: int(r["n_positive"]))
        lp = np.array([int(r["n_positive"]) for r in sel])
        m = np.array([float(r["test_bce_mean"]) for r in sel])
        s = np.array([float(r["test_bce_sem"]) for r in sel])
        col = cmap(i / max(len(ls) - 1, 1))
        axes[0].errorbar(lp, m, yerr=s, color=col, marker="o", ms=3, label=f"l = {l}")
        axes[1].errorbar(lp / l, m, yerr=s, color=col, marker="o", ms=3, label=f"l = {l}")
        axes[2].plot(lp, [float(r["train_bce_mean"]) for r in sel], color=col, marker="o", ms=3)
    axes[0].set_xlabel("$l_+$ (absolute)")
    axes[1].set_xlabel("$l_+ / l$ (fraction)")
    axes[2].set_xlabel("$l_+$ (absolute)")
    axes[0].set_ylabel("mean test BCE (± s.e.m.)")
    axes[2].set_ylabel("mean train BCE")
    axes[1].legend(fontsize=8)
    fig.suptitle("Test BCE against the count (left) and the fraction (middle) of non-pathological "
                 "neurons; train BCE (right)" + (f" — {variant}" if variant else ""))
    fig.tight_layout()
    frac = save_figure(fig, folder.path("breast_cancer_fraction.png"), dpi=110, footer=footer)
    return [heat, frac]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/breast_cancer", help="output folder")
    p.add_argument("--widths", default="2:9", help="widths l as lo:hi (default 2:9)")
    p.add_argument("--n-init", type=int, default=100, help="initializations per cell (default 100)")
    p.add_argument("--steps", type=int, default=2000, help="GD steps (default 2000)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--init", default="kaiming_normal", help="initialization scheme")
    p.add_argument("--ratio", type=float, default=4.0,
                   help="rescaling ratio R > 1: ||w_k||²/||a_k||² = R for non-pathological "
                        "neurons, 1/R for pathological ones (default 4)")
    p.add_argument("--balance", default="ratio", choices=BALANCES,
                   help="'ratio' (the paper's rescaling, default) or 'kernel' (scale-controlled: "
                        "equal tangent-kernel trace for every l_+; R then applies to the less "
                        "extreme version of each neuron)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scheduler", default=None,
                   help="Dask scheduler address, or 'local' for a local Dask cluster")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--force", action="store_true",
                   help="reuse an --out folder made with other settings (its files are removed)")
    args = p.parse_args(argv)
    try:
        lo, hi = (int(v) for v in args.widths.split(":"))
    except ValueError:
        p.error(f"--widths must be lo:hi with integers; got {args.widths!r}")
    if not 1 <= lo <= hi:
        p.error(f"--widths must satisfy 1 <= lo <= hi; got {args.widths!r}")
    if not args.ratio > 1:
        p.error(f"--ratio must be > 1 (1/ratio is used for pathological neurons); got {args.ratio}")
    cells = [{"width": l, "n_positive": lp} for l in range(lo, hi + 1) for lp in range(l + 1)]
    func = functools.partial(breast_cancer_sweep_cell, n_init=args.n_init, steps=args.steps,
                             lr=args.lr, scheme=args.init, ratio=args.ratio,
                             balance=args.balance, seed=args.seed)
    # everything that determines a cell's numbers; other widths may be added on a rerun
    settings = {k: getattr(args, k) for k in ("n_init", "steps", "lr", "init", "ratio",
                                              "balance", "seed")}
    with OutputFolder(args.out, command="breast_cancer_sweep", settings=settings,
                      force=args.force) as folder:
        csv_path = folder.path("breast_cancer_sweep.csv")
        client = connect(args.scheduler) if args.scheduler else None
        t0 = time.perf_counter()
        try:
            rows = run_sweep(cells, func, csv_path, client=client, progress=not args.quiet,
                             desc="breast cancer cells")
        finally:
            if client is not None:
                client.close()
        print(f"{len(cells)} cells x {args.n_init} runs in {time.perf_counter() - t0:.1f} s "
              f"(finished cells of earlier runs skipped)")
        print(f"wrote {csv_path}")
        variant = f"rescaling ratio {args.ratio:g}, balance '{args.balance}'"
        footer = (
            f"settings: breast cancer 569 x 30, widths {lo}..{hi}, every l+ <= l, {args.n_init} "
            "initializations per cell, test BCE (paper, Fig. 4); 80/20 split, standardized, "
            f"full-batch GD, {args.steps} steps, lr {args.lr:g}, {args.init}, ratio "
            f"{args.ratio:g}, balance '{args.balance}', seed {args.seed} (our choices).\n"
            "differs from the paper: its optimizer, learning rate, steps, initialization, "
            "split and rescaling are not stated and no code is public.")
        for path in plot(rows, folder, variant, footer):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
