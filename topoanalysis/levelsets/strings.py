"""Dynamic String Sampling (Freeman & Bruna 2017): strings of beads inside a level set.

Two minima ``θ_a``, ``θ_b`` with loss ``<= L0`` are *connected below* a level when a
polygonal path of trained models ("beads") joins them with every straight piece staying
below it. The greedy algorithm checks each gap between neighbouring beads on a grid of
``n_points`` coefficients; a gap whose highest interpolated loss is ``>= accept_factor · L0``
gets a new bead at ``t*`` (the midpoint or the argmax), trained to ``bead_fraction · L0`` and
inserted; each half is then checked again, recursively, up to ``max_depth`` halvings. A
pair still failing there is reported *not connected within budget* — never "disconnected":
a failure does not prove a disconnection.

Bead budget: by default (``steps=None``) a bead trains until it reaches its target, in
chunks of doubling length (``first_steps``, then twice as many, ...) that continue from where
the previous chunk stopped, and stops early only when it no longer improves (less than
``min_progress`` relative loss decrease over a chunk as long as all its training before) or at
``max_steps``, the stated maximum. A string that fails is reported as *budget-limited* when
some bead stopped above its target, and as *depth-limited* when every bead reached its target
and a gap still failed at ``max_depth`` (or ``max_beads``).

Batching: all gaps of all pairs are checked in one engine call per round
(:func:`topoanalysis.dynamics.interpolate`), and all new beads of all pairs are trained in
one engine call per round (:func:`topoanalysis.dynamics.train`; the penalized variants run
a batched Adam on :func:`topoanalysis.dynamics.batch_loss_and_gradient`).

Methods
-------
``"greedy"``
    The paper's Section 3.1 algorithm (the authors' practical settings as defaults).
``"constrained"``
    Appendix A: a new bead is trained on ``L(θ) + spring/2 · (||θ − θ_l||² + ||θ − θ_r||²)
    + plane/2 · ((θ − m) · u)²`` with ``θ_l``, ``θ_r`` its neighbours, ``m`` their midpoint and
    ``u`` the unit vector from ``θ_l`` to ``θ_r`` (the second term keeps the bead near the
    hyperplane equidistant from its neighbours).
``"breadth_first"``
    Appendix A's variant: every round retrains *all* interior beads still above their target
    together (with the same penalty, neighbours taken at the start of the round), then
    inserts beads in every failing gap.
"""

import dataclasses
import json
import time

import numpy as np

from .._validation import check_choice, check_float, check_int
from .._progress import progress_bar
from .._results import data_source
from ..losses import check_loss
from ..exceptions import ValidationError
from ..network import Architecture, Network

__all__ = [
    "DSS_METHODS",
    "FAILURES",
    "BEAD_STOPS",
    "BeadString",
    "StringSamplingResult",
    "dynamic_string_sampling",
    "train_to_threshold",
    "load_string",
]

#: Variants accepted by :func:`dynamic_string_sampling`.
DSS_METHODS = ("greedy", "constrained", "breadth_first")

CONNECTED = "connected"
NOT_CONNECTED = "not connected within budget"
#: Why a string failed: some bead stopped above its target (training budget), or every bead
#: reached it and a gap still failed at the depth / bead limit.
FAILURES = ("budget", "depth", "certificate")
#: Why a bead's training stopped (``"endpoint"``: given, not trained).
BEAD_STOPS = ("target", "stalled", "max_steps", "diverged", "endpoint")


def _check_certify(certify):
    """``certify`` as a bool ("auto" is True: every architecture has a segment bound)."""
    if isinstance(certify, str) and certify == "auto":
        return True
    if not isinstance(certify, (bool, np.bool_)):
        raise ValidationError(f"`certify` must be 'auto', True or False; got {certify!r}.")
    return bool(certify)


def _check_dss_work(pairs, n_params, max_depth, max_beads, steps, n_points):
    """Refuse, before any work, a string search whose worst case (``2^max_depth − 1`` beads per
    pair unless ``max_beads``) does not fit in memory or in about an hour of bead training."""
    from .._resources import check_memory
    from .._validation import check_work

    beads = 2.0 ** min(max_depth, 60) - 1
    if max_beads is not None:
        beads = min(beads, float(max_beads))
    shown = f"{beads:,.0f}" if beads < 1e9 else f"{beads:.3g}"
    check_memory(32.0 * pairs * (beads + 2) * n_params,
                 f"up to {shown} beads per pair × {pairs} pair(s) with their optimizer states "
                 f"(max_depth={max_depth}; give max_beads to bound it)", param="max_depth")
    check_work("max_depth", pairs * beads * (steps + n_points), limit=MAX_DSS_STEPS,
               unit=f"bead training steps and grid points ({shown} beads per pair × {pairs} "
                    f"pair(s) × ({steps} steps + {n_points} points))",
               fix="reduce `max_depth`, give `max_beads`, or reduce `steps`",
               about="about an hour")


#: Most bead training steps plus grid points a string search may be asked for in its worst case.
MAX_DSS_STEPS = 1e9


def _ratio_text(x):
    return f"{x:.4f}" if np.isfinite(x) else "undefined (a loop: the two ends coincide)"


def _loss_text(x):
    return (f"{x:.4g}" if np.isfinite(x)
            else "not finite (the loss overflows float64 somewhere on the path)")


@dataclasses.dataclass(frozen=True, eq=False)
class BeadString:
    """One string of beads between two minima.

    Attributes
    ----------
    arch : Architecture
    beads : ndarray of shape (K, P)
        ``θ_a``, the inserted beads in path order, ``θ_b``.
    bead_loss : ndarray of shape (K,)
    edge_max_loss : ndarray of shape (K − 1,)
        Highest loss on the grid of each straight piece (the grid check behind "connected",
        not a bound between grid points).
    edge_t_max : ndarray of shape (K − 1,)
        Where on the piece (``t ∈ [0, 1]``) that maximum sits.
    threshold : float
        ``L0``.
    accept_level : float
        ``accept_factor · L0``: a piece is accepted when its maximum is below it.
    connected : bool
        True when every piece is below ``accept_level``: on the grid of the final string, and
        everywhere on it when ``certified``.
    verdict : str
        ``"connected"`` or ``"not connected within budget"``.
    depth : int
        Deepest recursion level reached (rounds for ``"breadth_first"``).
    seconds : float
        Wall time of the whole batched call this string was computed in.
    settings : dict
    bead_steps : ndarray of shape (K,), optional
        Training steps each bead took (0 for the endpoints).
    bead_stop : tuple of str, optional
        Why each bead's training stopped, one of :data:`BEAD_STOPS`.
    failure : str or None
        None when connected; ``"budget"`` when some bead stopped above its target,
        ``"depth"`` when every bead reached it and a gap still failed at the depth (or bead)
        limit, ``"certificate"`` when the grid check passed but the bound between grid points
        did not prove it. See :data:`FAILURES`.
    certified : bool or None
        True when the segment bound proved every piece below ``accept_level`` (then
        ``connected``), False when it did not; None when not tried (the grid check failed, the
        network is not covered, or ``certify=False``).
    edge_upper : ndarray of shape (K − 1,) or None
        The proven upper bound of the loss on each piece (with ``certified``).
    """

    arch: Architecture
    beads: np.ndarray
    bead_loss: np.ndarray
    edge_max_loss: np.ndarray
    edge_t_max: np.ndarray
    threshold: float
    accept_level: float
    connected: bool
    verdict: str
    depth: int
    seconds: float
    settings: dict
    bead_steps: np.ndarray = None
    bead_stop: tuple = None
    failure: str = None
    certified: bool = None
    edge_upper: np.ndarray = None

    @property
    def n_beads(self):
        """Number of inserted beads (``K − 2``)."""
        return int(self.beads.shape[0] - 2)

    @property
    def n_beads_total(self):
        """Number of beads counted as the paper does, endpoints included (``K``; the authors'
        ``len(test.AllBeads)``, QUADRATICS.py line 596).
        """
        return int(self.beads.shape[0])

    def loss_bounds(self, X, y=None, *, loss=None, n_points=None):
        """Upper bounds of the loss on each piece, between its grid points too.

        The grid check looks at ``edge_max_loss`` only; these bounds
        (:func:`~topoanalysis.levelsets.bounds.segment_loss_bounds`: the grid values plus
        curvature and kink terms for one hidden layer of ``relu``, ``leaky_relu``, ``abs`` or
        ``linear`` units, interval arithmetic for other networks) hold at every ``t``, so
        ``(string.loss_bounds(X, y) < string.accept_level).all()`` proves the pieces stay below
        the accept level everywhere (float64 evaluation with a rounding analysis). The search
        itself does this by default (``certify``), refining the grid where needed.

        Parameters
        ----------
        X : Landscape or array_like of shape (N, d)
            Data (or a landscape of this string's architecture).
        y : array_like, optional
            Targets (with array data).
        loss : str, optional
            Loss (default: the landscape's, else the one the string was built with).
        n_points : int, optional
            Grid points per piece (default: the string's ``n_points``).

        Returns
        -------
        ndarray of shape (K − 1,)
            Upper bound of the loss on each piece.
        """
        from ..landscape import Landscape
        from .bounds import segment_loss_bounds

        if isinstance(X, Landscape):
            if X.arch != self.arch:
                raise ValidationError(f"`X` must be a landscape of the string's architecture "
                                      f"({self.arch}); got one of {X.arch}.")
            X, y, loss = X.X, X.Y, loss or X.loss_name
        loss = loss or self.settings.get("loss", "mse")
        n = n_points or self.settings.get("n_points", 100)
        return np.array([segment_loss_bounds(a, b, X, y, arch=self.arch, loss=loss,
                                             n_points=n).max_upper
                         for a, b in zip(self.beads[:-1], self.beads[1:])])

    def evaluate(self, X, y=None, *, loss=None, n_points=None, n_threads=None):
        """Losses of this string on other data (e.g. a test set): the beads and the highest
        loss of each straight piece on the grid.

        Parameters
        ----------
        X : Landscape or array_like of shape (N, d)
            Data (or a landscape of this string's architecture).
        y : array_like of shape (N, e), optional
            Targets (with array data).
        loss : str, optional
            Loss (default: the one the string was built with).
        n_points : int, optional
            Grid points per piece (default: the string's ``n_points``).
        n_threads : int, optional
            Engine threads.

        Returns
        -------
        bead_loss : ndarray of shape (K,)
            Loss of each bead.
        edge_max_loss : ndarray of shape (K − 1,)
            Highest loss on the grid of each piece.
        """
        from ..landscape import Landscape, as_landscape

        if isinstance(X, Landscape):
            # beads read in another architecture's layout would give another network's loss
            if X.arch != self.arch:
                raise ValidationError(f"`X` must be a landscape of the string's architecture "
                                      f"({self.arch}); got one of {X.arch}.")
            land = as_landscape(X, y, None, loss)    # y must be None, loss None or its own
        else:
            land = as_landscape(X, y, self.arch, loss or self.settings.get("loss", "mse"))
        n = n_points or self.settings.get("n_points", 100)
        grid = np.linspace(0.0, 1.0, check_int("n_points", n, minimum=2))
        res = land.interpolate(self.beads[:-1], self.beads[1:], ts=grid, n_threads=n_threads)
        curve = np.where(np.isfinite(res.loss), res.loss, np.inf)
        return (np.concatenate([curve[:, 0], curve[-1:, -1]]), curve.max(axis=1))

    @property
    def length(self):
        """``Σ ||θ_i − θ_{i+1}||``."""
        return float(np.linalg.norm(np.diff(self.beads, axis=0), axis=1).sum())

    @property
    def distance(self):
        """``||θ_first − θ_last||``."""
        return float(np.linalg.norm(self.beads[-1] - self.beads[0]))

    @property
    def normalized_length(self):
        """``Σ ||θ_i − θ_{i+1}|| / ||θ_first − θ_last||`` (1 for a straight string, also for the
        zero-length string between coinciding ends; NaN only for a string of positive length
        whose ends coincide, where the ratio is undefined).
        """
        d = self.distance
        if d > 0:
            return self.length / d
        return 1.0 if self.length == 0 else float("nan")

    @property
    def max_loss(self):
        """Highest loss met along the whole string."""
        return float(np.max(self.edge_max_loss))

    def graph(self):
        """The string as a NetworkX path graph (:func:`topoanalysis.graphs.string_graph`).

        Returns
        -------
        networkx.Graph
            The path graph of the beads.
        """
        from ..graphs.levelsets import string_graph

        return string_graph(self.beads, self.bead_loss, self.edge_max_loss)

    def networks(self):
        """The beads as :class:`~topoanalysis.network.Network` objects.

        Returns
        -------
        list of Network
            One network per bead.
        """
        return [Network(self.arch, p) for p in self.beads]

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"string {self.verdict} at L0 = {self.threshold:.4g} (accept < "
                f"{self.accept_level:.4g}): {self.n_beads} beads, depth {self.depth}, "
                f"normalized length {_ratio_text(self.normalized_length)}, max loss on the path "
                f"{_loss_text(self.max_loss)}"
                + ("" if self.failure is None else f" ({self.failure}-limited)")
                + ("" if self.certified is not True else
                   f"; proven below {self.accept_level:.4g} between the grid points too "
                   f"(bound {float(np.max(self.edge_upper)):.6g})")
                + ("" if self.certified is not None or not self.connected else
                   "; a grid check (no bound between grid points)"))

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"verdict": self.verdict, "connected": bool(self.connected),
                "failure": self.failure,
                "threshold": self.threshold, "accept_level": self.accept_level,
                "n_beads": self.n_beads, "n_beads_total": self.n_beads_total,
                "depth": self.depth,
                "bead_steps": None if self.bead_steps is None else
                [int(v) for v in self.bead_steps],
                "bead_stop": None if self.bead_stop is None else list(self.bead_stop),
                "normalized_length": self.normalized_length, "length": self.length,
                "distance": self.distance, "max_loss": self.max_loss,
                "bead_loss": self.bead_loss.tolist(), "edge_max_loss": self.edge_max_loss.tolist(),
                "edge_t_max": self.edge_t_max.tolist(), "seconds": self.seconds,
                "certified": None if self.certified is None else bool(self.certified),
                "edge_upper": None if self.edge_upper is None else
                [float(v) for v in self.edge_upper],
                "architecture": self.arch.to_dict(), "settings": self.settings}

    def save(self, path):
        """Write the string to ``.npz`` atomically (beads, losses, certificate, architecture,
        settings); returns the path written (``.npz`` appended when missing).

        Parameters
        ----------
        path : str or os.PathLike
            Output file.

        Returns
        -------
        str
            The path written.
        """
        from ..io import save_npz, to_jsonable

        meta = {k: v for k, v in self.to_dict().items()
                if k not in ("bead_loss", "edge_max_loss", "edge_t_max")}
        # strict JSON: a non-finite max_loss or normalized_length is null (the arrays keep inf)
        arrays = dict(beads=self.beads, bead_loss=self.bead_loss,
                      edge_max_loss=self.edge_max_loss, edge_t_max=self.edge_t_max,
                      meta=np.array(json.dumps(to_jsonable(meta), allow_nan=False)),
                      format=np.array("topoanalysis.bead_string.v1"))
        return save_npz(path, **arrays)

    @classmethod
    def load(cls, path):
        """Read a string written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.

        Returns
        -------
        BeadString
            The string.
        """
        return load_string(path)


def load_string(path):
    """Read a :class:`BeadString` written by :meth:`BeadString.save`.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :meth:`BeadString.save`.

    Returns
    -------
    BeadString
        The string.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3.1 (strings of beads).
    """
    from ..io import FileError, load_npz

    f = load_npz(path, "path", keys=("beads", "bead_loss", "edge_max_loss", "edge_t_max", "meta",
                                     "format"))
    if str(f["format"]) != "topoanalysis.bead_string.v1":
        raise FileError(f"`path` must be a string of beads saved by BeadString.save; "
                        f"{str(path)!r} has format {str(f['format'])!r}.")
    try:
        return _string_from(f, json.loads(str(f["meta"])))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise FileError(f"`path` must be a string of beads saved by BeadString.save; "
                        f"{str(path)!r} has a damaged record ({type(exc).__name__}: "
                        f"{str(exc)[:120]}).") from None


def _string_from(f, meta):
    """The BeadString of a loaded ``.npz`` and its decoded ``meta`` record."""
    beads, bl, em, et = f["beads"], f["bead_loss"], f["edge_max_loss"], f["edge_t_max"]
    a = meta["architecture"]
    arch = Architecture.from_dict({"negative_slope": 0.01, **a})
    steps = meta.get("bead_steps")
    stop = meta.get("bead_stop")
    return BeadString(arch=arch, beads=beads, bead_loss=bl, edge_max_loss=em, edge_t_max=et,
                      threshold=meta["threshold"], accept_level=meta["accept_level"],
                      connected=meta["connected"], verdict=meta["verdict"], depth=meta["depth"],
                      seconds=meta["seconds"], settings=meta["settings"],
                      bead_steps=None if steps is None else np.array(steps, dtype=np.int64),
                      bead_stop=None if stop is None else tuple(stop),
                      failure=meta.get("failure"), certified=meta.get("certified"),
                      edge_upper=None if meta.get("edge_upper") is None else
                      np.array([np.inf if v is None else v for v in meta["edge_upper"]],
                               dtype=np.float64))


@dataclasses.dataclass(frozen=True, eq=False)
class StringSamplingResult:
    """Strings between ``M`` pairs of minima from one :func:`dynamic_string_sampling` call.

    Attributes
    ----------
    strings : list of BeadString
    seconds : float
        Wall time of the call.
    rounds : int
        Number of rounds (each: one batched check, one batched training).
    engine_calls : dict
        ``{"interpolate": n, "train": n}`` calls of the engine made.
    settings : dict
    """

    strings: list
    seconds: float
    rounds: int
    engine_calls: dict
    settings: dict

    def __len__(self):
        return len(self.strings)

    def __getitem__(self, i):
        return self.strings[i]

    @property
    def connected(self):
        """Per pair: whether every piece of its string is below ``accept_factor · L0``."""
        return np.array([s.connected for s in self.strings])

    @property
    def normalized_length(self):
        """Per pair: the string's length over the endpoints' distance."""
        return np.array([s.normalized_length for s in self.strings])

    @property
    def n_beads(self):
        """Per pair: the number of inserted beads of its string."""
        return np.array([s.n_beads for s in self.strings])

    @property
    def depth(self):
        """Per pair: the deepest recursion level its string reached."""
        return np.array([s.depth for s in self.strings])

    @property
    def failure(self):
        """Per string: None (connected), ``"budget"``, ``"depth"`` or ``"certificate"``."""
        return [s.failure for s in self.strings]

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        s = self.settings
        lines = [f"Dynamic String Sampling ({s['method']}), {len(self)} pairs at L0 = "
                 f"{s['threshold']:.4g}: {int(self.connected.sum())} connected, "
                 f"{int((~self.connected).sum())} not connected within budget "
                 f"({self.failure.count('budget')} budget-limited: a bead stopped above its "
                 f"target; {self.failure.count('depth')} depth-limited"
                 + (f"; {self.failure.count('certificate')} not proven between grid points"
                    if "certificate" in self.failure else "")
                 + ("; every connected string proven below the accept level"
                    if s.get("certify") else "; a grid check")
                 + f"); {self.rounds} rounds, {self.seconds:.2f} s"]
        for i, st in enumerate(self.strings):
            lines.append(f"  pair {i}: {st.summary()}")
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"seconds": self.seconds, "rounds": self.rounds, "engine_calls": self.engine_calls,
                "settings": self.settings, "strings": [s.to_dict() for s in self.strings]}


# --- helpers ------------------------------------------------------------------------------
def _penalized_adam(params, left, right, land, y=None, arch=None, loss=None, *, lr, steps,
                    spring, plane, target,
                    betas=(0.9, 0.999), eps=1e-8, n_threads=None):
    """Adam on ``L(θ) + spring/2 (||θ−l||² + ||θ−r||²) + plane/2 ((θ−m)·u)²``: the engine's
    Adam with its ``penalty`` (:func:`topoanalysis.dynamics.train`), one implementation for
    the plain and the penalized beads.

    ``land`` is the :class:`~topoanalysis.landscape.Landscape` (``land, y, arch, loss`` may also
    be the loose data). Each network stops once its plain loss is ``<= target``. Returns
    ``(params, loss, steps taken, reached, diverged)``.
    """
    from ..landscape import as_landscape

    land = as_landscape(land, y, arch, loss)
    tr = land.train(np.asarray(params), optimizer="adam", lr=lr, steps=steps, betas=betas,
                    eps=eps, target_loss=target, record_conserved=False, record_every=steps,
                    penalty=(spring, plane, left, right), n_threads=n_threads,
                    progress=False)
    return (np.asarray(tr.params, dtype=np.float64), tr.final_loss, tr.steps_taken,
            tr.reached_target, tr.diverged)


def _stops(reached, diverged, otherwise):
    """Stop reasons (:data:`BEAD_STOPS`) from reached / diverged masks."""
    return ["target" if r else "diverged" if d else otherwise
            for r, d in zip(np.asarray(reached), np.asarray(diverged))]


def _train_to_target(land, P0, target, *, optimizer, lr, seed, first_steps, max_steps,
                     min_progress, n_threads):
    """Train beads to ``target`` with the adaptive budget (module docstring).

    Chunks of ``first_steps``, ``2·first_steps``, ... steps, each an engine call on the beads
    still above target from where they stopped; a bead stops at the target, when a chunk lowers
    its loss by less than ``min_progress`` ("stalled"), on divergence, or at ``max_steps``.
    Returns ``(params, loss, steps, stop reasons, engine calls)``.
    """
    P = np.array(P0, dtype=np.float64, copy=True)
    B = P.shape[0]
    loss = np.full(B, np.nan)
    used = np.zeros(B, dtype=np.int64)
    stop = [""] * B
    active = np.arange(B)
    chunk, calls = first_steps, 0
    while active.size:
        n = int(min(chunk, max_steps - used[active[0]]))
        tr = land.train(P[active], optimizer=optimizer, lr=lr, steps=n, target_loss=target,
                        record_conserved=False, record_every=n, seed=seed,
                        n_threads=n_threads, progress=False)
        calls += 1
        before = loss[active].copy()
        P[active] = tr.params
        loss[active] = tr.final_loss
        used[active] += tr.steps_taken
        keep = []
        for i, b in enumerate(active):
            if tr.reached_target[i]:
                stop[b] = "target"
            elif tr.diverged[i] or not np.isfinite(loss[b]):
                stop[b] = "diverged"
            elif used[b] >= max_steps:
                stop[b] = "max_steps"
            elif np.isfinite(before[i]) and loss[b] > (1.0 - min_progress) * before[i]:
                stop[b] = "stalled"
            else:
                keep.append(b)
        active = np.array(keep, dtype=np.int64)
        chunk *= 2
    return P, loss, used, stop, calls


class _String:
    """Mutable state of one string during the algorithm."""

    def __init__(self, a, b, la, lb):
        self.beads = [a, b]
        self.loss = [la, lb]
        self.steps = [0, 0]
        self.stop = ["endpoint", "endpoint"]
        self.depth = [0]            # recursion depth of each gap
        self.checked = [False]      # gap accepted (certificate known and below the level)
        self.emax = [np.nan]
        self.tmax = [np.nan]
        self.failed = False
        self.max_depth = 0


def dynamic_string_sampling(theta_a, theta_b, X, y=None, *, threshold, arch=None, loss=None,
                            method="greedy", t_star="midpoint", bead_fraction=0.95,
                            accept_factor=1.1, n_points=100, max_depth=10, max_beads=None,
                            optimizer="adam", lr=1e-3, steps=None, spring=None, plane=None,
                            seed=0, n_threads=None, progress=True, first_steps=1000,
                            max_steps=200_000, min_progress=0.01, first_bead=False,
                            certify="auto", certify_points=4096):
    """Connect pairs of minima by strings of trained beads below a loss level (batched DSS).

    Parameters
    ----------
    theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
        The ``M`` pairs of endpoints (a single network is paired with every network of the
        other argument); arrays need ``arch``. They should have loss ``<= threshold``.
    X : Landscape or array_like of shape (N, d)
        The data, or the whole :class:`~topoanalysis.landscape.Landscape` (then ``y`` is
        omitted, ``arch`` and ``loss`` are omitted or equal to the landscape's). Every engine
        call of the run uses the one prepared landscape.
    y : array_like of shape (N, e), optional
        Required with array data.
    threshold : float
        ``L0 > 0``, the level.
    arch : Architecture, optional
        Required when the endpoints are arrays.
    loss : {"mse", "l1", "bce", "cross_entropy"}, optional
        Default ``"mse"`` (or the landscape's).
    method : {"greedy", "constrained", "breadth_first"}, default="greedy"
        See the module docstring.
    t_star : {"midpoint", "argmax"}, default="midpoint"
        Where a new bead starts on a failing gap: ``t = 1/2`` (the authors' setting) or the
        maximum of the interpolated loss (interior grid points).
    bead_fraction : float, default=0.95
        Beads are trained to ``bead_fraction · L0`` (authors: 0.95), in ``(0, 1]``.
    accept_factor : float, default=1.1
        A gap is accepted when its maximum interpolated loss is ``< accept_factor · L0``
        (authors: 1.1), ``>= 1``.
    n_points : int, default=100
        Grid points on each gap, both ends included (authors: 100).
    max_depth : int, default=10
        Maximum recursion depth (authors: 10); a gap failing at this depth ends its pair as
        "not connected within budget".
    max_beads : int, optional
        Also stop a pair once it holds this many inserted beads (default: no limit).
    optimizer : {"adam", "gd", "sgd", "momentum"}, default="adam"
        Bead training for ``"greedy"`` (the penalized variants use Adam).
    lr : float, default=1e-3
        Learning rate of the bead training.
    steps : int, optional
        A fixed cap of training steps per bead (per round for ``"breadth_first"``). Default
        None: ``"greedy"`` trains every bead to its target with the adaptive budget
        (``first_steps``, ``max_steps``, ``min_progress``; the authors' code has no cap); the
        penalized variants use 5000.
    spring, plane : float, optional
        Penalty weights of ``"constrained"`` and ``"breadth_first"`` (default ``1e-3`` and
        ``1.0``; ``0`` for ``"greedy"``, which accepts no penalty).
    seed : int, default=0
        Seed of the training's mini-batch order (full-batch training does not use it).
    n_threads : int, optional
        Engine threads; results do not depend on it.
    progress : bool, default=True
        A tqdm bar over rounds.
    first_steps : int, default=1000
        Adaptive budget: length of a bead's first training chunk; each further chunk is twice
        as long and continues from the previous one's parameters (Adam's moments restart).
    max_steps : int, default=200000
        Adaptive budget: the stated maximum of training steps per bead.
    min_progress : float, default=0.01
        Adaptive budget: a bead above its target stops ("stalled") when a chunk lowers its
        loss by less than this fraction.
    first_bead : bool, default=False
        Insert and train one bead at ``t = 1/2`` before the first check, even when the straight
        segment is already below the level, as the authors' code does (``WeightString(...,
        1, 1)``, QUADRATICS.py line 520); every string then has at least 3 beads.
    certify : {"auto", True, False}, default="auto"
        Prove the verdict between the grid points: a string that passes the grid check is
        "connected" only when :func:`~topoanalysis.levelsets.segment_loss_bounds` proves every
        piece below the accept level (the grid refined where needed, up to ``certify_points``
        per piece); else it is "not connected within budget" with ``failure="certificate"``.
        ``"auto"`` and True are the same (the curvature bound for one hidden layer of
        ``relu``, ``leaky_relu``, ``abs`` or ``linear`` units, interval arithmetic for every
        other network); False: the grid check only (``certified`` None).
    certify_points : int, default=4096
        Largest refined grid per piece for ``certify``.

    Returns
    -------
    StringSamplingResult
        One :class:`BeadString` per pair.

    Raises
    ------
    ValidationError
        For an invalid argument; the message names it.

    See Also
    --------
    topoanalysis.levelsets.pairwise_barriers : Strings between every two of N minima.
    topoanalysis.levelsets.train_to_threshold : Endpoints trained to the level.

    Notes
    -----
    A string's verdict is decided by the algorithm and then checked: the final string's every
    piece is evaluated again on the grid (one batched call) and must be below
    ``accept_factor · L0`` there; with ``certify`` the bound between grid points must then be
    below it too (``certified``, ``edge_upper``), so that ``connected`` is a proof (float64
    evaluation with a rounding analysis), not a sample. Worst-case cost ``O(2^max_depth)`` beads per pair;
    each round costs one segment evaluation over all open gaps and one training call over all new
    beads, ``O(beads · steps · N · P)``.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3.1 (greedy Dynamic String Sampling), Section 3.2,
           Appendix A (constrained variant).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture
    >>> arch = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    >>> X = np.random.default_rng(0).standard_normal((40, 2)); y = X @ [[1.0], [-2.0]]
    >>> a = arch.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])       # two exact fits,
    >>> b = arch.pack([np.array([[1.1, -2.2]]), np.array([[1 / 1.1]])])   # one a rescaling
    >>> res = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=1e-4, progress=False)
    >>> res[0].verdict, res[0].n_beads, round(res[0].normalized_length, 6)
    ('connected', 0, 1.0)
    >>> res = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=1e-6, lr=1e-2,
    ...                               progress=False)     # the segment rises above 1.1e-6
    >>> res[0].connected, res[0].n_beads >= 1
    (True, True)
    """
    from ..dynamics import OPTIMIZERS
    from ..dynamics.interpolate import paired_params
    from ..landscape import Landscape, as_landscape

    t_start = time.perf_counter()
    if isinstance(X, Landscape) and arch is None:
        arch = X.arch
    arch, A, Bm = paired_params(theta_a, theta_b, arch)
    land = as_landscape(X, y, arch, loss)
    loss = land.loss_name
    L0 = check_float("threshold", threshold, minimum=0.0, strict_min=True)
    method = check_choice("method", method, DSS_METHODS)
    t_star = check_choice("t_star", t_star, ("midpoint", "argmax"))
    bead_fraction = check_float("bead_fraction", bead_fraction, minimum=0.0, maximum=1.0,
                                strict_min=True)
    accept_factor = check_float("accept_factor", accept_factor, minimum=1.0)
    n_points = check_int("n_points", n_points, minimum=3)
    max_depth = check_int("max_depth", max_depth, minimum=0)
    if max_beads is not None:
        max_beads = check_int("max_beads", max_beads, minimum=0)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    adaptive = steps is None and method == "greedy"
    steps = 5000 if steps is None else check_int("steps", steps, minimum=1)
    first_steps = check_int("first_steps", first_steps, minimum=1)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    min_progress = check_float("min_progress", min_progress, minimum=0.0, maximum=1.0)
    if not isinstance(first_bead, (bool, np.bool_)):
        raise ValidationError(f"`first_bead` must be True or False; got {first_bead!r}.")
    certify = _check_certify(certify)
    certify_points = check_int("certify_points", certify_points, minimum=n_points)
    if certify:
        from .._resources import check_memory

        check_memory(40.0 * certify_points * land.n_samples * arch.outputs,
                     f"a refined grid of {certify_points} points × {land.n_samples} samples × "
                     f"{arch.outputs} outputs", param="certify_points")
    # worst case of the bead budget: the nominal `steps` per bead (adaptive beads stop at their
    # target or when they stall, up to `max_steps`)
    _check_dss_work(A.shape[0], arch.n_params, max_depth, max_beads, steps, n_points)
    from .._validation import check_magnitude

    check_magnitude("theta_a", A, 1e150, what="parameters")   # lengths square them
    check_magnitude("theta_b", Bm, 1e150, what="parameters")
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    if method == "greedy":
        for name, val in (("spring", spring), ("plane", plane)):
            if val not in (None, 0, 0.0):
                raise ValidationError(
                    f"`{name}` must be None or 0 for method 'greedy' (use method='constrained' "
                    f"or 'breadth_first' for penalties); got {val!r}."
                )
        spring = plane = 0.0
    else:
        spring = check_float("spring", 1e-3 if spring is None else spring, minimum=0.0)
        plane = check_float("plane", 1.0 if plane is None else plane, minimum=0.0)
        if optimizer != "adam":
            raise ValidationError(
                f"`optimizer` must be 'adam' for method {method!r} (penalized training); "
                f"got {optimizer!r}."
            )
    target = bead_fraction * L0
    accept = accept_factor * L0
    grid = np.linspace(0.0, 1.0, n_points)
    calls = {"interpolate": 0, "train": 0}

    ends = land.interpolate(A, Bm, ts=[0.0, 1.0], n_threads=n_threads)
    calls["interpolate"] += 1
    strings = [_String(A[q], Bm[q], ends.loss[q, 0], ends.loss[q, 1]) for q in range(A.shape[0])]
    # an endpoint not strictly below accept_factor · L0 can never be in an accepted gap
    # (exact comparison: a certain "not connected"); one a little above L0 may still be
    never = int(np.count_nonzero(~(ends.loss < accept)))
    above = int(np.count_nonzero(~(ends.loss <= L0 * (1 + 1e-9))))
    if never or above:
        import warnings

        what = (f"{never} of the {ends.loss.size} endpoints have loss at or above the level "
                f"accept_factor · L0 = {accept:g}: a gap touching them can never be accepted"
                if never else
                f"{above} of the {ends.loss.size} endpoints have loss above the level "
                f"L0 = {L0:g}: a gap touching them may never be accepted")
        warnings.warn(f"{what} (train them to L0 first, e.g. with train_to_threshold).",
                      UserWarning, stacklevel=2)

    bar = progress_bar(progress, desc=f"DSS {method}", unit="round")
    rounds = 0
    try:
        while True:
            # 1. check every open gap of every live pair in one call
            todo = [(q, k) for q, s in enumerate(strings) if not s.failed
                    for k in range(len(s.depth)) if not s.checked[k]]
            if not todo:
                break
            rounds += 1
            ga = np.array([strings[q].beads[k] for q, k in todo])
            gb = np.array([strings[q].beads[k + 1] for q, k in todo])
            res = land.interpolate(ga, gb, ts=grid, n_threads=n_threads)
            calls["interpolate"] += 1
            curve = np.where(np.isfinite(res.loss), res.loss, np.inf)
            new = []        # (q, k, t)
            for m, (q, k) in enumerate(todo):
                s = strings[q]
                jm = int(np.argmax(curve[m]))
                s.emax[k], s.tmax[k] = float(curve[m, jm]), float(grid[jm])
                forced = first_bead and len(s.beads) == 2
                if curve[m, jm] < accept and not forced:
                    s.checked[k] = True
                    continue
                if s.failed:
                    continue
                n_inner = len(s.beads) - 2 + sum(1 for qq, _, _ in new if qq == q)
                if s.depth[k] >= max_depth or (max_beads is not None and n_inner >= max_beads):
                    s.failed = True
                    continue
                if t_star == "argmax" and not forced:
                    inner = curve[m, 1:-1]
                    t = float(grid[1 + int(np.argmax(inner))])
                else:
                    t = 0.5
                new.append((q, k, t))
            new = [(q, k, t) for q, k, t in new if not strings[q].failed]
            if not new:
                if bar is not None:
                    bar.update(1)
                continue
            init = np.array([(1 - t) * strings[q].beads[k] + t * strings[q].beads[k + 1]
                             for q, k, t in new])
            left = np.array([strings[q].beads[k] for q, k, _ in new])
            right = np.array([strings[q].beads[k + 1] for q, k, _ in new])
            # 2. insert the new beads (right to left inside each string keeps indices valid)
            for (q, k, t), p in sorted(zip(new, init), key=lambda z: (z[0][0], -z[0][1])):
                s = strings[q]
                d = s.depth[k] + 1
                s.beads.insert(k + 1, p)
                s.loss.insert(k + 1, np.nan)
                s.steps.insert(k + 1, 0)
                s.stop.insert(k + 1, "")
                s.depth[k:k + 1] = [d, d]
                s.checked[k:k + 1] = [False, False]
                s.emax[k:k + 1] = [np.nan, np.nan]
                s.tmax[k:k + 1] = [np.nan, np.nan]
                s.max_depth = max(s.max_depth, d)
            # 3. train in one batched call: the new beads (greedy, constrained) or every
            #    interior bead above its target (breadth-first)
            if method == "breadth_first":
                batch = [(q, j) for q, s in enumerate(strings) if not s.failed
                         for j in range(1, len(s.beads) - 1)
                         if not (s.loss[j] <= target)]
                P0 = np.array([strings[q].beads[j] for q, j in batch])
                left = np.array([strings[q].beads[j - 1] for q, j in batch])
                right = np.array([strings[q].beads[j + 1] for q, j in batch])
            else:
                batch = []
                for q, s in enumerate(strings):
                    for j in range(1, len(s.beads) - 1):
                        if np.isnan(s.loss[j]):
                            batch.append((q, j))
                P0 = np.array([strings[q].beads[j] for q, j in batch])
                # neighbours at insertion are the two ends of the split gap
                left = np.array([strings[q].beads[j - 1] for q, j in batch])
                right = np.array([strings[q].beads[j + 1] for q, j in batch])
            if adaptive:
                P1, L1, S1, R1, n_calls = _train_to_target(
                    land, P0, target, optimizer=optimizer, lr=lr, seed=seed,
                    first_steps=first_steps, max_steps=max_steps, min_progress=min_progress,
                    n_threads=n_threads)
                calls["train"] += n_calls
            elif spring == 0.0 and plane == 0.0:   # no penalty: the engine's optimizers
                tr = land.train(P0, optimizer=optimizer, lr=lr, steps=steps, target_loss=target,
                                record_conserved=False, record_every=steps, seed=seed,
                                n_threads=n_threads, progress=False)
                P1, L1, S1 = tr.params, tr.final_loss, tr.steps_taken
                R1 = _stops(tr.reached_target, tr.diverged, "max_steps")
                calls["train"] += 1
            else:
                P1, L1, S1, reached, diverged = _penalized_adam(
                    P0, left, right, land, lr=lr, steps=steps, spring=spring, plane=plane,
                    target=target, n_threads=n_threads)
                R1 = _stops(reached, diverged, "max_steps")
                calls["train"] += 1
            for (q, j), p, lv, sv, rv in zip(batch, P1, L1, S1, R1):
                s = strings[q]
                s.beads[j] = p
                s.loss[j] = float(lv)
                s.steps[j] += int(sv)
                s.stop[j] = rv
                if method == "breadth_first":
                    s.checked[j - 1] = False
                    s.checked[j] = False
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    # 4. the grid check: evaluate every piece of every final string again, in one call
    pa, pb, owner = [], [], []
    for q, s in enumerate(strings):
        for k in range(len(s.beads) - 1):
            pa.append(s.beads[k])
            pb.append(s.beads[k + 1])
            owner.append(q)
    pa, pb = np.array(pa), np.array(pb)
    fin = land.interpolate(pa, pb, ts=grid, n_threads=n_threads)
    calls["interpolate"] += 1
    curve = np.where(np.isfinite(fin.loss), fin.loss, np.inf)
    owner = np.array(owner)
    seconds = time.perf_counter() - t_start
    settings = dict(method=method, threshold=L0, t_star=t_star, bead_fraction=bead_fraction,
                    accept_factor=accept_factor, n_points=n_points, max_depth=max_depth,
                    max_beads=max_beads, optimizer=optimizer if method == "greedy" else "adam",
                    first_bead=bool(first_bead), lr=lr, steps=None if adaptive else steps,
                    budget=(dict(first_steps=first_steps, max_steps=max_steps,
                                 min_progress=min_progress) if adaptive else None),
                    spring=spring, plane=plane, loss=loss, seed=seed,
                    certify=certify, certify_points=certify_points,
                    data=data_source(land.X, land.Y))
    out = []
    for q, s in enumerate(strings):
        rows = np.flatnonzero(owner == q)
        emax = curve[rows].max(axis=1)
        tmax = grid[np.argmax(curve[rows], axis=1)]
        bead_loss = np.concatenate([curve[rows, 0], curve[rows[-1:], -1]])
        ok = bool(np.all(emax < accept))
        failure = None
        certified, upper = None, None
        if not ok:
            failure = ("budget" if np.any(~(bead_loss[1:-1] <= target)) else "depth")
        elif certify:
            from .bounds import segment_loss_bounds

            cert = [segment_loss_bounds(s.beads[k], s.beads[k + 1], land.X, land.Y, arch=arch,
                                        loss=loss, ts=grid, level=accept,
                                        max_points=certify_points)
                    for k in range(len(s.beads) - 1)]
            upper = np.array([c.max_upper for c in cert])
            certified = all(c.proven for c in cert)
            if not certified:
                ok, failure = False, "certificate"
        out.append(BeadString(
            arch=arch, beads=np.array(s.beads), bead_loss=bead_loss, edge_max_loss=emax,
            edge_t_max=tmax, threshold=L0, accept_level=accept, connected=ok,
            verdict=CONNECTED if ok else NOT_CONNECTED, depth=int(s.max_depth),
            seconds=seconds, settings=settings, bead_steps=np.array(s.steps, dtype=np.int64),
            bead_stop=tuple(s.stop), failure=failure, certified=certified, edge_upper=upper))
    seconds = time.perf_counter() - t_start
    out = [dataclasses.replace(b, seconds=seconds) for b in out]
    return StringSamplingResult(strings=out, seconds=seconds, rounds=rounds, engine_calls=calls,
                                settings=settings)


def train_to_threshold(arch, X, y, n_networks, threshold, *, loss="mse", scheme=None, lr=1e-3,
                       optimizer="adam", steps=20000, seed=0, init_seed=None, n_threads=None,
                       progress=False, **init_kwargs):
    """Train ``n_networks`` fresh networks until their loss is ``<= threshold`` (one engine call).

    Parameters
    ----------
    arch : Architecture
        Architecture of the networks.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    n_networks : int
        Number of networks to initialize and train.
    threshold : float
        Target loss ``L0``.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        As in :func:`topoanalysis.dynamics.train`.
    scheme : str, optional
        Initialization scheme (default ``"xavier_normal"`` for sigmoid/tanh networks,
        ``"kaiming_normal"`` otherwise).
    lr : float, default=1e-3
        Learning rate.
    optimizer : {"adam", "gd", "sgd", "momentum"}, default="adam"
        As in :func:`topoanalysis.dynamics.train`.
    steps : int, default=20000
        Maximum number of training steps.
    seed : int, default=0
        Seed of the mini-batch orders (and of the initializations unless ``init_seed``).
    init_seed : int, optional
        Seed of the initializations (default ``seed``).
    n_threads : int, optional
        Engine threads; results do not depend on it.
    progress : bool, default=False
        Show a progress bar.
    **init_kwargs
        Passed to :func:`topoanalysis.init.init_params` (``gain_value``, ``bias_init``, ...).

    Returns
    -------
    TrainResult
        ``reached_target`` marks the networks at or below the threshold.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3.1: endpoints trained to loss ≤ L0.
    """
    from .._validation import check_architecture
    from ..dynamics import train
    from ..init import init_params

    arch = check_architecture("arch", arch)
    n_networks = check_int("n_networks", n_networks, minimum=1)
    threshold = check_float("threshold", threshold, minimum=0.0, strict_min=True)
    if scheme is None:
        scheme = "xavier_normal" if arch.activation in ("sigmoid", "tanh") else "kaiming_normal"
    theta0 = init_params(arch, scheme, seed=seed if init_seed is None else init_seed,
                         n_networks=n_networks, **init_kwargs)
    return train(theta0, X, y, arch=arch, loss=loss, optimizer=optimizer, lr=lr, steps=steps,
                 target_loss=threshold, record_conserved=False, record_every=steps, seed=seed,
                 n_threads=n_threads, progress=progress)
