"""Gradient-flow rows: the compiled flow against a GD step, the Python flow, SciPy's
``solve_ivp`` on the same problem, the GD run reaching the same time and the GD steps
reaching the same loss, plus the gain of kink events (``run.py`` includes them via
:func:`run`).

Usage::

    python benchmarks/flow.py              # about 2 minutes on 2 cores
    python benchmarks/flow.py --quick      # smoke run
    python benchmarks/flow.py --out benchmarks/results   # also writes flow.md there

Workloads:

- **target**: the benchmark target of ``run.py`` (breast cancer training split 455 x 30, BCE
  with logits, one hidden layer l = 6 with biases, B = 100 networks) at rtol 1e-4, atol 1e-7:
  timed per evaluation to ``t = 2``, and to ``t = 20`` against GD lr = 0.1 for 200 steps.
- **saddle**: the 50-neuron saddle-to-saddle network of ``scripts/saddle_to_saddle.py`` (Wu et
  al.'s 5 points, squared loss, no biases, σ = 50^-3, B = 100 seeds) at rtol 1e-4, atol 1e-8:
  timed per evaluation to ``t = 600`` (the paper's horizon), and to ``t = 100`` against GD
  lr = 1e-3 for 100,000 steps.

Every time is a median over ``--repeat`` runs taken in alternation (GD, compiled flow, Python
flow, ...), with the spread (min-max). "Per evaluation" divides a flow's wall time by its
gradient evaluations (over all networks), and a GD run's by its network-steps; the flows
record only at 0 and ``t_end`` there, so loss-only evaluations do not count.
"""

import argparse
import gc
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import topoanalysis  # noqa: F401
except ImportError:  # running from a source checkout without installation
    sys.path.insert(0, os.path.dirname(HERE))

from common import architecture, cpu_name, initial_params, load_workload  # noqa: E402

from topoanalysis import Architecture  # noqa: E402
from topoanalysis.datasets import wu_five_point_regression  # noqa: E402
from topoanalysis.dynamics import _engine, batch_loss_and_gradient, gradient_flow  # noqa: E402
from topoanalysis.dynamics import train  # noqa: E402
from topoanalysis.init import init_params  # noqa: E402


def workloads(B):
    X, y, _ = load_workload()
    arch = architecture((6,))
    wu = wu_five_point_regression()
    arch2 = Architecture(wu.X.shape[1], (50,), 1, hidden_bias=False, output_bias=False)
    # t_eval / steps_eval: the runs timed per evaluation and per step; lr, steps: the GD run
    # and the flow to the same time t = lr * steps
    return [
        dict(name="target l=6", arch=arch, theta=initial_params(arch, B), X=X, y=y,
             loss="bce", lr=0.1, steps=200, rtol=1e-4, atol=1e-7, t_eval=2.0, steps_eval=200),
        dict(name="saddle 50 neurons", arch=arch2,
             theta=init_params(arch2, "normal", seed=0, std=50 ** -3.0, n_networks=B),
             X=wu.X, y=wu.y, loss="mse", lr=1e-3, steps=100000, rtol=1e-4, atol=1e-8,
             t_eval=600.0, steps_eval=5000),
    ]


def timed(fn):
    gc.collect()
    time.sleep(0.05)
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def med(xs):
    xs = np.asarray(xs)
    return f"{np.median(xs):.3g} ({xs.min():.3g}-{xs.max():.3g})"


def per_evaluation(w, repeat, python):
    """GD step vs flow evaluation, alternating; returns table rows."""
    t_end, steps = w["t_eval"], w["steps_eval"]
    B = w["theta"].shape[0]
    kw = dict(arch=w["arch"], loss=w["loss"], t_end=t_end, rtol=w["rtol"], atol=w["atol"],
              record_times=[0.0, t_end], record_conserved=False, progress=False)

    def gd():
        return train(w["theta"], w["X"], w["y"], arch=w["arch"], loss=w["loss"], lr=w["lr"],
                     steps=steps, record_every=steps, record_conserved=False, progress=False)

    runs = {"gd": [], "compiled": [], "python": []}
    for i in range(repeat):
        s, _ = timed(gd)
        runs["gd"].append(s / (B * steps))
        for m in ("compiled", "python") if python and i < 2 else ("compiled",):
            s, r = timed(lambda m=m: gradient_flow(w["theta"], w["X"], w["y"], method=m, **kw))
            runs[m].append(s / r.n_evaluations.sum())
    ratio = np.array(runs["compiled"]) / np.array(runs["gd"])
    rows = [(w["name"], "GD step (per network-step)", med(np.array(runs["gd"]) * 1e6), "1"),
            (w["name"], f"compiled flow to t={t_end:g} (per evaluation)",
             med(np.array(runs["compiled"]) * 1e6), med(ratio))]
    if runs["python"]:
        rows.append((w["name"], "Python flow (per evaluation)",
                     med(np.array(runs["python"]) * 1e6),
                     f"{np.median(runs['python']) / np.median(runs['gd']):.3g}"))
    return rows


def flow_vs_gd_and_scipy(w, repeat, n_scipy):
    """Wall time and evaluations to the same time t_end: GD, the compiled flow, SciPy."""
    from scipy.integrate import solve_ivp

    t_end = w["lr"] * w["steps"]
    B = w["theta"].shape[0]
    rows = []
    t_gd, t_fl = [], []
    kw = dict(arch=w["arch"], loss=w["loss"], t_end=t_end, rtol=w["rtol"], atol=w["atol"],
              record_times=[0.0, t_end], record_conserved=False, progress=False)
    for _ in range(repeat):
        s, gd = timed(lambda: train(w["theta"], w["X"], w["y"], arch=w["arch"], loss=w["loss"],
                                    lr=w["lr"], steps=w["steps"], record_every=w["steps"],
                                    record_conserved=False, progress=False))
        t_gd.append(s)
        s, fl = timed(lambda: gradient_flow(w["theta"], w["X"], w["y"], **kw))
        t_fl.append(s)
    gap = np.abs(gd.final_loss - fl.final_loss).max()
    rows.append((w["name"], f"GD lr={w['lr']:g}, {w['steps']} steps, {B} networks",
                 med(t_gd), f"{B * w['steps']}", "-"))
    rows.append((w["name"], f"compiled flow to t={t_end:g} (rtol {w['rtol']:g})", med(t_fl),
                 f"{fl.n_evaluations.sum()}", f"{gap:.2g}"))
    # SciPy RK45 (Dormand-Prince, same tolerances) on the engine's gradient, network by network
    arch, X, y, loss = w["arch"], w["X"], w["y"], w["loss"]

    def rhs(_, p):
        return -batch_loss_and_gradient(p, X, y, arch=arch, loss=loss, n_threads=1)[1][0]

    t_sp, n_sp, gaps = [], 0, []
    for b in range(n_scipy):
        s, sol = timed(lambda b=b: solve_ivp(rhs, (0.0, t_end), w["theta"][b], method="RK45",
                                             rtol=w["rtol"], atol=w["atol"]))
        t_sp.append(s)
        n_sp += sol.nfev
        gaps.append(np.abs(sol.y[:, -1] - fl.params[b]).max())
    rows.append((w["name"], f"SciPy solve_ivp RK45, {n_scipy} networks, x{B // n_scipy} "
                 "to scale", f"{np.sum(t_sp) * B / n_scipy:.3g}",
                 f"{n_sp * B // n_scipy}", f"params {max(gaps):.2g}"))
    return rows


def gd_to_same_loss(w, n_max=4):
    """GD steps (and their wall time) until each network's loss first reaches the compiled
    flow's final loss at ``t_end = lr · steps`` (GD run for up to ``n_max · steps`` steps,
    the loss recorded every step); the flow's evaluations beside them."""
    t_end = w["lr"] * w["steps"]
    B = w["theta"].shape[0]
    s_fl, fl = timed(lambda: gradient_flow(
        w["theta"], w["X"], w["y"], arch=w["arch"], loss=w["loss"], t_end=t_end,
        rtol=w["rtol"], atol=w["atol"], record_times=[0.0, t_end], record_conserved=False,
        progress=False))
    n = n_max * w["steps"]
    s_gd, gd = timed(lambda: train(w["theta"], w["X"], w["y"], arch=w["arch"], loss=w["loss"],
                                   lr=w["lr"], steps=n, record_every=1, record_conserved=False,
                                   progress=False))
    curve = gd.loss[:, :n + 1]
    reached = curve <= fl.final_loss[:, None]
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    ok = first >= 0
    steps = first[ok]
    per_step = s_gd / (B * n)
    return [(w["name"], f"{int(ok.sum())} of {B}",
             f"{np.median(steps):.0f} ({steps.min()}-{steps.max()})" if ok.any() else "-",
             f"{per_step * steps.sum():.3g}" if ok.any() else "-",
             f"{fl.n_evaluations.sum() / B:.0f}", f"{s_fl:.3g}")]


def kink_gain(w, tols, B):
    """Evaluations and wall time with and without kink events at several tolerances."""
    t_end = w["lr"] * w["steps"]
    rows = []
    for tol in tols:
        out = []
        for ev in (False, True):
            s, r = timed(lambda ev=ev: gradient_flow(
                w["theta"][:B], w["X"], w["y"], arch=w["arch"], loss=w["loss"], t_end=t_end,
                rtol=tol, atol=tol * 1e-3, record_times=[0.0, t_end], record_conserved=False,
                progress=False, kink_events=ev))
            out.append((s, r))
        (s0, r0), (s1, r1) = out
        rows.append((w["name"], f"{tol:g}", f"{r0.n_evaluations.sum()}",
                     f"{r1.n_evaluations.sum()}", f"{r1.kink_events.sum()}",
                     f"{r1.sliding_kinks.sum()}", f"{s0:.3g}", f"{s1:.3g}",
                     f"{np.abs(r0.final_loss - r1.final_loss).max():.2g}"))
    return rows


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def run(quick=False, repeat=None, kinks=True):
    """All the flow rows as Markdown text (``run.py`` calls this for its flow section)."""
    repeat = repeat or (3 if quick else 7)
    B = 20 if quick else 100
    eng = _engine.kernels()
    head = (f"CPU: {cpu_name()}; {_engine.resolve_threads(None)} threads; engine clone "
            f"{eng.CLONES[eng.current_clone()]}; medians of {repeat} alternating runs "
            "(min-max)")
    print(head, flush=True)
    out = [head, ""]
    ws = workloads(B)
    rows, cmp_rows, gain_rows, loss_rows = [], [], [], []
    for w in ws:
        if quick:
            w["steps"] //= 10
            w["t_eval"] /= 10
        r = per_evaluation(w, repeat, python=True)
        rows += r
        cmp_rows += flow_vs_gd_and_scipy(w, max(1, repeat // 2), 2 if quick else 5)
        loss_rows += gd_to_same_loss(w)
        print(table(("workload", "what", "µs", "flow / GD"), r), flush=True)
    tols = (1e-4, 1e-6) if quick else (1e-4, 1e-5, 1e-6, 1e-7)
    if kinks:
        for w in ws:
            gain_rows += kink_gain(w, tols, 10)
            print(gain_rows[-1], flush=True)
    out += ["Wall time per gradient evaluation (flow) and per network-step (GD):", "",
            table(("workload", "what", "µs", "flow / GD"), rows), "",
            "To the same time t_end = lr · steps (loss gap: largest |final loss GD − flow|):",
            "", table(("workload", "run", "seconds", "gradient evaluations", "gap"), cmp_rows),
            "", "GD to the flow's final loss at t_end (per network; GD up to 4x the steps):",
            "", table(("workload", "networks reaching it", "GD steps median (min-max)",
                       "GD seconds (all networks)", "flow evaluations per network",
                       "flow seconds (all networks)"), loss_rows)]
    if gain_rows:
        out += ["", "Kink events (10 networks): gradient evaluations and seconds without / "
                "with", "", table(("workload", "rtol", "evals", "evals (events)", "events",
                                   "sliding", "s", "s (events)", "final loss gap"), gain_rows)]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--no-kinks", action="store_true", help="skip the kink-event rows")
    ap.add_argument("--out", default=None, help="folder for flow.md")
    args = ap.parse_args(argv)
    text = run(args.quick, args.repeat, kinks=not args.no_kinks)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "flow-quick.md" if args.quick else "flow.md"),
                  "w") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
