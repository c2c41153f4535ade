"""The main job: ``topoanalysis analyze`` on its embedded default.

Shallow ReLU networks on the bundled breast cancer data (30 inputs, ``l`` hidden neurons with
biases, one output, BCE). For each seed the job takes the initialization and, beside it, the
*same function* rescaled so that every neuron is pathological (``c_k < 0``, the obstructed
twin: :func:`topoanalysis.obstruction.set_pathological_count` with ``l_+ = 0``). For every
network it reports the conserved quantities, ``l_+``/``l_−``, the component of ``H(c)``, the
numbers of components and effective components and the Betti numbers; the probabilities of
obstruction at initialization for the architecture; and, after full-batch gradient descent with
the compiled engine, the reached train/test loss, whether the trained network stayed in its
component, the drift of ``c_k``, and the loss barrier on the segment between each network and
its obstructed twin (two trained networks in different components).

The report is printed as text and written as ``report.json`` (plus ``analysis.png`` when
matplotlib is installed) into ``out``, and as one self-contained ``report.html`` (every section,
verdict and figure, slices of the landscape around a trained network and its twin;
:mod:`topoanalysis.report`).
"""

import contextlib
import dataclasses
import os
import time

import numpy as np

from ._files import FileError
from ._validation import check_choice, check_float, check_int

__all__ = ["AnalysisReport", "analyze"]

_EVENTS = ("per_neuron", "all_pathological", "obstructed", "disconnected",
           "expected_components", "expected_effective_components")


@dataclasses.dataclass(frozen=True)
class AnalysisReport:
    """Result of :func:`analyze` (``to_dict()`` is what ``report.json`` holds)."""

    config: dict
    probabilities: dict
    networks: list
    pairs: list
    seconds: float
    files: list = dataclasses.field(default_factory=list)
    degeneracy: object = None
    aligned: object = None  # levelsets.AlignedBarriers of the (network, twin) pairs
    critical: object = None
    laws: object = None  # conservation laws of the architecture (symbolic.conservation_laws)

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"json_null": "NaN and ±inf are written as null",
                "config": self.config, "probabilities": self.probabilities,
                "networks": self.networks, "pairs": self.pairs, "seconds": self.seconds,
                "files": self.files,
                "aligned_barriers": None if self.aligned is None else
                dict(seeds=[p["seed"] for p in self.pairs], **self.aligned.to_dict()),
                "degeneracy": None if self.degeneracy is None else self.degeneracy.to_dict(),
                "critical": self.critical,
                "conservation_laws": None if self.laws is None else
                {k: v for k, v in self.laws.items() if k != "text"}}

    def summary(self):
        """The report as text (same as :meth:`text`).

        Returns
        -------
        str
            Lines of text.
        """
        return self.text()

    def text(self):
        """The report as text.

        Returns
        -------
        str
            Lines of text.
        """
        c = self.config
        lines = [
            f"topoanalysis analyze: breast cancer ({c['n_train']} train / {c['n_test']} test), "
            f"d={c['inputs']}, l={c['width']}, e=1, ReLU with biases, init {c['scheme']}, "
            f"{c['seeds']} seeds",
            "",
            "Obstruction at initialization for this architecture and scheme (zero biases):",
        ]
        for name, value in self.probabilities.items():
            lines.append(f"  {name:34s} {value:.6g}")
        lines += ["", "Networks (twin = same function, every neuron rescaled to c_k < 0):"]
        head = (f"  {'seed':>4} {'kind':>8} {'l+':>3} {'l-':>3} {'b0(H)':>6} {'eff':>4} "
                f"{'component':>12}")
        if c["train"]:
            head += f" {'train BCE':>10} {'test BCE':>9} {'test acc':>8} {'stayed':>6} {'max|dc|':>9}"
        lines.append(head)
        for n in self.networks:
            comp = "".join("+" if s > 0 else "-" for s in n["component"]) or "()"
            row = (f"  {n['seed']:>4} {n['kind']:>8} {n['l_plus']:>3} {n['l_minus']:>3} "
                   f"{n['n_components']:>6} {n['n_effective_components']:>4} {comp:>12}")
            if c["train"]:
                if n["diverged"]:
                    row += "   diverged"
                else:
                    row += (f" {n['train_loss']:>10.4f} {n['test_loss']:>9.4f} "
                            f"{n['test_accuracy']:>8.3f} {str(n['stayed_in_component']):>6} "
                            f"{n['max_abs_drift']:>9.2e}")
            lines.append(row)
        if self.pairs:
            lines += ["", "Loss barrier (train BCE) on the segment between each trained network "
                          "and its trained obstructed twin:"]
            for p in self.pairs:
                lines.append(f"  seed {p['seed']:>3}: barrier {p['barrier']:.4f} at t={p['t_max']:.2f}"
                             f" (midpoint {p['midpoint']:.4f}; loss on the segment at most "
                             f"{p.get('max_loss_bound', float('nan')):.4f})")
            b = np.array([p["barrier"] for p in self.pairs])
            lines.append(f"  mean barrier {b.mean():.4f}, max {b.max():.4f}")
        if self.aligned is not None:
            lines += ["", "Aligned barrier (balance + weight matching) beside the linear one:"]
            lines += self.aligned.summary([f"seed {p['seed']:>3}" for p in self.pairs]).splitlines()[1:]
        if self.degeneracy is not None:
            lines += ["", self.degeneracy.summary()]
        if self.critical:
            lines += ["", self.critical["text"]]
        if self.laws:
            lines += ["", self.laws["text"]]
        lines.append("")
        lines.append(f"done in {self.seconds:.1f} s" + "".join(f"\nwrote {f}" for f in self.files))
        return "\n".join(lines)


def analyze(*, hidden=6, seeds=8, scheme="kaiming_normal", steps=2000, lr=0.05, train=True,
            out="topoanalysis_analyze", progress=True, n_points=51, data_seed=0, n_threads=None,
            std=None):
    """Run the main analysis (see the module docstring) and write ``report.json`` to ``out``.

    Parameters
    ----------
    hidden : int, default=6
        Hidden width ``l``.
    seeds : int, default=8
        Number of initializations (network ``i`` uses the seed stream ``(0, i)``).
    scheme : str, default="kaiming_normal"
        Initialization scheme (zero biases).
    steps : int, default=2000
        Full-batch gradient-descent steps.
    lr : float, default=0.05
        Learning rate.
    train : bool, default=True
        Train the networks and measure barriers.
    out : str or None
        Folder for ``report.json`` and ``analysis.png``; ``None`` writes nothing.
    progress : bool, default=True
        Progress bars.
    n_points : int, default=51
        Points on each segment for the barriers.
    data_seed : int, default=0
        Seed of the train/test split of the bundled breast cancer data.
    n_threads : int, optional
        Engine threads (default: all cores).
    std : float, optional
        Weight standard deviation for ``scheme="normal"``, between ``1e-100`` and ``1e100``
        (ignored, and recorded as ``None``, for the other schemes). The sections certify in
        float64: networks that initialization or training (a large ``std`` or ``lr``) carries
        past that range (outputs beyond about ``1e140``, parameters beyond ``1e154``) are
        refused with one line naming ``lr`` and ``std``.

    Returns
    -------
    AnalysisReport
        Configuration, pathological-neuron probabilities, the trained networks, their pairwise
        barriers and the degeneracy, critical-point and conservation-law sections (what
        ``report.json`` holds), with the files written.

    Notes
    -----
    Training checkpoints into ``out`` (``checkpoint.npz``, removed once every output is
    written), so an interrupted call resumes; every file is written atomically, and
    ``report.json`` is strict JSON (non-finite values as ``null``).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1, Figures 4 and 5.
    """
    from .datasets import load_breast_cancer
    from .init import init_params
    from .network import Architecture, Network
    from .obstruction.experiment import set_pathological_count
    from .obstruction.probability import obstruction_probability
    from .obstruction.topology import network_topology

    hidden = check_int("hidden", hidden, minimum=1, maximum=64)
    seeds = check_int("seeds", seeds, minimum=1, maximum=10_000)
    steps = check_int("steps", steps, minimum=1)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    n_points = check_int("n_points", n_points, minimum=3)
    from .init import SCHEMES

    scheme = check_choice("scheme", scheme, SCHEMES)   # the canonical name in report.json
    if std is not None:
        # the sections decide signs of c_k = |a_k|^2 - ||w_k||^2 and certify verdicts in
        # float64: weights far below 1e-100 underflow there, far above 1e100 overflow
        std = check_float("std", std, minimum=1e-100, maximum=1e100)
    t0 = time.perf_counter()
    data = load_breast_cancer(seed=data_seed)
    d = data.X_train.shape[1]
    arch = Architecture(d, (hidden,), 1)
    theta = init_params(arch, scheme, seed=0, n_networks=seeds, std=std)
    twins = set_pathological_count(arch, theta, 0)
    stack = np.concatenate([theta, twins])             # rows 0..S-1 natural, S..2S-1 twins
    kinds = ["init"] * seeds + ["twin"] * seeds

    probabilities = {}
    for event in _EVENTS:
        probabilities[event] = float(obstruction_probability(d, hidden, 1, scheme, event=event,
                                                             hidden_bias=True, bias_init="zeros",
                                                             std=std))

    networks = []
    for i in range(2 * seeds):
        topo = network_topology(Network(arch, stack[i]))
        networks.append({
            "seed": i % seeds, "kind": kinds[i],
            "conserved_quantities": topo.conserved_quantities.tolist(),
            "l_plus": topo.l_plus + topo.l_zero, "l_minus": topo.l_minus,
            "component": [int(s) for s in topo.component],
            "n_components": int(topo.n_components),
            "n_effective_components": int(topo.n_effective_components),
            "betti_numbers": [int(b) for b in topo.betti_numbers],
            "poincare_polynomial": str(topo.poincare_polynomial.as_expr()),
        })

    pairs, aligned, critical = [], None, None
    checkpoint = None
    if out is not None:
        from .io import check_output_file

        checkpoint = check_output_file(os.path.join(out, "checkpoint.npz"), "out")
    if train:
        from .dynamics import interpolation_barrier, train as train_networks
        from .losses import accuracy, loss_value
        from .network import conserved_quantities, forward

        res = train_networks(stack, data.X_train, data.y_train, arch=arch, loss="bce", optimizer="gd",
                             lr=lr, steps=steps, record_every=max(steps // 100, 1),
                             n_threads=n_threads, progress=progress, checkpoint=checkpoint,
                             remove_checkpoint=False)
        curves = res
        final = res.params
        with _trained_in_range(lr, std):
            out_test = forward(arch, final, data.X_test)
            test_loss = loss_value("bce", out_test, data.y_test)
            test_acc = accuracy(out_test, data.y_test, "bce")
            c0 = conserved_quantities(arch, stack)
            c1 = conserved_quantities(arch, final)
            (_, _), (W2_0, _) = arch.unpack(stack)
            (_, _), (W2_1, _) = arch.unpack(final)
            for i, n in enumerate(networks):
                frozen = c0[i] < 0
                stayed = bool(np.all(np.sign(W2_1[i, 0, frozen]) == np.sign(W2_0[i, 0, frozen]))
                              and np.all(c1[i, frozen] < 0))
                n.update({
                    "diverged": bool(res.diverged[i]),
                    "train_loss": float(res.final_loss[i]),
                    "test_loss": float(test_loss[i]),
                    "test_accuracy": float(test_acc[i]),
                    "stayed_in_component": stayed,
                    "max_abs_drift": float(np.max(np.abs(c1[i] - c0[i]))),
                })
            ok = ~res.diverged
            idx = [i for i in range(seeds) if ok[i] and ok[seeds + i]]
            if idx:
                bar = interpolation_barrier(final[idx], final[[seeds + i for i in idx]],
                                            data.X_train, data.y_train, arch=arch, loss="bce",
                                            n_points=n_points,
                                            n_threads=n_threads)
                from .levelsets import segment_loss_bounds
                for j, i in enumerate(idx):
                    # the grid's highest loss, and a bound of the loss between the grid points
                    sb = segment_loss_bounds(final[i], final[seeds + i], data.X_train, data.y_train,
                                             arch=arch, loss="bce", n_points=n_points)
                    pairs.append({"seed": i, "barrier": float(bar.barrier[j]),
                                  "t_max": float(bar.t_barrier[j]), "midpoint": float(bar.midpoint[j]),
                                  "mean": float(bar.mean[j]), "max_loss_grid": sb.grid_max,
                                  "max_loss_bound": sb.max_upper})
                from .levelsets import aligned_barriers
                aligned = aligned_barriers(final[idx], final[[seeds + i for i in idx]], data.X_train,
                                           data.y_train, arch=arch, loss="bce", n_points=n_points,
                                           n_threads=n_threads)
            from .critical import classify_trained   # snap, then certify each trained network
            crit = classify_trained(arch, final, data.X_train, data.y_train, loss="bce",
                                    labels=[f"{kinds[i]} {i % seeds}" for i in range(2 * seeds)])
            critical = {**crit.to_dict(), "text": crit.summary()}

    from .degeneracy import stability_of_networks
    trained = final if train else stack
    with _trained_in_range(lr if train else None, std):
        degeneracy = stability_of_networks(
            [Network(arch, trained[i]) for i in range(2 * seeds)],
            [f"{'trained ' if train else ''}{k} {i % seeds}" for i, k in enumerate(kinds)],
            X=data.X_train)

    laws = _conservation_laws_section(arch)
    report = AnalysisReport(
        config={"dataset": "breast_cancer", "n_train": int(data.X_train.shape[0]),
                "n_test": int(data.X_test.shape[0]), "inputs": d, "width": hidden,
                "scheme": scheme, "seeds": seeds,
                "std": std if scheme == "normal" else None,   # other schemes ignore it
                "steps": steps, "lr": lr, "train": bool(train),
                "optimizer": "gd", "loss": "bce", "n_points": n_points},
        probabilities=probabilities, networks=networks, pairs=pairs,
        seconds=time.perf_counter() - t0, aligned=aligned, degeneracy=degeneracy, critical=critical,
        laws=laws,
    )
    if out is not None:
        from .io import write_json

        path = write_json(os.path.join(out, "report.json"), report.to_dict(), "out")
        report.files.append(path)
        if train:
            png = _figure(curves, seeds, pairs, out)
            if png:
                report.files.append(png)
        from .report import landscape_figures, write_report_html   # one self-contained page

        figs = [("training", "Training curves and barriers.", f) for f in report.files
                if str(f).endswith(".png")]
        if train and pairs:
            i = pairs[0]["seed"]
            figs += [("landscape", cap, png) for cap, png in landscape_figures(
                arch, data.X_train, data.y_train, "bce", final[i], final[seeds + i],
                labels=(f"trained network {i}", f"its trained twin"))]
        report.files.append(os.path.join(out, "report.html"))
        write_report_html(report, os.path.join(out, "report.html"), figs)
        if os.path.exists(checkpoint):  # every output is written: only now may it go
            os.remove(checkpoint)
    return report


@contextlib.contextmanager
def _trained_in_range(lr, std):
    """Re-raise the refusal of a section (critical points, degeneracies, ``c_k``) whose
    networks left the float64 range it certifies -- parameters grown by a large ``lr`` or a
    large ``std`` -- as one line that names the arguments to change."""
    from .exceptions import ValidationError

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            yield
    except ValidationError as exc:
        if isinstance(exc, FileError):
            raise
        got = ", ".join(f"{k}={v:g}" for k, v in (("lr", lr), ("std", std)) if v is not None)
        what = " and ".join(f"`{k}`" for k, v in (("lr", lr), ("std", std)) if v is not None)
        what = what or "the initialization scale (`scheme`)"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(
            f"{what} must keep the {'trained ' if lr is not None else ''}networks within the "
            f"range the analysis certifies in float64; got {got or 'the default scale'}, and "
            f"then: {reason} Reduce {what.replace(' and ', ' or ')}.") from None


def _conservation_laws_section(arch):
    """Count and completeness of the conservation laws of the analyzed architecture (its
    widths, activation and biases, read off ``arch`` so that they cannot drift apart)."""
    from .exceptions import NotSupportedError
    from .symbolic import conservation_laws

    try:
        res = conservation_laws(arch.inputs, arch.hidden, arch.outputs,
                                activation=arch.activation, hidden_bias=arch.hidden_bias,
                                output_bias=arch.output_bias,
                                negative_slope=arch.negative_slope)
    except NotSupportedError as exc:
        return {"count": None, "complete": None, "text": f"Conservation laws: {exc}"}
    # shallow and positively homogeneous: the laws are the neurons' c_k -- unless leaky_relu
    # with slope 1 is linear, or one input without hidden bias leaves a region with more laws
    balance = (len(arch.hidden) == 1 and arch.activation in ("relu", "leaky_relu", "abs")
               and res.count == arch.hidden[0])
    what = "the c_k are all of them" if balance else "there are no others"
    region = ("" if res.input_signs is None else " in the activation region sign(w) = "
              + "".join("+" if s > 0 else "-" for s in res.input_signs))
    text = (f"Conservation laws of gradient flow ({res.architecture}{region}): {res.count} independent "
            f"(D = {res.n_params}, dim Lie = {res.lie_dimension}); {res.n_found} found, "
            + (f"complete: {what}" if res.complete else "not complete")
            + f" ({res.seconds:.2f} s)")
    return {"count": res.count, "n_found": res.n_found, "complete": res.complete,
            "dim_lie": res.lie_dimension, "n_params": res.n_params, "text": text}


def _figure(res, seeds, pairs, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i in range(2 * seeds):
        axes[0].plot(res.record_steps, res.loss[i], color="tab:blue" if i < seeds else "tab:red",
                     alpha=0.6, lw=1, label=(None if i % seeds else
                                             ("initialization" if i < seeds else "obstructed twin")))
    axes[0].set_yscale("log")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("train BCE")
    axes[0].legend()
    axes[0].set_title("Training: same initial functions, different components")
    if pairs:
        axes[1].bar([p["seed"] for p in pairs], [p["barrier"] for p in pairs], color="tab:purple")
    axes[1].set_xlabel("seed")
    axes[1].set_ylabel("barrier (train BCE)")
    axes[1].set_title("Barrier between trained network and trained twin")
    fig.tight_layout()
    from .io import save_figure

    return save_figure(fig, os.path.join(out, "analysis.png"), dpi=100)
