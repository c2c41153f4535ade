"""Audit (session 13, breakd): exact oracles for the degeneracy and obstruction claims.

Independent rational oracles: exact ray grouping of the weight vectors (detect, canonical
form), the exact maximum of the squared Jacobian norm over every region of the central
arrangement in dimension <= 3 (regions reached by lexicographic perturbations around the
arrangement's rays), and the components of ``H(c)`` from the exact signs of ``c_k``.
"""

import itertools
from fractions import Fraction as F

import numpy as np
import pytest

from topoanalysis import Network
from topoanalysis.degeneracy import canonical_form, detect_degeneracies, sobolev_distance
from topoanalysis.obstruction import network_topology, reachability


def q(x):
    return F(float(x))


def dot(u, v):
    return sum(a * b for a, b in zip(u, v))


def cross(u, v):
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def form(net, sign=1):
    w, a = net.neuron_weights()
    V = [tuple(q(x) for x in r) for r in w]
    S = [tuple(sign * q(x) for x in r) for r in a]
    b2 = net.biases[1] if net.arch.output_bias else None
    if b2 is not None and np.any(np.asarray(b2) != 0):
        V.append(tuple([F(0)] * (w.shape[1] - 1) + [F(1)]))
        S.append(tuple(sign * q(x) for x in b2))
    return V, S


def lexsign(v, seq):
    for z in seq:
        s = dot(v, z)
        if s:
            return 1 if s > 0 else -1
    return 0


def region_seqs(V):
    D = len(V[0])
    N = [v for v in V if any(v)]
    if not N:
        return [[tuple([F(1)] + [F(0)] * (D - 1))]]
    if D == 1:
        return [[(F(1),)], [(F(-1),)]]
    if D == 2:
        return [[(-st * v[1], st * v[0]), tuple(sp * x for x in v)]
                for v in N for st in (1, -1) for sp in (1, -1)]
    rays = [cross(u, v) for u, v in itertools.combinations(N, 2) if any(cross(u, v))]
    if not rays:
        p = cross(N[0], (F(1), F(0), F(0)))
        rays = [p if any(p) else cross(N[0], (F(0), F(1), F(0)))]
    out = []
    for r0 in rays:
        for sr in (1, -1):
            r = tuple(sr * x for x in r0)
            for v in (v for v in N if dot(v, r) == 0):
                for st in (1, -1):
                    t = tuple(st * x for x in cross(v, r))
                    for sp in (1, -1):
                        out.append([r, t, tuple(sp * x for x in cross(r, t))])
    return out


def max_sq_grad(V, S):
    e, D = len(S[0]), len(V[0])
    best = F(0)
    for seq in region_seqs(V):
        J = [[F(0)] * D for _ in range(e)]
        for v, s in zip(V, S):
            if lexsign(v, seq) > 0:
                for i in range(e):
                    for j in range(D):
                        J[i][j] += s[i] * v[j]
        best = max(best, sum(x * x for row in J for x in row))
    return best


def ray_key(v):
    for x in v:
        if x != 0:
            return tuple(y / abs(x) for y in v)
    return None


def _net(rng, d, l, e, hb, fam):
    W, A = rng.normal(size=(l, d)), rng.normal(size=(e, l))
    b = rng.normal(size=l) if hb else None
    if fam in ("parallel", "opposite", "near") and l >= 2:
        f = 2.0 if fam != "opposite" else -0.5
        W[1] = f * W[0]
        if hb:
            b[1] = f * b[0]
        if fam == "near":
            W[1, 0] *= 1 + 1e-12
    if fam == "zero":
        W[0] = 0
        if hb:
            b[0] = 0
    scale = {"big": 2.0 ** 480, "small": 2.0 ** -480}.get(fam, 1.0)
    W = W * scale
    if hb:
        b = b * scale
    return Network.from_weights([W, A], [b, None] if hb else None)


FAMS = ("generic", "parallel", "opposite", "near", "zero", "big", "small")


@pytest.mark.parametrize("seed", range(4))
def test_detect_and_canonical_rays_match_exact_oracle(seed):
    rng = np.random.default_rng(seed)
    for it, fam in enumerate(FAMS * 2):
        d, l, e, hb = 1 + it % 2, 2 + it % 3, 1 + (it // 2) % 2, bool(it % 3 == 0)
        net = _net(rng, d, l, e, hb, fam)
        w, a = net.neuron_weights()
        Vw = [tuple(q(x) for x in r) for r in w]
        red, opp = set(), set()
        for i, j in itertools.combinations(range(l), 2):
            if any(Vw[i]) and any(Vw[j]):
                ki, kj = ray_key(Vw[i]), ray_key(Vw[j])
                if ki == kj:
                    red.add((i, j))
                elif ki == tuple(-x for x in kj):
                    opp.add((i, j))
        rep = detect_degeneracies(net)
        got = {k: {x.neurons for x in rep.items if x.kind == k and x.exact}
               for k in ("redundant", "opposite")}
        assert got["redundant"] == red and got["opposite"] == opp
        # canonical form: one neuron per ray of (w, b) whose exact merged output is non-zero
        V, S = form(net)
        coef = {}
        for v, s in zip(V, S):
            if any(v) and any(s):
                lam = abs(next(x for x in v if x))
                acc = coef.setdefault(ray_key(v), [F(0)] * e)
                for i in range(e):
                    acc[i] += lam * s[i]
        n_rays = sum(1 for c in coef.values() if any(c))
        for aug in ("bias", "c3"):
            cf = canonical_form(net, augment=aug)
            assert cf.exact and cf.verified and cf.width == n_rays


@pytest.mark.parametrize("seed", range(3))
def test_sobolev_exact_squared_equals_region_maximum(seed):
    rng = np.random.default_rng(100 + seed)
    for it, fam in enumerate(FAMS):
        d, e, hb = 1 + it % 2, 1 + it % 2, bool(it % 2 == 0)
        if d == 2 and hb and e == 2:
            hb = False
        n1 = _net(rng, d, 3, e, hb, fam)
        n2 = _net(rng, d, 2, e, hb, FAMS[(it + 3) % len(FAMS)])
        V1, S1 = form(n1)
        V2, S2 = form(n2, -1)
        true = max_sq_grad(V1 + V2, S1 + S2)
        sd = sobolev_distance(n1, n2)
        assert sd.exact and F(sd.squared) == true
        sf = sobolev_distance(n1, n2, certify="float")
        root = float(true) ** 0.5
        assert sf.lower <= root * (1 + 2 ** -52) and root <= sf.upper * (1 + 2 ** -52)


@pytest.mark.parametrize("act,slope", [("relu", 0.01), ("leaky_relu", 0.2), ("abs", 0.01)])
def test_topology_components_and_reachable_construction(act, slope):
    rng = np.random.default_rng(7)
    for it in range(12):
        d, l, e, hb = 1 + it % 2, 1 + it % 3, 1 + (it // 3) % 2, bool(it % 4 == 1)
        W, A = rng.normal(size=(l, d)), rng.normal(size=(e, l)) * (3.0 if it % 2 else 0.5)
        b = rng.normal(size=l) if hb else None
        if it % 3 == 2:       # c_k exactly 0 and ±1 ulp
            W[:] = 0
            A[:] = 0
            if hb:
                b[:] = 0
            W[:, 0] = [1.0, np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)][:l]
            A[0] = [1.0, -1.0, 1.0][:l]
        net = Network.from_weights([W, A], [b, None] if hb else None, activation=act,
                                   negative_slope=slope)
        w, a = net.neuron_weights()
        dw = w.shape[1]
        sg = []
        for k in range(l):
            c = sum(q(x) ** 2 for x in w[k]) - sum(q(x) ** 2 for x in a[k])
            sg.append((c > 0) - (c < 0))
        frozen = [k for k in range(l) if (sg[k] < 0 and e == 1) or (sg[k] > 0 and dw == 1)]
        comp = tuple(int(np.sign(a[k, 0] if sg[k] < 0 else w[k, 0])) for k in frozen)
        top = network_topology(net)
        assert list(top.signs) == sg and top.frozen_slots == tuple(frozen)
        assert top.component == comp and top.n_components == 2 ** len(frozen)
        tgt = Network.from_weights([rng.normal(size=(l, d)), rng.normal(size=(e, l))],
                                   [rng.normal(size=l), None] if hb else None,
                                   activation=act, negative_slope=slope)
        r = reachability(net, tgt)
        if r.reachable:
            wr, ar = r.realization.neuron_weights()
            assert tuple(int(np.sign(ar[k, 0] if sg[k] < 0 else wr[k, 0]))
                         for k in frozen) == comp
            assert r.verified
