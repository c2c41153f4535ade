"""One self-contained HTML page for ``topoanalysis analyze``: ``report.html``.

Every section of the analysis with its numbers, verdicts and reasons, every figure embedded as
a base64 PNG, a contents list, inline styles — no script, no stylesheet, no image or font from
anywhere else: the file reads the same offline, attached to an e-mail or years later.

:func:`write_report_html` takes an :class:`~topoanalysis.analyze.AnalysisReport` (and,
optionally, the trained networks, to draw slices of the landscape around them).
"""

import base64
import html
import io
import math
import os
import re

import numpy as np

__all__ = ["report_html", "write_report_html", "landscape_figures"]

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #446;padding-bottom:.2em}
h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccd}
nav ol{columns:2}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccd;padding:.2em .5em;text-align:right;vertical-align:top}
th{background:#eef}
td.l,th.l{text-align:left}
pre{background:#f6f6fa;padding:.6em;overflow-x:auto;font-size:.85em}
figure{margin:1em 0}
figcaption{font-size:.88em;color:#555}
img{max-width:100%}
.verdict{font-weight:600}
.note{color:#555;font-size:.9em}
"""


def _esc(x):
    """``x`` as HTML text: escaped, and valid UTF-8 (the lone surrogates Python decodes the
    undecodable bytes of a file name to show as U+FFFD instead of failing the write)."""
    text = _SURROGATES.sub("\ufffd", str(x))
    return html.escape(text, quote=True)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _fmt(v):
    if v is None:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "−inf"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple, np.ndarray)):
        items = list(v)
        if len(items) > 12:
            return "[" + ", ".join(_fmt(x) for x in items[:12]) + f", … ({len(items)})]"
        return "[" + ", ".join(_fmt(x) for x in items) + "]"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items() if x not in (0, None, False))
    return str(v)


def _table(rows, columns=None, headers=None):
    """HTML table of a list of dicts (``columns`` picks and orders the keys)."""
    rows = list(rows)
    if not rows:
        return "<p class='note'>(none)</p>"
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    headers = headers or columns
    out = ["<table><thead><tr>"]
    out += [f"<th class='l'>{_esc(h)}</th>" if i == 0 else f"<th>{_esc(h)}</th>"
            for i, h in enumerate(headers)]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for i, c in enumerate(columns):
            v = r.get(c)
            left = i == 0 or isinstance(v, str)
            cls = " class='l'" if left else ""
            if c in ("verdict",):
                out.append(f"<td{cls}><span class='verdict'>{_esc(_fmt(v))}</span></td>")
            else:
                out.append(f"<td{cls}>{_esc(_fmt(v))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _columns_to_rows(d):
    """``{"labels": [...], "x": [...], ...}`` (parallel lists) -> list of dicts."""
    lists = {k: v for k, v in d.items() if isinstance(v, (list, tuple)) and v is not None}
    if not lists:
        return []
    n = max(len(v) for v in lists.values())
    keys = [k for k, v in lists.items() if len(v) == n]
    return [{k: lists[k][i] for k in keys} for i in range(n)]


def _png_data_uri(data):
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _figure_png(fig, dpi=90):
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def _pre(text):
    return f"<pre>{_esc(text)}</pre>"


def landscape_figures(arch, X, y, loss, theta_a, theta_b, *, n=41, seed=0, labels=("a", "b")):
    """Figures of the landscape around two networks, as ``[(caption, png bytes), ...]``.

    The plane of the segment from ``theta_a`` to ``theta_b`` and a filter-normalized random
    direction, a 2-D random slice around ``theta_a``, and (with gudhi) the persistence
    diagram of that slice; an empty list without matplotlib.

    Parameters
    ----------
    arch : Architecture
        Architecture of both networks.
    X : ndarray of shape (N, d)
        Inputs.
    y : ndarray of shape (N, e)
        Targets.
    loss : str
        Loss name.
    theta_a, theta_b : Network or array_like of shape (P,)
        The two networks.
    n : int, default=41
        Grid points along each direction.
    seed : int, default=0
        Seed of the random directions.
    labels : pair of str, default=("a", "b")
        Names of the two networks in the captions.

    Returns
    -------
    list of (str, bytes)
        Caption and PNG bytes of every figure.

    See Also
    --------
    topoanalysis.levelsets.slices.segment_slice, topoanalysis.levelsets.slices.random_slice,
    topoanalysis.levelsets.persistence.surface_persistence
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
    except ImportError:
        return []
    from .landscape import Landscape
    from .levelsets.slices import random_slice, segment_slice

    land = Landscape(arch, X, y, loss)
    figs = []
    seg = segment_slice(land, theta_a, theta_b, n=n, width=0.5, seed=seed)
    figs.append((f"Loss in the plane of the segment from {labels[0]} (0, 0) to {labels[1]} "
                 f"(1, 0) and a filter-normalized random direction orthogonal to it "
                 f"({seg.summary()}).",
                 _figure_png(seg.plot(title=f"segment {labels[0]} → {labels[1]}"))))
    rs = random_slice(land, theta_a, n=n, seed=seed)
    figs.append((f"Loss around {labels[0]} along two filter-normalized random directions "
                 f"(Li et al. 2018): {rs.summary()}.",
                 _figure_png(rs.plot(title=f"random slice around {labels[0]}"))))
    try:
        from .levelsets.persistence import surface_persistence

        pd = surface_persistence(rs)
        figs.append((f"Sublevel-set persistence of that slice: {pd.summary()}.",
                     _figure_png(pd.plot())))
    except ImportError:
        pass
    return figs


def report_html(report, figures=(), title="topoanalysis analyze"):
    """The HTML text of the report.

    Parameters
    ----------
    report : AnalysisReport
        The report of ``topoanalysis analyze``.
    figures : sequence of (section id, caption, png bytes or path)
        Extra figures; ``section id`` is one of the section ids or ``"landscape"``.
    title : str
        Title of the page.

    Returns
    -------
    str
        A self-contained HTML page (figures embedded as base64 PNG).

    See Also
    --------
    write_report_html, landscape_figures
    """
    d = report.to_dict()
    c = d["config"]
    sections = []   # (id, title, html)

    def figs_of(sid):
        out = []
        for fsid, cap, png in figures:
            if fsid != sid:
                continue
            if isinstance(png, (str, os.PathLike)):
                with open(png, "rb") as fh:
                    png = fh.read()
            out.append(f"<figure><img alt='{_esc(cap)}' src='{_png_data_uri(png)}'>"
                       f"<figcaption>{_esc(cap)}</figcaption></figure>")
        return "".join(out)

    # overview
    overview = [_table([{"setting": k, "value": v} for k, v in c.items()], ["setting", "value"])]
    overview.append(f"<p>Total time {report.seconds:.1f} s.</p>")
    if d.get("critical"):
        counts = d["critical"].get("counts", {})
        overview.append("<p>Critical points of the trained networks: " + _esc(", ".join(
            f"{n} {v}" for v, n in counts.items() if n)) + ".</p>")
    sections.append(("overview", "Overview and settings", "".join(overview)))

    probs = [{"event": k, "probability": v} for k, v in d["probabilities"].items()]
    sections.append(("obstruction", "Obstruction at initialization",
                     "<p>Probabilities for this architecture and initialization scheme "
                     "(zero biases), Nurisso et al.</p>" + _table(probs)))

    nets = []
    for n in d["networks"]:
        row = {"seed": n["seed"], "kind": n["kind"], "l+": n["l_plus"], "l−": n["l_minus"],
               "components b0(H)": n["n_components"],
               "effective": n["n_effective_components"],
               "component": "".join("+" if s > 0 else "−" for s in n["component"]) or "()",
               "Betti numbers": n.get("betti_numbers")}
        if c.get("train"):
            row.update({"diverged": n.get("diverged"), "train loss": n.get("train_loss"),
                        "test loss": n.get("test_loss"), "test accuracy": n.get("test_accuracy"),
                        "stayed in component": n.get("stayed_in_component"),
                        "max |Δc|": n.get("max_abs_drift")})
        nets.append(row)
    sections.append(("networks", "Networks: conserved quantities and components",
                     "<p>Each initialization and its obstructed twin (the same function with "
                     "every neuron rescaled to c<sub>k</sub> &lt; 0). A network stays in its "
                     "component when the signs of its frozen neurons do not change.</p>"
                     + _table(nets)))

    if c.get("train"):
        body = figs_of("training")
        if d["pairs"]:
            body += ("<p>Loss barrier on the segment between each trained network and its "
                     "trained twin (above the chord, Entezari et al. 2022).</p>"
                     + _table(d["pairs"]))
        sections.append(("training", "Training and barriers", body or "<p>(no pairs)</p>"))
    if report.aligned is not None:
        al = d["aligned_barriers"]
        rows = _columns_to_rows(al)
        sections.append(("aligned", "Barriers after symmetry alignment",
                         _pre(report.aligned.summary()) + (_table(rows) if rows else "")))
    if d.get("critical"):
        cr = d["critical"]
        rows = cr.get("networks") or []
        cols = [k for k in ("label", "index", "verdict", "snapped_loss", "moved", "short_reason",
                            "reason") if any(k in r for r in rows)]
        sections.append(("critical", "Critical points: verdicts and reasons",
                         "<p>Every trained network snapped to a nearby kink "
                         "configuration (a heuristic projection that only chooses the "
                         "point) and classified afresh at the snapped parameters from their "
                         "own exact signs; the reason is the statement that decided the "
                         "verdict (and whether its certificates were proved exactly).</p>" + _table(rows, cols or None)
                         + _pre(cr.get("text", ""))))
    if d.get("degeneracy"):
        rows = _columns_to_rows(d["degeneracy"])
        sections.append(("degeneracy", "Degeneracies and canonical forms",
                         _table(rows) + _pre(report.degeneracy.summary())))
    land = figs_of("landscape")
    if land:
        sections.append(("landscape", "Pictures of the landscape", land))
    files = [f for f in d.get("files", [])]
    sections.append(("files", "Files", "<ul>" + "".join(
        f"<li><code>{_esc(os.path.basename(str(f)))}</code></li>" for f in files) + "</ul>"
        + _pre(report.text())))

    head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>")
    nav = ("<nav><h2 id='contents'>Contents</h2><ol>" + "".join(
        f"<li><a href='#{sid}'>{_esc(t)}</a></li>" for sid, t, _ in sections) + "</ol></nav>")
    intro = (f"<h1>{_esc(title)}</h1><p>{_esc(c.get('dataset', ''))}: "
             f"d = {_esc(c.get('inputs'))}, width {_esc(c.get('width'))}, "
             f"{_esc(c.get('seeds'))} seeds. Generated by topoanalysis; this page holds every "
             f"number of <code>report.json</code> that a reader needs and every figure.</p>")
    body = "".join(f"<section id='{sid}'><h2>{_esc(t)}</h2>{h}</section>"
                   for sid, t, h in sections)
    return head + intro + nav + body + "</body></html>\n"


def write_report_html(report, path, figures=()):
    """Write :func:`report_html` atomically to ``path``; returns the path.

    Parameters
    ----------
    report : AnalysisReport
        The report of ``topoanalysis analyze``.
    path : str or os.PathLike
        Output ``.html``.
    figures : sequence of (section id, caption, png bytes or path), default=()
        Extra figures (as in :func:`report_html`).

    Returns
    -------
    str
        The path written.

    See Also
    --------
    report_html
    """
    from .io import atomic_path

    text = report_html(report, figures)
    with atomic_path(path, "out") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return os.fspath(path)
