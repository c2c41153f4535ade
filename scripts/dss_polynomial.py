"""Normalized geodesic length and bead count against the loss level, polynomial regression.

Freeman & Bruna, "Topology and geometry of half-rectified network optimization" (ICLR 2017),
Section 5.1 / Fig. 2 (rows 1-2): for each loss level ``L0`` pairs of networks trained to ``L0``
are joined by Dynamic String Sampling; reported are the normalized geodesic length and the
number of beads, mean and spread over the pairs.

Settings and their source (the authors' code: github.com/danielfreeman11/convex-nets,
``LaunchScripts/QUADRATICS.py`` = Q and ``LaunchScripts/CUBICS.py`` = C, line numbers):

* quadratic task ``y = 0.5x² + 0.25x + 0.1`` (Q 63-64, 75), cubic ``y = 8x³ − 10x² + 3x``
  (C 69-70, 75), ``x ~ U[0, 1)`` (Q 68) ........................................ authors
* quadratic model: 1-4-4-1, sigmoid hidden units, **sigmoid output unit, no biases**
  (Q 36-39, 228-245: the bias terms are commented out) ........................... authors
* cubic model: 1-4-4-1, sigmoid hidden units, biases, **linear output** (C 234-251) .. authors
* initialization: weights ``U[-1, 1]`` (Q 182-184), biases ``N(0, 1)`` (C 194-196) ..... authors
* loss: L1, ``mean |pred − y|`` (Q 324, 421); Adam, learning rate 1e-3 (Q 30, 325) ..... authors
* levels: quadratic 0.125 … 0.001 (Q 20), cubic 0.32 … 0.01 (C 22, commented out there in
  favour of 0.15-0.17 around the feature the paper discusses) ..................... authors
* endpoints: fresh random networks for every level (each level is a separate job, Q 22,
  382-399), trained until the training loss is below ``L0`` (Q 462) ................. authors
* DSS: one bead at ``t = 1/2`` inserted and trained first (Q 520), beads trained to
  ``0.95 L0`` (Q 544) with no step cap (Q 368: ``or j > maxindex`` commented out), a gap
  accepted when its highest interpolated loss is below ``1.1 L0`` (Q 498, 565) on 100
  points (Q 106), new beads at ``t = 1/2`` (Q 582), 10 levels (Q 525) ............... authors
* beads counted with the endpoints (``len(test.AllBeads)``, Q 596); normalized length
  ``Σ||θ_i − θ_{i+1}|| / ||θ_0 − θ_K||`` over the **weights only** (``SpringNorm`` flattens
  ``AllBeads[i][0]``, Q 298-300; C: biases excluded) — both reported, the weights-only one in
  the table ......................................................................... authors

Differs from the paper (our choices, each a flag):

* training set: ``--n-samples`` (default 1000) points drawn once per task; the authors draw a
  fresh set of 10000 for every model and every bead (Q 331, 436). The cubic window 0.15-0.168
  needs ``--n-samples 10000``: its spike sits at the L1 loss of the best constant fit, which a
  small sample moves (500 points, seed 0: to 0.170; ``scripts/dss_spike_window.py``). Test set: 10000 points
  (Q 75), drawn once with another seed, used only for the test-set columns;
* the authors stop a bead, and check a gap, on the **test** set (Q 366-368, 100); we train and
  check on the training set and report the test-set losses of every string beside them;
* a bead's training has a stated maximum (``--max-bead-steps``, default 200000 Adam steps)
  and stops early when a chunk of doubling length lowers its loss by less than 1 %; strings that
  fail are reported as budget-limited (a bead above its target) or depth-limited;
* endpoints: at most ``--max-train-steps`` (default 200000) steps; networks that miss the
  level are replaced by the next ones of the level's batch (``2·pairs + spare`` are trained);
* float64 arithmetic (the authors' TensorFlow graphs are float32; the engine's float32 kernels
  cover one hidden layer only: ``scripts/dss_spike_window.py --dtype float32`` measures it);
* beads trained with the adaptive budget (Adam restarted per chunk); ``--bead-budget
  continuous`` trains each bead in one Adam run, as the authors' one session per bead.

Outputs (in ``--out``): ``dss_polynomial.csv`` (one row per pair), ``dss_polynomial_summary.csv``
(mean, s.d., min and max per task and level), ``dss_polynomial.png`` and ``strings/`` (every
string, ``BeadString.save`` format). Rows are written after every level; a rerun resumes.

Example (the README table)::

    python scripts/dss_polynomial.py --out results/dss --levels paper --pairs 8
"""

import argparse
import os
import sys

import numpy as np

from topoanalysis import Architecture, Landscape, TopoAnalysisError
from topoanalysis.datasets import polynomial_regression
from topoanalysis.io import OutputFolder, save_figure, write_csv
from topoanalysis.levelsets import dynamic_string_sampling

ROW_FIELDS = ["task", "model", "L0", "pair", "connected", "failure", "beads", "inner_beads",
              "depth", "normalized_length_weights", "normalized_length", "max_loss",
              "test_max_loss", "test_max_bead_loss", "loss_a", "loss_b", "test_loss_a",
              "test_loss_b", "bead_steps_max", "beads_stalled", "endpoint_steps_max",
              "call_seconds", "certified", "max_loss_bound"]
SUMMARY_FIELDS = ["task", "model", "L0", "n_pairs", "n_connected", "n_budget_limited",
                  "n_depth_limited", "mean_normalized_length", "std_normalized_length",
                  "min_normalized_length", "max_normalized_length", "mean_beads", "std_beads",
                  "min_beads", "max_beads", "mean_normalized_length_all_params",
                  "mean_test_max_loss", "max_test_max_loss", "max_bead_steps", "call_seconds",
                  "paper_normalized_length", "paper_beads", "n_certificate_limited",
                  "n_proven"]

#: The authors' levels (Q 20; C 22).
PAPER_LEVELS = {"quadratic": [0.125, 0.1, 0.075, 0.05, 0.025, 0.01, 0.0075, 0.005, 0.0025,
                              0.001],
                "cubic": [0.32, 0.24, 0.2, 0.18, 0.16, 0.14, 0.12, 0.1, 0.08, 0.07, 0.06, 0.05,
                          0.04, 0.03, 0.02, 0.01]}
#: The paper's Fig. 2 values, level -> (normalized length, its error bar, beads, its error bar):
#: digitized from the authors' plots Writeup/Plots/normlength{quadratics,cubics}.pdf and
#: numbeads{quadratics,cubics}.pdf (matplotlib 1.3 PDFs: the marker positions mapped through
#: the axes' tick labels; "error bar" is half the plotted bar). Means over connected pairs.
PAPER_VALUES = {
    "quadratic": {
        0.125: (1.27, 0.05, 3.98, 0.24),
        0.1: (1.35, 0.06, 5.04, 0.33),
        0.075: (1.29, 0.07, 5.4, 0.4),
        0.05: (1.37, 0.08, 6.81, 0.55),
        0.025: (1.33, 0.07, 8.17, 0.66),
        0.01: (1.48, 0.1, 13.83, 1.38),
        0.0075: (1.65, 0.12, 18.76, 2.0),
        0.005: (1.66, 0.13, 23.45, 2.35),
        0.0025: (1.75, 0.14, 38.34, 4.7),
        0.001: (1.86, 0.16, 62.43, 5.94),
    },
    "cubic": {
        0.32: (1.0, 0.0, 3.11, 0.06),
        0.24: (1.0, 0.01, 3.26, 0.11),
        0.2: (1.0, 0.01, 3.2, 0.12),
        0.18: (1.0, 0.01, 3.16, 0.09),
        0.17: (1.0, 0.01, 3.15, 0.09),
        0.168: (1.01, 0.01, 3.16, 0.11),
        0.164: (1.52, 0.07, 3.08, 0.05),
        0.162: (1.87, 0.08, 3.23, 0.11),
        0.16: (2.28, 0.07, 3.28, 0.08),
        0.158: (2.54, 0.15, 3.43, 0.21),
        0.156: (2.42, 0.14, 3.6, 0.3),
        0.154: (1.99, 0.12, 3.6, 0.24),
        0.152: (1.78, 0.11, 3.79, 0.28),
        0.15: (1.66, 0.09, 3.74, 0.29),
        0.14: (1.42, 0.05, 4.52, 0.33),
        0.12: (1.38, 0.05, 5.96, 0.5),
        0.1: (1.38, 0.05, 7.61, 0.62),
        0.08: (1.39, 0.04, 9.5, 0.55),
        0.07: (1.42, 0.04, 10.86, 0.58),
        0.06: (1.43, 0.05, 12.43, 0.69),
        0.05: (1.43, 0.05, 14.05, 0.79),
        0.04: (1.45, 0.05, 15.91, 0.92),
        0.03: (1.51, 0.06, 18.72, 1.15),
        0.02: (1.69, 0.07, 27.29, 1.91),
        0.01: (1.87, 0.08, 46.33, 2.68),
    },
}

#: A few minutes on two busy cores (ours).
DEFAULT_LEVELS = {"quadratic": [0.05, 0.01], "cubic": [0.16, 0.08]}


def authors_model(task):
    """The authors' network for ``task`` (Q 228-245, C 234-251)."""
    if task == "quadratic":
        return Architecture(1, (4, 4), 1, activation="sigmoid", hidden_bias=False,
                            output_bias=False, output_activation="sigmoid")
    return Architecture(1, (4, 4), 1, activation="sigmoid")


def authors_init(arch, n, seed):
    """Weights ``U[-1, 1]``, biases ``N(0, 1)`` (Q 182-190), seeded (``seed``: an int or a
    list of ints, as ``numpy.random.default_rng`` takes)."""
    rng = np.random.default_rng(seed)
    ws = [rng.uniform(-1.0, 1.0, (n,) + arch.layer_shape(i)) for i in range(arch.n_layers)]
    bs = [rng.standard_normal((n, arch.layer_shape(i)[0])) if arch.has_bias(i) else None
          for i in range(arch.n_layers)]
    return arch.pack(ws, bs)


def weight_mask(arch):
    """Flat indices of the weights (not the biases): the authors' ``SpringNorm``."""
    mask = np.zeros(arch.n_params, dtype=bool)
    for w, _ in arch.layer_slices:
        mask[w] = True
    return mask


def normalized_length(beads, mask):
    b = beads[:, mask]
    d = np.linalg.norm(b[-1] - b[0])
    return float(np.linalg.norm(np.diff(b, axis=0), axis=1).sum() / d) if d > 0 else np.nan


def _levels(task, args):
    own = args.levels_quadratic if task == "quadratic" else args.levels_cubic
    if own:
        return own
    if args.levels == ["paper"]:
        return PAPER_LEVELS[task]
    if args.levels == ["default"]:
        return DEFAULT_LEVELS[task]
    try:
        return [float(v) for v in args.levels]
    except ValueError:
        raise SystemExit(f"dss_polynomial: error: --levels must be 'paper', 'default' or "
                         f"numbers; got {' '.join(args.levels)}") from None


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--tasks", nargs="+", default=["quadratic", "cubic"],
                   choices=["quadratic", "cubic"])
    p.add_argument("--levels", nargs="+", default=["default"],
                   help="'paper' (the authors' levels), 'default' (2 per task) or L0 values")
    p.add_argument("--levels-quadratic", type=float, nargs="+", help="L0 values, quadratic")
    p.add_argument("--levels-cubic", type=float, nargs="+", help="L0 values, cubic")
    p.add_argument("--pairs", type=int, default=8, help="pairs per level (default 8)")
    p.add_argument("--spare", type=int, default=4, help="extra endpoints trained per level")
    p.add_argument("--n-samples", type=int, default=1000,
                   help="training points (default 1000; authors 10000, fresh per model)")
    p.add_argument("--test-samples", type=int, default=10000, help="test points (authors 10000)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam lr (authors 1e-3)")
    p.add_argument("--max-train-steps", type=int, default=200000,
                   help="maximum Adam steps of an endpoint (authors: none)")
    p.add_argument("--max-bead-steps", type=int, default=200000,
                   help="maximum Adam steps of a bead (authors: none)")
    p.add_argument("--bead-budget", choices=["adaptive", "continuous"], default="adaptive",
                   help="adaptive: chunks of doubling length, Adam restarted per chunk, stall "
                        "stop (default); continuous: one Adam run per bead to its target or "
                        "--max-bead-steps (the authors: one Adam session per bead, Q 331-384)")
    p.add_argument("--max-depth", type=int, default=10, help="authors 10")
    p.add_argument("--n-points", type=int, default=100, help="authors 100")
    p.add_argument("--endpoints", choices=["independent", "continue"], default="independent",
                   help="fresh endpoints per level (authors) or trained on from the level above")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="reuse a folder of other settings")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def _read_rows(path):
    import csv

    with open(path, newline="") as fh:
        return [[r.get(f, "") for f in ROW_FIELDS] for r in csv.DictReader(fh)]   # older: blank


def run_level(task, arch, land, test, L0, theta0, args, folder, log):
    """Endpoints and strings of one level; returns (rows, trained endpoints)."""
    tr = land.train(theta0, optimizer="adam", lr=args.lr, steps=args.max_train_steps,
                    target_loss=L0, record_conserved=False, record_every=args.max_train_steps,
                    progress=False)
    ok = np.flatnonzero(tr.reached_target)
    m = min(args.pairs, ok.size // 2)
    if m == 0:
        log(f"  {task} L0={L0:g}: fewer than 2 endpoints reached the level; skipped")
        return [], tr.params
    A, B = tr.params[ok[:m]], tr.params[ok[m:2 * m]]
    budget = (dict(max_steps=args.max_bead_steps) if args.bead_budget == "adaptive"
              else dict(steps=args.max_bead_steps))
    res = dynamic_string_sampling(A, B, land, threshold=L0, lr=args.lr, first_bead=True,
                                  max_depth=args.max_depth, n_points=args.n_points,
                                  progress=not args.quiet, **budget)
    mask = weight_mask(arch)
    rows = []
    os.makedirs(folder.path("strings"), exist_ok=True)
    for q, s in enumerate(res.strings):
        s.save(folder.path(os.path.join("strings", f"{task}_L0_{L0:g}_pair{q}.npz")))
        tb, te = s.evaluate(test)
        rows.append([task, "authors", L0, q, s.connected, s.failure or "", s.n_beads_total,
                     s.n_beads, s.depth, normalized_length(s.beads, mask), s.normalized_length,
                     s.max_loss, float(te.max()), float(tb[1:-1].max(initial=tb[0])),
                     s.bead_loss[0], s.bead_loss[-1], tb[0], tb[-1], int(s.bead_steps.max()),
                     int(sum(v == "stalled" for v in s.bead_stop)),
                     int(tr.steps_taken[ok[:2 * m]].max()), res.seconds,
                     "" if s.certified is None else bool(s.certified),
                     float(np.max(s.edge_upper)) if s.edge_upper is not None else float("nan")])
    log(f"  {task:9s} L0={L0:<7g} {int(res.connected.sum())}/{m} connected "
        f"({res.failure.count('budget')} budget-, {res.failure.count('depth')} depth-, "
        f"{res.failure.count('certificate')} certificate-limited; every connected string "
        f"proven below 1.1 L0 between its grid points), "
        f"normalized length {np.nanmean([r[9] for r in rows]):.3f}, beads "
        f"{np.mean([r[6] for r in rows]):.1f}, {res.seconds:.1f} s")
    return rows, tr.params


def summarize(rows):
    """Means, s.d., min and max over the connected pairs of each level (the length of a string
    that did not connect is not a geodesic length)."""
    col = {f: k for k, f in enumerate(ROW_FIELDS)}
    keys = []
    for r in rows:
        k = (r[0], r[1], float(r[2]))
        if k not in keys:
            keys.append(k)
    out = []
    for task, model, L0 in keys:
        sel = [r for r in rows if r[0] == task and r[1] == model and float(r[2]) == L0]
        con = np.array([str(r[col["connected"]]) == "True" for r in sel])
        fail = [r[col["failure"]] for r in sel]
        nl = np.array([float(r[col["normalized_length_weights"]]) for r in sel])[con]
        nla = np.array([float(r[col["normalized_length"]]) for r in sel])[con]
        nb = np.array([float(r[col["beads"]]) for r in sel])[con]
        tm = np.array([float(r[col["test_max_loss"]]) for r in sel])[con]
        c = con.any()

        def st(v, f):
            return f(v) if c else float("nan")

        out.append([task, model, L0, len(sel), int(con.sum()), fail.count("budget"),
                    fail.count("depth"), st(nl, np.mean), st(nl, np.std), st(nl, np.min),
                    st(nl, np.max), st(nb, np.mean), st(nb, np.std), st(nb, np.min),
                    st(nb, np.max), st(nla, np.mean), st(tm, np.mean), st(tm, np.max),
                    max(int(r[col["bead_steps_max"]]) for r in sel),
                    float(sel[0][col["call_seconds"]]),
                    PAPER_VALUES.get(task, {}).get(L0, (np.nan,) * 4)[0],
                    PAPER_VALUES.get(task, {}).get(L0, (np.nan,) * 4)[2],
                    fail.count("certificate"),
                    sum(str(r[col["certified"]]) == "True" for r in sel)])
    return out


def footer_text(args):
    """Provenance of a run, printed below its figure."""
    return (f"settings (authors' code, github.com/danielfreeman11/convex-nets): 1-4-4-1 sigmoid "
            "models (quadratic: no biases, sigmoid output; cubic: biases, linear output), L1 "
            f"loss, Adam lr {args.lr:g}, DSS beads to 0.95 L0, gaps below 1.1 L0, "
            f"{args.n_points} points, depth {args.max_depth}; ours: {args.n_samples} training "
            f"points (one set per task), {args.test_samples} test points, {args.pairs} pairs "
            f"per level, seed {args.seed}, float64.\n"
            "differs from the paper: the authors draw a fresh 10,000-point set per model and bead "
            "and stop beads on a test set (measured: +0.2-0.3 normalized length in the cubic "
            "0.158-0.164 window), in float32 (no effect measured); see "
            "docs/guide/freeman_bruna.md.")


def plot(summary, path, footer=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for row, task in enumerate(("quadratic", "cubic")):
        sel = sorted([s for s in summary if s[0] == task and s[4] > 0], key=lambda s: s[2])
        if not sel:
            axes[row, 0].set_visible(False)
            axes[row, 1].set_visible(False)
            continue
        L0 = np.array([s[2] for s in sel])
        for ax, i, name in ((axes[row, 0], 7, "normalized length (weights)"),
                            (axes[row, 1], 11, "beads (endpoints included)")):
            mean = np.array([s[i] for s in sel])
            lo, hi = np.array([s[i + 2] for s in sel]), np.array([s[i + 3] for s in sel])
            ax.errorbar(L0, mean, yerr=[s[i + 1] for s in sel], fmt="-o", capsize=3,
                        label="mean ± s.d.")
            ax.fill_between(L0, lo, hi, alpha=0.2, label="min-max")
            paper = sorted(PAPER_VALUES[task].items())
            j = 0 if i == 7 else 2
            ax.errorbar([p[0] for p in paper], [p[1][j] for p in paper],
                        yerr=[p[1][j + 1] for p in paper], fmt="s", ms=3, color="0.4",
                        capsize=2, label="paper (digitized)")
            for s in sel:
                if s[4] < s[3]:
                    ax.annotate(f"{s[4]}/{s[3]}", (s[2], s[i]), fontsize=7,
                                textcoords="offset points", xytext=(4, -10))
            ax.set_xscale("log")
            ax.invert_xaxis()
            ax.set_xlabel("loss level L0 (L1)")
            ax.set_ylabel(name)
            ax.set_title(f"{task} ({'sigmoid output, no biases' if task == 'quadratic' else 'biases, linear output'})",
                         fontsize=9)
        axes[row, 1].set_yscale("log")
        axes[row, 0].legend(fontsize=7)
    fig.suptitle("Dynamic String Sampling, the authors' 1-4-4-1 models (Freeman & Bruna, "
                 "Fig. 2): connected pairs; k/n where not all connected", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path, footer=footer)


def main(argv=None):
    args = build_parser().parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "force", "no_plot",
                                                                   "quiet")}
    try:
        with OutputFolder(args.out, command="dss_polynomial", settings=settings,
                          force=args.force) as folder:
            rows_path = folder.path("dss_polynomial.csv")
            rows = _read_rows(rows_path) if folder.exists("dss_polynomial.csv") else []
            done = {(r[0], float(r[2])) for r in rows}
            for task in args.tasks:
                arch = authors_model(task)
                ds = polynomial_regression(task, n_samples=args.n_samples, seed=args.seed)
                te = polynomial_regression(task, n_samples=args.test_samples,
                                           seed=args.seed + 1000)
                land = Landscape(arch, ds.X, ds.y, "l1")
                test = Landscape(arch, te.X, te.y, "l1")
                log(f"{task}: {arch.summary()}")
                n = 2 * args.pairs + args.spare
                theta = None
                for k, L0 in enumerate(sorted(_levels(task, args), reverse=True)):
                    if args.endpoints == "independent" or theta is None:
                        # the same seed slot for every task: a run of one task draws the
                        # endpoints a run of both draws (the tables ran one task per process)
                        theta = authors_init(arch, n, seed=[args.seed, 0, k])
                    if (task, L0) in done:
                        log(f"  {task} L0={L0:g}: done in an earlier run")
                        continue
                    new, trained = run_level(task, arch, land, test, L0, theta, args, folder,
                                             log)
                    if args.endpoints == "continue":
                        theta = trained
                    rows += new
                    write_csv(rows_path, ROW_FIELDS, rows)
            write_csv(rows_path, ROW_FIELDS, rows)
            summary = summarize(rows)
            sum_path = folder.path("dss_polynomial_summary.csv")
            write_csv(sum_path, SUMMARY_FIELDS, summary)
            print(f"wrote {rows_path}")
            print(f"wrote {sum_path}")
            print(f"wrote {folder.path('strings')}/ ({len(rows)} strings)")
            if not args.no_plot:
                try:
                    png = plot(summary, folder.path("dss_polynomial.png"), footer_text(args))
                    print(f"wrote {png}")
                except ImportError:
                    print("matplotlib not installed: no figure")
    except TopoAnalysisError as exc:
        print(f"dss_polynomial: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
