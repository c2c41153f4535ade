"""Snap a near-stationary point from training to the nearby exact stationary point.

Gradient descent stops *near* a stationary point: samples sit near (not on) hyperplanes and
un-grown neurons are tiny rather than zero. :func:`snap` fixes the activation pattern and
solves for the exact point:

1. ReLU neurons inactive on every sample (**dead**) are left as they are; live neurons whose
   amplitude ``||a_k||·||w_k||`` is at most ``zero_tol`` times the reference amplitude become
   **zero neurons** (``a_k = 0``, ``w_k = 0``: the vanishing-initialization limit of an
   un-grown neuron), unless they share the activation pattern, kink samples and output sign
   of a grown neuron (then they are a small member of its group and are snapped with it);
2. samples within ``kink_tol`` (relative) of a live neuron's hyperplane are put **on** it:
   ``w_k`` is projected onto the orthogonal complement of its kink samples, and stays there;
3. with the pattern fixed, the network is linear in ``v_k = a_k w_k`` for scalar output, so the
   output weights and radial scales come from one convex problem over ``v`` restricted to those
   subspaces (least squares for ``mse``, Newton for ``bce``), then ``a_k, w_k`` are recovered
   with the neuron's original ratio ``||w_k|| / |a_k|``; for vector output (``mse``) alternating
   least squares over ``(a, b)`` and the ``w_k`` subspaces.

The result says how far the parameters moved, how the loss changed and whether the activation
pattern was kept (if not, the snapped point is not the stationary point of that pattern).
"""

import dataclasses

import numpy as np

from .. import losses as _losses
from .._validation import check_int
from ..exceptions import NotSupportedError
from ._point import (check_bool, check_perturbations, check_tol, shallow_point,
                     verdict_kink_tol as _verdict_kink_tol)
from ._exact import exact_signs
from .verdict import _classify

__all__ = ["SnapResult", "snap", "snap_and_classify"]


@dataclasses.dataclass(frozen=True, eq=False)
class SnapResult:
    """Outcome of :func:`snap`.

    Attributes
    ----------
    network : Network
        The snapped network.
    moved : float
        ``||θ_snapped − θ||``.
    loss_before, loss_after : float
    pattern_kept : bool
        The snapped point has the fixed activation pattern (kink samples exactly on their
        hyperplanes, every other sample on its original side).
    zero_neurons : list of int
        Neurons set to ``a_k = 0, w_k = 0``.
    dead_neurons : list of int
        ReLU neurons inactive on every sample (left unchanged).
    dead_relative_margin : float or None
        Smallest relative margin ``−w_k·x̃_n / (||w_k|| ||x̃_n||)`` of a dead neuron (the
        sine of the angle between ``w_k`` and the nearest hyperplane; scale-free, **not** a
        distance). Formerly ``dead_margin`` (a deprecated alias).
    dead_distances : dict
        ``{neuron: distance}``: the absolute parameter distance from each dead neuron's
        ``w_k`` to its activation region ``{w : w·x̃_n > 0 for some n}``, i.e.
        ``min_n −w_k·x̃_n / ||x̃_n||`` — the size of the neighbourhood in which it stays dead.
    kink_samples : dict
        ``{neuron: [samples put on its hyperplane]}``.
    gradient_norm : float
        Norm of the loss gradient within the fixed pattern's subspaces after snapping.
    method : str
    """

    network: object
    moved: float
    loss_before: float
    loss_after: float
    pattern_kept: bool
    zero_neurons: list
    dead_neurons: list
    dead_relative_margin: object
    kink_samples: dict
    gradient_norm: float
    method: str
    dead_distances: dict = dataclasses.field(default_factory=dict)

    @property
    def dead_distance(self):
        """Smallest distance of a dead neuron to its activation region (None without one)."""
        return min(self.dead_distances.values()) if self.dead_distances else None

    @property
    def dead_margin(self):
        """Deprecated alias of :attr:`dead_relative_margin` (a relative margin, not a size)."""
        import warnings

        warnings.warn("SnapResult.dead_margin is deprecated: it is the relative margin "
                      "`dead_relative_margin`; the absolute distance is `dead_distance`.",
                      DeprecationWarning, stacklevel=2)
        return self.dead_relative_margin

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"moved": self.moved, "loss_before": self.loss_before,
                "loss_after": self.loss_after, "loss_change": self.loss_after - self.loss_before,
                "pattern_kept": self.pattern_kept, "zero_neurons": self.zero_neurons,
                "dead_neurons": self.dead_neurons,
                "dead_relative_margin": self.dead_relative_margin,
                "dead_margin": self.dead_relative_margin,          # deprecated key, same value
                "dead_distance": self.dead_distance,
                "dead_distances": {str(k): v for k, v in self.dead_distances.items()},
                "kink_samples": {str(k): v for k, v in self.kink_samples.items()},
                "gradient_norm": self.gradient_norm, "method": self.method}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"snapped ({self.method}): moved {self.moved:.3g}, loss {self.loss_before:.6g} -> "
                f"{self.loss_after:.6g} (change {self.loss_after - self.loss_before:+.2e}), "
                f"pattern kept: {self.pattern_kept}, zero neurons: {len(self.zero_neurons)}, "
                f"dead neurons: {len(self.dead_neurons)}"
                + (f" (nearest {self.dead_distance:.1e} from activating, relative margin "
                   f"{self.dead_relative_margin:.1e}), " if self.dead_neurons else ", ")
                + 
                f"kink samples: {sum(len(v) for v in self.kink_samples.values())}, "
                f"gradient in the pattern {self.gradient_norm:.2e}")


def _null_basis(A, D):
    if A.shape[0] == 0:
        return np.eye(D)
    _, s, Vt = np.linalg.svd(A, full_matrices=True)
    rank = int(np.sum(s > 1e-12 * max(s.max(), 1e-300)))
    return Vt[rank:].T


def _newton_bce(Phi, Y, iters, offset, z0):
    """Minimize mean BCE of ``offset + Phi z`` (``e = 1``) by damped Newton from ``z0``."""
    N = Phi.shape[0]
    z = z0.copy()
    y = Y[:, 0]

    def val(z):
        return float(_losses.loss_value("bce", offset + (Phi @ z)[:, None], Y))

    for _ in range(iters):
        out = offset[:, 0] + Phi @ z
        s = 0.5 * (1.0 + np.tanh(0.5 * out))
        g = Phi.T @ (s - y) / N
        if np.linalg.norm(g) < 1e-13:
            break
        H = Phi.T @ (Phi * (s * (1 - s))[:, None]) / N + 1e-12 * np.eye(Phi.shape[1])
        step = np.linalg.solve(H + 1e-10 * np.trace(H) / H.shape[0] * np.eye(H.shape[0]), g)
        t, v0 = 1.0, val(z)
        while t > 1e-8 and val(z - t * step) > v0 - 1e-4 * t * (g @ step):
            t /= 2
        z = z - t * step
    return z


def snap(net, X, y, *, loss="mse", kink_tol=1e-3, zero_tol=1e-3, max_iter=200):
    """Snap a near-stationary trained network to the exact stationary point of its pattern.

    Parameters
    ----------
    net : Network
        Shallow, ReLU or leaky ReLU.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    loss : {"mse", "bce"}, default="mse"
        ``bce`` needs ``e = 1``.
    kink_tol : float, default=1e-3
        Samples with ``|w_k·x̃_n| <= kink_tol·||w_k||·||x̃_n||`` are put on the hyperplane.
    zero_tol : float, default=1e-3
        Neurons with amplitude ``||a_k||·||w_k||`` at most ``zero_tol`` times
        ``max(max_k amplitude, rms(y) / rms(||x̃||))`` become zero neurons.
    max_iter : int, default=200
        Newton (``bce``) or alternating least-squares (``e > 1``) iterations.

    Returns
    -------
    SnapResult
        The snapped network, how far it moved, the loss before and after, whether the
        activation pattern was kept, and the zero and dead neurons.

    See Also
    --------
    topoanalysis.critical.snap_and_classify : Snap, then classify.
    topoanalysis.critical.classify_trained : Snap and classify a stack of networks.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           stationary points of a fixed activation pattern (squared loss).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> X, y = np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]])
    >>> near = Network.from_weights([np.array([[1.1]]), np.array([[0.8]])])
    >>> res = snap(near, X, y)
    >>> round(res.loss_after, 12), res.pattern_kept
    (0.0, True)
    """
    point = shallow_point(net, X, y, loss)
    kink_tol, zero_tol = check_tol("kink_tol", kink_tol), check_tol("zero_tol", zero_tol)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    e = point.a.shape[1]
    if point.loss != "mse" and e > 1:
        raise NotSupportedError(f"snapping with loss {point.loss!r} needs one output; got e = {e}.")
    return _snap(point, kink_tol, zero_tol, max_iter)


def _snap(point, kink_tol, zero_tol, max_iter=200, escaping=(), keep=()):
    """``escaping``: live neurons known (from the trajectory) to be escape neurons on their way
    out of this saddle; they go to the origin whatever their amplitude (see
    :func:`~topoanalysis.critical.saddle_to_saddle`). ``keep``: neurons known (from the
    trajectory) to have settled — their amplitude stays put — which stay live whatever their
    amplitude: a small settled neuron is part of the trained network, not a vanishing one."""
    Xa, Y = point.Xa, point.Y
    N, D = Xa.shape
    l, e = point.a.shape
    w0, a0, b0 = point.w, point.a, point.b
    amp = np.linalg.norm(a0, axis=1) * np.linalg.norm(w0, axis=1)
    data_ref = np.sqrt(np.mean(Y ** 2)) / max(np.sqrt(np.mean(np.sum(Xa ** 2, axis=1))), 1e-300)
    ref = max(float(amp.max(initial=0.0)), float(data_ref))
    pre = point.pre
    xn = np.linalg.norm(Xa, axis=1)
    on_all = np.abs(pre) <= kink_tol * np.linalg.norm(w0, axis=1)[None, :] * xn[:, None]
    sides = np.where(on_all, 0, np.sign(pre)).astype(int)
    # dead ReLU neurons are exactly stationary already and stay as they are (even when a sample
    # is within kink_tol of their hyperplane: moving them onto it could change the verdict)
    # "dead on the data" is decided exactly (float filter with a proven bound, then rationals)
    signs, _ = exact_signs(Xa, w0)
    dead = [k for k in range(l) if point.alpha == 0 and np.all(signs[:, k] < 0)]
    scale = np.linalg.norm(w0, axis=1)[None, :] * xn[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        dead_margin = {k: float(np.min(-pre[:, k] / scale[:, k])) for k in dead}
        dead_distances = {int(k): float(np.min(-pre[:, k] / xn)) for k in dead}

    def key(k):
        return (tuple(sides[:, k]), bool(a0[k, 0] >= 0) if e == 1 else None)

    escaping, keep = set(escaping), set(keep) - set(escaping)
    big = {key(k) for k in range(l) if k not in dead and k not in escaping
           and amp[k] > zero_tol * ref}
    # a small neuron aligned with a grown one (same pattern, kinks, sign) stays in its group;
    # the other small ones are the vanishing neurons of the saddle: the origin
    zero = [k for k in range(l) if k not in dead and (k in escaping or (
            amp[k] <= zero_tol * ref and key(k) not in big and k not in keep))]
    w, a = w0.copy(), a0.copy()
    b = None if b0 is None else b0.copy()
    kinks, bases, D_pat, live = {}, {}, np.zeros((N, l)), []
    for k in range(l):
        if k in zero:
            w[k], a[k] = 0.0, 0.0
            continue
        if k in dead:
            continue
        on = on_all[:, k]
        kinks[k] = np.flatnonzero(on).tolist()
        Nk = _null_basis(Xa[on], D)
        bases[k] = Nk
        w[k] = Nk @ (Nk.T @ w0[k])
        D_pat[:, k] = np.where(on, 0.0, point.slope(pre[:, k]))
        if np.any(D_pat[:, k] != 0) and Nk.shape[1] > 0:
            live.append(k)
    w_proj, a_proj = w.copy(), a.copy()
    has_b = b is not None
    if e == 1:
        # neurons sharing pattern, kink samples and output sign span the same columns: one
        # block per group, split back by amplitude share (they come out exactly parallel)
        groups = {}
        for k in live:
            key = (tuple(np.sign(D_pat[:, k]) * (1 + (np.sign(pre[:, k]) > 0))),
                   tuple(kinks[k]), a0[k, 0] >= 0)
            groups.setdefault(key, []).append(k)
        groups = list(groups.values())
        cols, sizes, z0 = [], [], []
        for g in groups:
            k = g[0]
            cols.append((D_pat[:, k:k + 1] * Xa) @ bases[k])
            sizes.append(bases[k].shape[1])
            z0.append(bases[k].T @ sum(a[j, 0] * w[j] for j in g))
        if has_b:
            cols.append(np.ones((N, 1)))
            z0.append(b)
        z0 = np.concatenate(z0) if z0 else np.zeros(0)
        Phi = np.concatenate(cols, axis=1) if cols else np.zeros((N, 0))
        fixed = np.zeros((N, 1))                 # dead neurons keep their (zero) contribution
        for k in range(l):
            if k not in live and k not in zero:
                fixed += point.act(Xa @ w[k])[:, None] * a[k]
        target = Y - fixed
        if Phi.shape[1]:
            if point.loss == "mse":
                # the least-squares solution nearest to the current point (a pattern often
                # holds a flat valley of them; the minimum-norm one may leave the pattern)
                z = z0 + np.linalg.lstsq(Phi, target[:, 0] - Phi @ z0, rcond=None)[0]
                method = "least squares in v_k = a_k w_k"
            else:
                z = _newton_bce(Phi, Y, max_iter, fixed, z0)
                method = "Newton (bce) in v_k = a_k w_k"
        else:
            z, method = np.zeros(0), "nothing to solve"
        pos = 0
        for g, s in zip(groups, sizes):
            V = bases[g[0]] @ z[pos:pos + s]
            pos += s
            share = amp[g] / amp[g].sum()
            for k, sh in zip(g, share):
                v = sh * V
                nv = np.linalg.norm(v)
                if nv == 0:
                    w[k], a[k] = 0.0, 0.0
                    continue
                ratio = np.linalg.norm(w0[k]) / max(abs(a0[k, 0]), 1e-300)
                sign = 1.0 if a0[k, 0] >= 0 else -1.0
                a[k, 0] = sign * np.sqrt(nv / ratio)
                w[k] = v / a[k, 0]
        if has_b:
            b = z[pos:pos + 1].copy()
    elif not live:
        method = "nothing to solve"
    else:
        # the stationary point of the smooth piece nearest to the kink projection: Newton on
        # the exact gradient of the fixed-pattern loss (its Hessian is singular along the
        # rescaling and splitting symmetries; the least-squares step is the shortest one)
        newton = _newton_pattern(point, live, bases, D_pat, w_proj, a_proj, b, zero, max_iter)
        if newton is not None:
            (w, a), b = _rebalance(*newton[:2], w0, a0, live), newton[2]
            method = "Newton on the fixed-pattern gradient"
            new = point.with_params(w, a, b)
            if _kept(new, live, kinks, pre, xn) and not _far(new, point):
                return _result(point, new, True, zero, dead, (dead_margin, dead_distances), kinks,
                               live, bases, method)
            w, a = w_proj.copy(), a_proj.copy()
            b = None if b0 is None else b0.copy()
        method = "alternating least squares"
        prev = np.inf
        for _ in range(max_iter):
            feats = D_pat * (Xa @ w.T)                           # (N, l)
            for k in range(l):
                if k not in live and k not in zero:
                    feats[:, k] = point.act(Xa @ w[k])
            cols = [feats[:, live]] + ([np.ones((N, 1))] if has_b else [])
            Phi = np.concatenate(cols, axis=1)
            fixed = sum((np.outer(point.act(Xa @ w[k]), a[k]) for k in range(l)
                         if k not in live and k not in zero), np.zeros((N, e)))
            sol0 = np.concatenate([a[live]] + ([b[None, :]] if has_b else []))
            sol = sol0 + np.linalg.lstsq(Phi, Y - fixed - Phi @ sol0, rcond=None)[0]
            a[live] = sol[:len(live)]
            if has_b:
                b = sol[len(live)].copy()
            blocks = []
            for k in live:
                Bk = (D_pat[:, k:k + 1] * Xa) @ bases[k]          # (N, s_k)
                blocks.append(np.kron(Bk, np.ones((e, 1))) * np.tile(a[k], N)[:, None])
            A = np.concatenate(blocks, axis=1)
            rhs = (Y - fixed - (0 if b is None else b)).ravel()
            zc = np.concatenate([bases[k].T @ w[k] for k in live])
            z = zc + np.linalg.lstsq(A, rhs - A @ zc, rcond=None)[0]
            pos = 0
            for k in live:
                s = bases[k].shape[1]
                w[k] = bases[k] @ z[pos:pos + s]
                pos += s
            val = float(np.sum((A @ z - rhs) ** 2))
            if prev - val <= 1e-15 * max(val, 1e-300):
                break
            prev = val
        w, a = _rebalance(w, a, w0, a0, live)
    new = point.with_params(w, a, b)
    kept = _kept(new, live, kinks, pre, xn)
    L_before, L_new = point.loss_value(), new.loss_value()
    proj = point.with_params(w_proj, a_proj, b0)
    far = _far(new, point)
    if live and (far or not kept or L_new > proj.loss_value() + 1e-9 * abs(L_before)):
        # the pattern's optimum left the pattern (or does not exist, e.g. separable data with
        # bce): keep the geometric part only (kink projections and zero neurons)
        if _kept(proj, live, kinks, pre, xn):
            new, kept = proj, True
            method += (" rejected (left the pattern, raised the loss or moved more than half of "
                       "||θ||); kink projection only")
    return _result(point, new, kept, zero, dead, (dead_margin, dead_distances), kinks, live,
                   bases, method)


def _rebalance(w, a, w0, a0, live):
    """Give each live neuron back its original ratio ``||w_k|| / ||a_k||``.

    ``(a_k, w_k) -> (a_k / λ, λ w_k)`` with ``λ > 0`` leaves the network's function, its
    activation pattern, stationarity and the verdict unchanged (positive homogeneity); the
    fixed-pattern Newton and least-squares steps move along that flat direction freely (a
    neuron trained to ``||w_k|| = ||a_k|| = 2.5e-4`` came out with ``||a_k|| = 0.54``), so each
    neuron of the snapped point is rescaled to the ratio it had as trained.
    """
    w, a = w.copy(), a.copy()
    for k in live:
        nw, na = np.linalg.norm(w[k]), np.linalg.norm(a[k])
        nw0, na0 = np.linalg.norm(w0[k]), np.linalg.norm(a0[k])
        if nw > 0 and na > 0 and nw0 > 0 and na0 > 0:
            lam = np.sqrt((nw0 / na0) * na / nw)
            w[k] *= lam
            a[k] /= lam
    return w, a


def _far(new, point):
    """The snap moved more than half of ``||θ||``: not a nearby point any more."""
    return bool(np.linalg.norm(new.net.params - point.net.params)
                > 0.5 * max(np.linalg.norm(point.net.params), 1e-300))


def _result(point, new, kept, zero, dead, margins, kinks, live, bases, method):
    dead_margin, dead_distances = margins
    gnorm = _pattern_gradient(new, live, kinks, bases)
    return SnapResult(network=new.net, moved=float(np.linalg.norm(new.net.params - point.net.params)),
                      loss_before=point.loss_value(), loss_after=new.loss_value(),
                      pattern_kept=kept, zero_neurons=zero, dead_neurons=dead,
                      dead_relative_margin=min(dead_margin.values()) if dead else None,
                      kink_samples={k: v for k, v in kinks.items() if v},
                      gradient_norm=gnorm, method=method, dead_distances=dead_distances)


def _newton_pattern(point, live, bases, D_pat, w, a, b, zero, max_iter):
    """Stationary point of the fixed-pattern ``mse`` loss near ``(w, a, b)`` (any ``e``).

    With the pattern fixed, ``f_n = c_n + b + Σ_k a_k (B_k z_k)_n`` where ``B_k`` holds the
    rows ``ρ'_nk x̃_n`` in the neuron's allowed subspace (coordinates ``z_k``): bilinear in
    ``(a_k, z_k)``. Newton on ``∇L = 0`` with the exact Hessian ``(2/Ne)(JᵀJ + S)`` (``S``
    the residual times the bilinear cross terms) and least-squares steps converges
    quadratically to the nearest stationary point of the piece when one is near. Returns
    ``(w, a, b)`` or None when the gradient does not fall below ``1e-12`` of its scale.
    """
    Xa, Y = point.Xa, point.Y
    N, e = Y.shape
    has_b = b is not None
    Bs = [(D_pat[:, k:k + 1] * Xa) @ bases[k] for k in live]
    sizes = [e + B.shape[1] for B in Bs]
    fixed = np.zeros((N, e))
    for k in range(w.shape[0]):
        if k not in live and k not in zero:
            fixed += np.outer(point.act(Xa @ w[k]), a[k])
    theta = np.concatenate([np.concatenate([a[k], bases[k].T @ w[k]]) for k in live]
                           + ([b] if has_b else []))
    P = theta.size
    c = 2.0 / (N * e)

    def unpack_theta(th):
        out, pos = [], 0
        for B, s in zip(Bs, sizes):
            out.append((th[pos:pos + e], th[pos + e:pos + s]))
            pos += s
        return out, (th[pos:pos + e] if has_b else None)

    def grad_hess(th):
        blocks, bb = unpack_theta(th)
        F = fixed + (0.0 if bb is None else bb)
        phis = []
        for (ak, zk), B in zip(blocks, Bs):
            phi = B @ zk
            phis.append(phi)
            F = F + np.outer(phi, ak)
        R = F - Y                                          # (N, e)
        J = np.zeros((N * e, P))
        S = np.zeros((P, P))
        pos = 0
        for (ak, zk), B, phi, s in zip(blocks, Bs, phis, sizes):
            for j in range(e):
                J[j::e, pos + j] = phi                     # ∂f_nj / ∂a_kj
                J[j::e, pos + e:pos + s] = ak[j] * B       # ∂f_nj / ∂z_k
                cross = B.T @ R[:, j]                      # Σ_n R_nj B_k[n]
                S[pos + j, pos + e:pos + s] = cross
                S[pos + e:pos + s, pos + j] = cross
            pos += s
        if has_b:
            for j in range(e):
                J[j::e, pos + j] = 1.0
        r = R.ravel()
        return c * (J.T @ r), c * (J.T @ J + S), r

    scale = None
    best = None
    for _ in range(max(int(max_iter), 1)):
        g, H, r = grad_hess(theta)
        gn = float(np.linalg.norm(g))
        if scale is None:
            scale = c * np.linalg.norm(r) * max(np.linalg.norm(theta), 1.0) + 1e-300
        if best is None or gn < best[0]:
            best = (gn, theta.copy())
        if gn <= 1e-15 * scale:
            break
        step = np.linalg.lstsq(H, g, rcond=1e-13)[0]
        theta = theta - step
        if not np.all(np.isfinite(theta)):
            break
    gn, theta = best
    if gn > 1e-12 * scale:
        return None
    blocks, bb = unpack_theta(theta)
    w, a = w.copy(), a.copy()
    for k, (ak, zk) in zip(live, blocks):
        a[k] = ak
        w[k] = bases[k] @ zk
    return w, a, (None if bb is None else bb.copy())


def _kept(new, live, kinks, pre, xn):
    """Kink samples on their hyperplanes and every other sample on its original side."""
    N = pre.shape[0]
    pre_new = new.pre
    w = new.w
    kept = True
    for k in live:
        on = np.zeros(N, dtype=bool)
        on[kinks[k]] = True
        scale = np.linalg.norm(w[k]) * xn
        if np.any(np.abs(pre_new[on, k]) > 1e-9 * scale[on]):
            kept = False
        if np.any(np.sign(pre_new[~on, k]) != np.sign(pre[~on, k])):
            kept = False
    return kept


def _pattern_gradient(point, live, kinks, bases):
    """Gradient norm in the output weights and the allowed subspaces of the input weights."""
    r = point.residual()
    pre = point.pre
    g = [np.linalg.norm(point.act(pre).T @ r)]
    for k in live:
        off = np.ones(pre.shape[0], dtype=bool)
        off[kinks[k]] = False
        gw = (point.slope(pre[off, k]) * (r[off] @ point.a[k])) @ point.Xa[off]
        g.append(np.linalg.norm(bases[k].T @ gw))
    if point.b is not None:
        g.append(np.linalg.norm(r.sum(axis=0)))
    return float(np.sqrt(np.sum(np.square(g))))


def snap_and_classify(net, X, y, *, loss="mse", kink_tol=1e-3, zero_tol=1e-3, tol=1e-8,
                      check=True, seed=0, n_perturbations=200, verdict_kink_tol=None):
    """:func:`snap`, then :func:`~topoanalysis.critical.verdict.classify` the snapped point.

    Parameters
    ----------
    net : Network
        Shallow ReLU or leaky ReLU network near a stationary point.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N,) or (N, e)
        Targets.
    loss : {"mse", "bce"}, default="mse"
        Loss.
    kink_tol, zero_tol : float, default=1e-3
        As in :func:`snap`.
    tol : float, default=1e-8
        As in :func:`~topoanalysis.critical.classify`.
    check : bool, default=True
        Run the numerical checks of the verdict.
    seed : int, default=0
        Seed of the random perturbations.
    n_perturbations : int, default=200
        Random perturbations of the check.
    verdict_kink_tol : float, optional
        Kink tolerance of the verdict at the snapped point (``classify``'s ``kink_tol``):
        default ``min(kink_tol, 1e-9)``, so ``kink_tol=0`` classifies with exact signs only.
        The snap (``kink_tol``, ``zero_tol``) is a heuristic that chooses the point; the
        verdict is decided afresh at it, from its own exact signs.

    Returns
    -------
    snapped : SnapResult
        The outcome of :func:`snap`.
    verdict : Verdict
        The classification of the snapped network
        (:func:`~topoanalysis.critical.classify`).

    See Also
    --------
    topoanalysis.critical.snap : The snapping step alone.
    topoanalysis.critical.classify : The classification step alone.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Theorem 4.2: certifying that a trained network is a local minimum.
    """
    tol = check_tol("tol", tol)
    check = check_bool("check", check)
    seed = check_int("seed", seed, minimum=0)
    s = snap(net, X, y, loss=loss, kink_tol=kink_tol, zero_tol=zero_tol)
    vkt = _verdict_kink_tol(verdict_kink_tol, check_tol("kink_tol", kink_tol))
    n_perturbations = check_perturbations(n_perturbations, s.network.arch.n_params)
    # a fresh point of the snapped parameters: its kinks, activation pattern and dead neurons
    # come from its own exact signs, nothing from the snap's tolerance decisions
    point = shallow_point(s.network, X, y, loss)
    v = _classify(point, vkt, tol, 0.0, check, (1e-6, 1e-4, 1e-2), n_perturbations, seed)
    return s, v
