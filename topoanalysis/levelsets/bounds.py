"""Upper bounds of the loss between the grid points of a straight segment.

A Dynamic String Sampling piece is accepted when its loss, evaluated on a grid of ``t``, stays
below a level; between grid points the loss is not evaluated. For a network with one hidden
layer of a piecewise-linear activation (``relu``, ``leaky_relu``, ``abs``, ``linear``) and a
linear output, the loss along ``θ_t = (1 − t) θ_a + t θ_b`` is bounded on every grid interval
``[s, s']`` (width ``h``) by

    ``max(L(s), L(s')) + M h² / 8 + K h / 4``,

from a lower bound on its second derivative: the pre-activations ``z_nk(t)`` and the output
weights ``a_k(t)`` are affine in ``t``, so away from the kinks each output ``f_n(t)`` is a
quadratic with ``|f_n''| <= 2 s Σ_k |Δa_k| |Δz_nk|`` (``s`` the largest slope of the
activation), and every loss ``ℓ`` of the package is convex in the outputs (``cross_entropy``
when each row of targets sums to ``>= 0``; a row summing below 0 makes it concave, and the
interval method below takes that case), so
``L'' >= Σ_n ℓ'(f_n) f_n'' >= −M``; a kink of neuron ``k`` on sample ``n`` inside the interval
(``z_nk`` changes sign there) lowers the slope of ``L`` by at most
``|ℓ'| |a_k| |Δσ'| |Δz_nk|``, whose sum is ``K`` (a concave corner of slope drop ``m`` lies at
most ``m h / 4`` above the chord). ``|ℓ'|`` is bounded by the loss: ``1/(N e)`` for ``bce`` and
``l1``, ``(|Σ_j y_nj| + Σ_j |y_nj|)/N`` for ``cross_entropy``, and ``2 F_nj/(N e)`` for ``mse`` with
``F_nj`` a bound of ``|f_nj − y_nj|`` on the interval (its values at the two ends plus the same
curvature and corner terms). The losses at the grid points are evaluated in float64 with an
a-priori rounding analysis (``loss_error``: relative ``γ_n`` bounds plus the absolute error of
every product that may underflow), and a kink counts in every interval its rounded position
may fall in. Every other architecture (deeper networks, ``tanh``, ``sigmoid``, a
sigmoid output) is bounded by interval arithmetic through the layers on each grid interval
(``method="interval"``, first order in the spacing). With a ``level`` the grid is refined (intervals halved) until every
bound is below it or ``max_points`` is reached.
"""

import dataclasses
import math

import numpy as np

from .._results import as_list
from .._validation import check_array, check_float, check_int
from ..exceptions import NotSupportedError, ShapeError, ValidationError
from ..losses import as_targets, check_loss, check_outputs_for_loss, loss_value

__all__ = ["SegmentBounds", "segment_loss_bounds"]

#: the two slopes (left of 0, right of 0) of the activations the bound covers
_SLOPES = {"relu": lambda a: (0.0, 1.0), "leaky_relu": lambda a: (a, 1.0),
           "abs": lambda a: (-1.0, 1.0), "linear": lambda a: (1.0, 1.0)}


def _covers(arch):
    """Whether :func:`segment_loss_bounds` covers ``arch`` (one hidden layer of ``relu``,
    ``leaky_relu``, ``abs`` or ``linear`` units, a linear output)."""
    return (len(arch.hidden) == 1 and arch.activation in _SLOPES
            and arch.output_activation == "linear")


#: unit roundoff of float64
_U = 2.0 ** -53
#: the smallest subnormal float64: a product, quotient or library call whose result underflows
#: errs by up to half of it in absolute terms (the relative bounds ``γ_n`` do not cover that)
_ETA = 2.0 ** -1074
#: a bound of the error of one float64 exp, log or log1p of NumPy, in units of _U (NumPy's
#: SIMD implementations are accurate to 4 ulp, 8 _U; 32 leaves room)
_LIBM = 32.0


def _gamma(n):
    """Higham's ``γ_n = n u / (1 − n u)``: the relative error of ``n`` roundings."""
    return n * _U / (1.0 - n * _U)


class _Segment:
    """The segment's float64 evaluation with an error bound at every grid point.

    A loss ``L̂(t)`` computed in float64 differs from the exact ``L(θ_t)`` by at most
    ``loss_error(t)``: the pre-activations of the two ends are sums of ``d`` products plus a bias
    (``|ẑ − z| <= γ_{d+2} (|X| |W|ᵀ + |b|)``, in any summation order, with or without FMA), the
    mixing ``(1 − t) ẑ_0 + t ẑ_1`` and ``(1 − t) a_0 + t a_1`` adds ``γ_4`` of the magnitudes,
    the activation is exact (``relu``, ``abs``, ``linear``) or one rounding (``leaky_relu``) and
    ``smax``-Lipschitz, the output sum ``γ_{l+2}`` of its magnitudes; the loss turns an output
    error ``E`` into ``|ℓ'| E`` (``2 |f − y| E + E²`` for ``mse``) and its own evaluation adds
    ``γ_{Ne+4}`` of the summed magnitudes plus ``_LIBM`` roundings per ``exp``/``log``. Each bound
    is computed in float64 and raised by ``γ`` of its own operation count, and by ``_ETA`` per
    product, of the values or of the bounds, that may underflow (no relative bound holds
    there).
    """

    def __init__(self, arch, ta, tb, X, Y, loss):
        (W1a, b1a), (W2a, b2a) = arch.unpack(ta)
        (W1b, b1b), (W2b, b2b) = arch.unpack(tb)
        self.N, self.e = Y.shape
        self.d, self.l = X.shape[1], W1a.shape[0]
        zero_l, zero_e = np.zeros(self.l), np.zeros(self.e)
        b1a = zero_l if b1a is None else b1a
        b1b = zero_l if b1b is None else b1b
        g = _gamma(self.d + 2)
        with np.errstate(over="ignore", invalid="ignore"):     # beyond float64: an inf bound
            aX = np.abs(X)
            self.Z0 = X @ W1a.T + b1a
            self.Z1 = X @ W1b.T + b1b
            # + the underflow of the d products (and of the bound's own products)
            self.E0 = (g * (1 + g)) * (aX @ np.abs(W1a).T + np.abs(b1a)) + (self.d + 4) * _ETA
            self.E1 = (g * (1 + g)) * (aX @ np.abs(W1b).T + np.abs(b1b)) + (self.d + 4) * _ETA
        self.A0, self.A1 = W2a.T, W2b.T                        # (l, e)
        self.B0 = zero_e if b2a is None else b2a
        self.B1 = zero_e if b2b is None else b2b
        self.left, self.right = _SLOPES[arch.activation](float(arch.negative_slope))
        self.smax = max(abs(self.left), abs(self.right))
        self.leaky = arch.activation == "leaky_relu"
        self.X, self.Y, self.loss = X, Y, loss

    def _act(self, z):
        return np.where(z > 0, self.right * z, self.left * z)

    def points(self, ts):
        """Loss, its error bound, outputs and their error bounds at the grid points ``ts``."""
        N, e, l = self.N, self.e, self.l
        T = ts.size
        F, EF = np.empty((T, N, e)), np.empty((T, N, e))
        g4, gl = _gamma(4), _gamma(l + 2)
        with np.errstate(over="ignore", invalid="ignore"):
            for i, t in enumerate(ts):
                c0, c1 = 1.0 - t, t
                Z = c0 * self.Z0 + c1 * self.Z1
                # every product below may underflow: _ETA per product, of the values and of
                # the bounds alike
                EZ = (c0 * self.E0 + c1 * self.E1
                      + g4 * (c0 * np.abs(self.Z0) + c1 * np.abs(self.Z1))) * (1 + g4) + 8 * _ETA
                S = self._act(Z)
                ES = self.smax * EZ + (_U * np.abs(S) + 2 * _ETA if self.leaky else 0.0)
                A, B = c0 * self.A0 + c1 * self.A1, c0 * self.B0 + c1 * self.B1
                EA = g4 * (c0 * np.abs(self.A0) + c1 * np.abs(self.A1)) + 4 * _ETA
                EB = g4 * (c0 * np.abs(self.B0) + c1 * np.abs(self.B1)) + 4 * _ETA
                aS, aA = np.abs(S), np.abs(A)
                F[i] = S @ A + B
                EF[i] = (ES @ aA + (aS + ES) @ EA + EB + gl * (aS @ aA + np.abs(B))) \
                    * (1 + _gamma(l + 8)) + (4 * l + 4) * _ETA
            L = np.asarray(loss_value(self.loss, F, self.Y), dtype=np.float64)
            L = np.where(np.isnan(L), np.inf, L)   # a loss beyond float64 (inf - inf): not finite
            EL = self._loss_error(F, EF, L)
        EL = np.where(np.isnan(EL), np.inf, EL)
        return L, EL, F, EF

    def _loss_error(self, F, EF, L):
        """``|L(θ_t) − L̂(t)|`` at each grid point from the output errors ``EF``."""
        N, e, Y = self.N, self.e, self.Y
        gs = _gamma(N * e + 4)
        lib = _LIBM * _U
        if self.loss == "mse":
            prop = np.mean(2.0 * np.abs(F - Y) * EF + EF * EF, axis=(1, 2))
            own = 2.0 * gs * L
        elif self.loss == "l1":
            prop = np.mean(EF, axis=(1, 2))
            own = 2.0 * gs * L
        elif self.loss == "bce":            # |sigma(f) - y| <= max(|y|, |1 - y|)
            prop = np.mean(np.maximum(np.abs(Y), np.abs(1.0 - Y)) * EF, axis=(1, 2))
            own = (2 * lib + gs) * np.mean(np.abs(F) * (1.0 + np.abs(Y)) + 1.0, axis=(1, 2))
        else:                               # cross-entropy: |l'| <= |sum y| + sum |y| per sample
            ay = np.sum(np.abs(Y), axis=1)
            lip = np.abs(np.sum(Y, axis=1)) + ay
            prop = np.mean(lip * np.max(EF, axis=2), axis=1)
            own = (4 * lib + _gamma(N + e + 8)) * np.mean(
                ay * (2.0 * np.max(np.abs(F), axis=2) + np.log(e) + 1.0), axis=1)
        # + the underflow of the squares, products and library calls of the loss and of the
        # bound (a mean of terms each short by at most _ETA)
        return (prop + own) * (1 + _gamma(N * e + 16)) + 16 * _ETA

    def intervals(self, ts, L, EL, F, EF, margin):
        """Upper bound of the exact loss on each interval of the grid ``ts``."""
        N, e, l, Y = self.N, self.e, self.l, self.Y
        gs = _gamma(N * e + l + 16)
        with np.errstate(over="ignore", invalid="ignore"):
            # exact |z_1 - z_0| and |a_1 - a_0| are at most these
            dZ = (np.abs(self.Z1 - self.Z0) + self.E0 + self.E1) * (1 + 2 * _U)
            dA = np.abs(self.A1 - self.A0) * (1 + 2 * _U)
            jump = abs(self.right - self.left)
            fpp = ((2.0 * self.smax * (dZ @ dA)) * (1 + _gamma(l + 4))   # (N, e): |f''| off kinks
                   + (2 * l + 2) * self.smax * _ETA)
            Amax = np.maximum(np.abs(self.A0), np.abs(self.A1))        # (l, e)
            h = np.diff(ts) * (1 + 2 * _U)
            T1 = ts.size - 1
            # kinks: the exact z_nk(t) = (1 - t) z0 + t z1 with z0, z1 within E0, E1 of the
            # computed values can vanish only where the lower line is <= 0 <= the upper line;
            # a kink counts in every grid interval meeting that range (widened by 1e-12)
            Jf = np.zeros((T1, N, e))                          # corner sizes of f per interval
            Jm = np.zeros((T1, N))                             # the same, largest output each
            lo0, lo1 = self.Z0 - self.E0, self.Z1 - self.E1
            up0, up1 = self.Z0 + self.E0, self.Z1 + self.E1
            n_idx, k_idx = np.nonzero(~((lo0 > 0) & (lo1 > 0)) & ~((up0 < 0) & (up1 < 0)))
            if n_idx.size and jump > 0:
                a_lo, b_lo = _zero_range(lo0[n_idx, k_idx], lo1[n_idx, k_idx], below=True)
                a_up, b_up = _zero_range(up0[n_idx, k_idx], up1[n_idx, k_idx], below=False)
                t_lo = np.maximum(a_lo, a_up) - 1e-12
                t_hi = np.minimum(b_lo, b_up) + 1e-12
                keep = t_lo <= t_hi
                n_idx, k_idx, t_lo, t_hi = n_idx[keep], k_idx[keep], t_lo[keep], t_hi[keep]
                size = ((jump * dZ[n_idx, k_idx])[:, None] * Amax[k_idx]    # (K, e)
                        * (1 + 4 * _U) + 2 * jump * _ETA)
                first = np.clip(np.searchsorted(ts, t_lo, side="right") - 1, 0, T1 - 1)
                last = np.clip(np.searchsorted(ts, t_hi, side="left") - 1, 0, T1 - 1)
                count = np.maximum(last - first + 1, 1)
                # every interval first..last gets the corner (sums of nonnegative terms only)
                rows = np.repeat(np.arange(first.size), count)
                cell = first[rows] + (np.arange(rows.size) - np.repeat(np.cumsum(count) - count,
                                                                        count))
                np.add.at(Jf, (cell, n_idx[rows]), size[rows])
                np.add.at(Jm, (cell, n_idx[rows]), size[rows].max(axis=1))
                Jf, Jm = Jf * (1 + gs), Jm * (1 + gs)
            if self.loss == "cross_entropy":
                ay = np.sum(np.abs(Y), axis=1)
                G = (np.abs(np.sum(Y, axis=1)) + ay) / N                 # per sample
                M = np.sum(G * np.max(fpp, axis=1))
                K = np.sum(G[None, :] * Jm, axis=1)       # per corner: its largest output
            else:
                if self.loss == "mse":
                    dev = np.maximum(np.abs(F[:-1] - Y) + EF[:-1], np.abs(F[1:] - Y) + EF[1:])
                    hh = h[:, None, None]             # (f'' h) h: no underflow of h² alone
                    Fb = dev + fpp[None] * hh * hh / 8 + Jf * hh / 4
                    G = 2.0 * Fb / (N * e)
                elif self.loss == "bce":                  # |sigma(f) - y| <= max(|y|, |1 - y|)
                    G = np.broadcast_to(np.maximum(np.abs(Y), np.abs(1.0 - Y)) / (N * e),
                                        (T1, N, e))
                else:                                     # l1: |l'| <= 1 per entry
                    G = np.full((T1, N, e), 1.0 / (N * e))
                M = np.sum(G * fpp[None], axis=(1, 2))
                K = np.sum(G * Jf, axis=(1, 2))
            # G may underflow (a subnormal |l'| bound times a huge f''): one _ETA per product
            # (summed: at most N e of them) covers that and the products' own underflow
            M = M * (1 + gs) + 4 * (N * e + 2) * _ETA * np.sum(np.max(fpp, axis=1) + 1.0)
            K = K * (1 + gs) + 4 * (N * e + 2) * _ETA * (np.sum(np.max(Jf, axis=2), axis=1)
                                                         + 1.0)
            top = np.maximum(L[:-1] + EL[:-1], L[1:] + EL[1:])
            rise = M * h * h / 8 + K * h / 4
            # the rounding of the sum relative to its terms (``top`` may be negative for a
            # cross-entropy with negative targets), and the products' underflow
            upper = top + rise + 8 * _U * (np.abs(top) + rise) + 4 * _ETA
            upper = upper + margin * (np.abs(upper) + np.abs(top))
        return np.where(np.isnan(upper), np.inf, upper)



def _refine_curvature(seg, ts, level, max_points, margin):
    """The curvature bound on ``ts``, refined against ``level`` (halving the intervals whose
    bound is not below it)."""
    L, EL, F, EF = seg.points(ts)
    while True:
        upper = seg.intervals(ts, L, EL, F, EF, margin)
        if level is None:
            proven = None
            break
        bad = ~(upper < level)
        if not bad.any():
            proven = True
            break
        proven = False
        if np.any(L - EL >= level):          # the loss certainly reaches the level there
            break
        mid = 0.5 * (ts[:-1][bad] + ts[1:][bad])
        mid = mid[(mid > ts[:-1][bad]) & (mid < ts[1:][bad])]   # intervals still divisible
        if mid.size == 0 or ts.size + mid.size > max_points:
            break
        Lm, ELm, Fm, EFm = seg.points(mid)
        order = np.argsort(np.concatenate([ts, mid]), kind="stable")
        ts = np.concatenate([ts, mid])[order]
        L, EL = np.concatenate([L, Lm])[order], np.concatenate([EL, ELm])[order]
        F, EF = np.concatenate([F, Fm])[order], np.concatenate([EF, EFm])[order]
    return ts, L, EL, upper, proven


def _refine_intervals(seg, ts, level, max_points, margin):
    """The interval bound on ``ts``, refined against ``level`` (each new half bounded alone)."""
    L, EL = seg.points(ts)

    def bound(a, b):
        u = seg.upper(a, b)
        return u + margin * abs(u)

    upper = np.array([bound(a, b) for a, b in zip(ts[:-1], ts[1:])])
    proven = None
    while level is not None:
        bad = ~(upper < level)
        if not bad.any():
            proven = True
            break
        proven = False
        mid = 0.5 * (ts[:-1] + ts[1:])
        split = bad & (mid > ts[:-1]) & (mid < ts[1:])
        if not split.any() or ts.size + int(split.sum()) > max_points:
            break
        Lm, ELm = seg.points(mid[split])
        new_ts, new_L, new_EL, new_up = [ts[0]], [L[0]], [EL[0]], []
        k = 0
        for i in range(ts.size - 1):
            if split[i]:
                new_ts += [mid[i], ts[i + 1]]
                new_L += [Lm[k], L[i + 1]]
                new_EL += [ELm[k], EL[i + 1]]
                new_up += [bound(ts[i], mid[i]), bound(mid[i], ts[i + 1])]
                k += 1
            else:
                new_ts.append(ts[i + 1])
                new_L.append(L[i + 1])
                new_EL.append(EL[i + 1])
                new_up.append(upper[i])
        ts, L, EL = np.array(new_ts), np.array(new_L), np.array(new_EL)
        upper = np.array(new_up)
    return ts, L, EL, np.where(np.isnan(upper), np.inf, upper), proven


class _IntervalSegment:
    """Interval bounds of the loss on ``t ∈ [s, s']`` for any architecture of the package.

    The parameters on the interval are ``θ_c ± θ_r`` (midpoint and radius, with the rounding of
    ``θ_a + t Δ``); every layer maps midpoint-radius inputs to midpoint-radius pre-activations
    (``|W h − W_c h_c| <= W_r (|h_c| + h_r) + |W_c| h_r`` plus ``γ_{n+2}`` of the magnitudes),
    plus ``_ETA`` per product that may underflow; the activations map intervals to the hull of
    their values at the ends (and at the kink 0 of the piecewise-linear ones: ``abs`` and a
    leaky ReLU with a negative slope are not monotone), moved outward by ``_LIBM`` unit
    roundoffs for ``tanh``, ``2 _LIBM + 4`` for ``sigmoid`` and one float for the rest; every
    loss is convex in each output, so its largest value on a box of outputs is at a corner,
    bounded per entry (cross-entropy: ``(Σ y) lse(f) − Σ_j y_j f_j``, each term at its worse
    end, which needs no convexity). First order in ``s' − s``: refine to tighten.
    """

    def __init__(self, arch, ta, tb, X, Y, loss):
        self.arch, self.X, self.Y, self.loss = arch, X, Y, loss
        self.ta, self.d = ta, tb - ta
        self.N, self.e = Y.shape

    def _act(self, name, lo, hi):
        """Outward interval of the activation of ``[lo, hi]``: ``tanh`` and ``sigmoid`` are
        monotone; the piecewise-linear ones (a kink at 0) take the hull of the two ends and
        of ``σ(0) = 0`` when ``0 ∈ [lo, hi]`` (``abs`` and a leaky ReLU with a negative slope
        are not monotone)."""
        from ..activations import activate

        slope = self.arch.negative_slope
        flo, fhi = activate(name, lo, slope), activate(name, hi, slope)
        if name in ("tanh", "sigmoid"):
            # sigmoid: e^z / (1 + e^z) carries the error of exp twice, plus two roundings
            w = (_LIBM if name == "tanh" else 2 * _LIBM + 4) * _U
            return flo - w * np.abs(flo) - 1e-300, fhi + w * np.abs(fhi) + 1e-300
        nlo, nhi = np.minimum(flo, fhi), np.maximum(flo, fhi)
        nlo = np.where((lo <= 0) & (hi >= 0), np.minimum(nlo, 0.0), nlo)
        return np.nextafter(nlo, -np.inf), np.nextafter(nhi, np.inf)

    def upper(self, s, s1):
        """Upper bound of the exact loss on ``[s, s1]`` (``s <= s1``)."""
        m, hw = 0.5 * (s + s1), 0.5 * (s1 - s)
        g3 = _gamma(4)
        ad = np.abs(self.d)
        tc = self.ta + m * self.d
        # exact theta(t) = ta + t (tb - ta) for t in [s, s1]: radius of the rounding of d, of
        # the product and the sum, and of |t - m| <= hw (+ the rounding of m and hw)
        # (m and hw of subnormal ends may each be off by _ETA / 2: the 2 _ETA |d| term)
        tr = ((hw * (1 + 2 * _U) + 2 * _U * abs(m) + 2 * _ETA) * ad
              + g3 * (np.abs(self.ta) + abs(m) * ad))
        # + the underflow of m d (in tc) and of the products of tr itself
        tr = tr * (1 + g3) + 4 * _ETA
        layers_c = self.arch.unpack(tc)
        layers_r = self.arch.unpack(tr)
        hc, hr = self.X, np.zeros_like(self.X)
        n_layers = len(layers_c)
        with np.errstate(over="ignore", invalid="ignore"):
            for i, ((Wc, bc), (Wr, br)) in enumerate(zip(layers_c, layers_r)):
                n = Wc.shape[1]
                aW, ah = np.abs(Wc), np.abs(hc)
                zc = hc @ Wc.T
                mag = ah @ aW.T
                zr = ah @ Wr.T + hr @ (aW + Wr).T
                if bc is not None:
                    zc = zc + bc
                    mag = mag + np.abs(bc)
                    zr = zr + br
                # + the underflow of the n products of zc and of the 3 n products of the bound
                zr = (zr + _gamma(n + 2) * mag) * (1 + _gamma(n + 6)) + (2 * n + 4) * _ETA
                lo = np.nextafter(zc - zr, -np.inf)
                hi = np.nextafter(zc + zr, np.inf)
                name = (self.arch.activation if i < n_layers - 1
                        else self.arch.output_activation)
                if name != "linear" or i < n_layers - 1:
                    lo, hi = self._act(name, lo, hi)
                if i < n_layers - 1:
                    hc = 0.5 * lo + 0.5 * hi
                    hr = np.nextafter(np.maximum(hi - hc, hc - lo), np.inf)
            return self._loss_upper(lo, hi)

    def _loss_upper(self, lo, hi):
        """Largest loss over the box of outputs ``[lo, hi]`` (per entry), rounded up."""
        Y, N, e = self.Y, self.N, self.e
        lib = _LIBM * _U
        gs = _gamma(N * e + 8)
        if self.loss == "mse":
            v = np.maximum((lo - Y) ** 2, (hi - Y) ** 2)
            out = np.mean(v) * (1 + gs + 4 * _U) + 4 * _ETA     # + underflow of the squares
        elif self.loss == "l1":
            out = np.mean(np.maximum(np.abs(lo - Y), np.abs(hi - Y))) * (1 + gs + 4 * _U) \
                + 4 * _ETA
        elif self.loss == "bce":
            def val(f):
                return np.maximum(f, 0) - f * Y + np.log1p(np.exp(-np.abs(f)))
            big = np.maximum(np.abs(lo), np.abs(hi))
            v = np.maximum(val(lo), val(hi)) + (2 * lib + gs) * (big * (1 + np.abs(Y)) + 1)
            out = np.mean(v) * (1 + gs)
        else:
            sy = np.sum(Y, axis=1)
            end = np.where(sy[:, None] >= 0, hi, lo)
            mx = np.max(end, axis=1, keepdims=True)
            lse = (mx + np.log(np.sum(np.exp(end - mx), axis=1, keepdims=True)))[:, 0]
            lin = np.sum(Y * np.where(Y >= 0, lo, hi), axis=1)
            big = np.maximum(np.max(np.abs(lo), axis=1), np.max(np.abs(hi), axis=1))
            ay = np.sum(np.abs(Y), axis=1)
            v = sy * lse - lin + (4 * lib + _gamma(e + 8)) * (ay + np.abs(sy)) * (
                2 * big + np.log(e) + 1)
            # v may be negative (negative targets): the mean's rounding is relative to the
            # mean of |v|, and scaling a negative mean by 1 + gs would lower it
            out = np.mean(v) + 2 * gs * np.mean(np.abs(v)) + 4 * _ETA
        return float(out) if np.isfinite(out) else np.inf

    def points(self, ts):
        """Float loss at the grid points and a one-sided bound of its rounding."""
        from ..network import forward

        tb = self.ta + self.d
        L = np.empty(ts.size)
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(0, ts.size, 32):     # (32, N, width) at a time
                t = ts[i:i + 32, None]
                L[i:i + 32] = loss_value(self.loss, forward(self.arch, (1.0 - t) * self.ta
                                                            + t * tb, self.X), self.Y)
        L = np.where(np.isnan(L), np.inf, L)
        up = np.array([self.upper(t, t) for t in ts])
        with np.errstate(invalid="ignore"):
            gap = up - L                        # inf - inf: an unknown error, inf
        return L, np.where(np.isnan(gap), np.inf, np.maximum(gap, 0.0))

def _zero_range(v0, v1, *, below):
    """Range ``[a, b]`` of ``t ∈ [0, 1]`` where the line ``(1 − t) v0 + t v1`` is ``<= 0``
    (``below``) or ``>= 0`` (empty: ``a > b``)."""
    s0, s1 = (v0, v1) if below else (-v0, -v1)            # the set where s(t) <= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        root = s0 / (s0 - s1)
    a = np.where(s0 <= 0, 0.0, np.where(s1 <= 0, root, 2.0))
    b = np.where(s1 <= 0, 1.0, np.where(s0 <= 0, root, -1.0))
    return np.nan_to_num(a, nan=0.0), np.nan_to_num(b, nan=1.0)


@dataclasses.dataclass(frozen=True)
class SegmentBounds:
    """Loss on the grid of a segment and an upper bound between its grid points.

    Attributes
    ----------
    ts : ndarray of shape (T,)
        The grid on ``[0, 1]``.
    loss : ndarray of shape (T,)
        Loss at the grid points.
    upper : ndarray of shape (T − 1,)
        Upper bound of the loss on each grid interval.
    grid_max : float
        Highest loss on the grid.
    max_upper : float
        Upper bound of the loss on the whole segment.
    loss_error : ndarray of shape (T,)
        Bound of the float64 rounding error of ``loss``: the exact loss at ``ts[i]`` is at most
        ``loss[i] + loss_error[i]`` (with the curvature method also at least
        ``loss[i] − loss_error[i]``).
    level : float or None
        The level the bound was refined against (None: the grid as given).
    proven : bool or None
        With a ``level``: True when every interval's bound is below it (the loss is below the
        level on the whole segment), False when the refinement stopped first (at
        ``max_points`` or a grid point certainly at or above the level).
    """

    ts: np.ndarray
    loss: np.ndarray
    upper: np.ndarray
    grid_max: float
    max_upper: float
    loss_error: np.ndarray = None
    level: float = None
    proven: bool = None

    def summary(self):
        """One line: the highest loss on the grid and the bound on the whole segment.

        Returns
        -------
        str
            The line.
        """
        line = (f"segment loss: {self.grid_max:.6g} on a grid of {self.ts.size} points, at most "
                f"{self.max_upper:.6g} anywhere on the segment")
        if self.level is not None:
            line += (f"; {'proven' if self.proven else 'not proven'} below {self.level:.6g}")
        return line

    def to_dict(self):
        """The bounds as plain JSON types (non-finite floats stay floats: ``write_json`` writes
        them as ``null``).

        Returns
        -------
        dict
            The fields, arrays as lists.
        """
        return {"ts": as_list(self.ts), "loss": as_list(self.loss),
                "upper": as_list(self.upper), "grid_max": float(self.grid_max),
                "max_upper": float(self.max_upper),
                "loss_error": None if self.loss_error is None else as_list(self.loss_error),
                "level": None if self.level is None else float(self.level),
                "proven": None if self.proven is None else bool(self.proven)}


def segment_loss_bounds(theta_a, theta_b, X, y, *, arch=None, loss="mse", n_points=100,
                        ts=None, level=None, max_points=4096, margin=0.0, method="auto"):
    """Upper bound of the loss on the segment from ``theta_a`` to ``theta_b``.

    Parameters
    ----------
    theta_a, theta_b : Network or array_like of shape (P,)
        The two ends (networks, or flat parameters of ``arch``).
    X : array_like of shape (N, d)
        Inputs.
    y : array_like
        Targets as the loss takes them.
    arch : Architecture, optional
        Needed with flat parameters: one hidden layer, activation ``relu``, ``leaky_relu``,
        ``abs`` or ``linear``, linear output.
    loss : str, default="mse"
        ``"mse"``, ``"bce"``, ``"l1"`` or ``"cross_entropy"``.
    n_points : int, default=100
        Grid points (``0`` and ``1`` included) when ``ts`` is not given.
    ts : array_like of shape (T,), optional
        Increasing grid on ``[0, 1]`` starting at 0 and ending at 1.
    level : float, optional
        Refine the grid until the loss is proven below ``level`` on the whole segment:
        intervals whose bound is not below it are halved, until every bound is below (``proven``
        True), a grid point's loss is certainly ``>= level``, or the grid would exceed
        ``max_points`` (``proven`` False).
    max_points : int, default=4096
        Largest grid of the refinement (with ``level``).
    margin : float, default=0.0
        Relative amount added to each bound on top of the rounding analysis (``loss_error``).
    method : {"auto", "curvature", "interval"}, default="auto"
        ``"curvature"``: the grid values plus the second-order and kink terms (one hidden layer
        of ``relu``, ``leaky_relu``, ``abs`` or ``linear`` units, linear output; tight,
        ``O(h²)`` off the kinks); ``"interval"``: interval arithmetic through every layer on each
        grid interval (any architecture and activation of the package; ``O(h)``, so it needs
        finer grids); ``"auto"``: the first where it applies, else the second (also for
        ``"cross_entropy"`` targets of a row summing below 0).

    Returns
    -------
    SegmentBounds
        The grid, the losses on it and the bound of each grid interval.

    Raises
    ------
    NotSupportedError
        For ``method="curvature"`` on deeper networks, other activations or an output
        activation, or with ``"cross_entropy"`` targets of a row summing below 0 (the loss is
        concave in the outputs there).

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Dynamic String Sampling accepts a piece on a grid of
           interpolated losses (Section 3); this bound covers the points between.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture
    >>> arch = Architecture(1, (2,), 1)
    >>> a, b = np.array([1., -1, 0, 0, 1, 1, 0]), np.array([-1., 1, 0, 0, 1, 1, 0])
    >>> X, y = np.array([[1.0], [-1.0]]), np.zeros((2, 1))
    >>> res = segment_loss_bounds(a, b, X, y, arch=arch, n_points=5)
    >>> bool(res.max_upper >= res.grid_max)
    True
    """
    from ..network import Architecture, Network

    if arch is None:
        arch = getattr(theta_a, "arch", None)
    if not isinstance(arch, Architecture):
        raise ValidationError(f"`arch` must be given (an Architecture) with flat parameters; "
                              f"got {type(arch).__name__}.")
    theta_a = theta_a.params if isinstance(theta_a, Network) else theta_a
    theta_b = theta_b.params if isinstance(theta_b, Network) else theta_b
    from .._validation import check_choice

    method = check_choice("method", method, ("auto", "curvature", "interval"))
    if method == "curvature" and not _covers(arch):
        raise NotSupportedError(
            f"`arch` must have one hidden layer of relu, leaky_relu, abs or linear units and a "
            f"linear output for the curvature bound; got {arch} (method='interval' covers it).")
    loss = check_loss(loss)
    check_outputs_for_loss(loss, arch.outputs)
    P = arch.n_params
    ta = check_array("theta_a", theta_a, shape=(P,))
    tb = check_array("theta_b", theta_b, shape=(P,))
    X = check_array("X", X, ndim=2)
    if X.shape[0] == 0:
        raise ShapeError("`X` must hold at least one sample; got shape (0, "
                         f"{X.shape[1]}).")
    if X.shape[1] != arch.inputs:
        raise ShapeError(f"`X` must have {arch.inputs} columns; got shape {X.shape}.")
    Y = np.asarray(as_targets(y, loss, arch.outputs), dtype=np.float64)
    # a cross-entropy row whose targets sum below 0 is concave in the outputs: the curvature
    # bound (convexity of the loss) does not hold there
    # (the sign of the exact sum: math.fsum rounds it correctly, np.sum may round -1 to 0)
    sums = [math.fsum(row) for row in Y] if loss == "cross_entropy" else [0.0]
    concave = min(sums) < 0
    if method == "curvature" and concave:
        raise NotSupportedError(
            "`y` must have rows summing to >= 0 for the curvature bound with 'cross_entropy' "
            f"(the loss is concave in the outputs otherwise); got a row sum of "
            f"{min(sums):.6g} (method='interval' covers it).")
    if method == "auto":
        method = "curvature" if _covers(arch) and not concave else "interval"
    if ts is None:
        ts = np.linspace(0.0, 1.0, check_int("n_points", n_points, minimum=2))
    ts = check_array("ts", ts, ndim=1)
    if ts.size < 2 or ts[0] != 0.0 or ts[-1] != 1.0 or np.any(np.diff(ts) <= 0):
        raise ShapeError("`ts` must increase from 0 to 1 (two points at least); got "
                         f"{np.array2string(ts, threshold=6)}.")
    margin = check_float("margin", margin, minimum=0.0)

    N, e = Y.shape
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of `X` ({X.shape[0]}); got "
                         f"{Y.shape[0]}.")
    if level is not None:
        level = check_float("level", level)
        if not np.isfinite(level):
            raise ValidationError(f"`level` must be a finite float; got {level!r}.")
        max_points = check_int("max_points", max_points, minimum=ts.size)
    from .._resources import check_memory

    # the outputs and their error bounds on the grid: a few (T, N, e) arrays
    T_max = ts.size if level is None else max_points
    check_memory(40.0 * T_max * N * e + 48.0 * N * arch.hidden[0],
                 f"{T_max} grid points × {N} samples × {e} outputs",
                 "n_points" if level is None else "max_points")
    if method == "interval":
        ts, L, EL, upper, proven = _refine_intervals(
            _IntervalSegment(arch, ta, tb, X, Y, loss), ts, level, max_points, margin)
    else:
        ts, L, EL, upper, proven = _refine_curvature(
            _Segment(arch, ta, tb, X, Y, loss), ts, level, max_points, margin)
    return SegmentBounds(ts=ts, loss=L, upper=upper, grid_max=float(np.max(L)),
                         max_upper=float(np.max(upper)), loss_error=EL, level=level,
                         proven=proven)
