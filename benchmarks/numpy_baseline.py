"""The best batched NumPy baselines we could write (full-batch GD with BCE, and interpolation).

All ``B`` networks advance together, activations kept as ``(B, width, N)`` ("features x
samples") so that every elementwise operation runs over long contiguous rows:

* the first layer of all networks is one GEMM ``(B·l, d) @ (d, N)`` and its weight gradient
  one GEMM ``(B·l, N) @ (N, d)`` (the data are shared, so they are one matrix product);
* later layers use ``np.matmul`` on the ``(B, out, in) @ (B, in, N)`` stacks (one BLAS call per
  network);
* buffers are preallocated and elementwise work uses ``out=``.

Interpolation: directly (all points' networks stacked into GEMMs) and, faster, with the
engine's shortcut of mixing the first-layer pre-activations of the two ends.

BLAS threads: OpenBLAS uses all cores by default (the machine's 2 here). ``NumpyGD`` runs
in float64 or float32 (``dtype``).
"""

import numpy as np


class NumpyGD:
    """Full-batch gradient descent with BCE-with-logits on a stack of ReLU networks."""

    def __init__(self, arch, theta, X, Y, lr, dtype=np.float64):
        self.arch = arch
        self.lr = lr
        self.theta = np.array(theta, dtype=dtype)
        self.B = self.theta.shape[0]
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.XT = np.ascontiguousarray(X.T, dtype=dtype)
        self.N = X.shape[0]
        self.Yt = np.ascontiguousarray(Y.T, dtype=dtype)[None]  # (1, e, N)
        # contiguous per-layer parameters and gradients: (B, out, in) and (B, out)
        self.layers = [(np.ascontiguousarray(W), None if b is None else np.ascontiguousarray(b))
                       for W, b in arch.unpack(self.theta)]
        self.glayers = [(np.zeros_like(W), None if b is None else np.zeros_like(b))
                        for W, b in self.layers]
        B, N = self.B, self.N
        widths = arch.sizes[1:]
        self.Z = [np.empty((B, w, N), dtype) for w in widths]   # pre-activations / outputs
        self.H = [np.empty((B, w, N), dtype) for w in widths[:-1]]  # activations
        self.D = [np.empty((B, w, N), dtype) for w in widths]   # errors
        e = arch.outputs
        self.t1 = np.empty((B, e, N), dtype)
        self.t2 = np.empty((B, e, N), dtype)
        self.loss = np.empty(B, dtype)

    def step(self):
        """One GD step; returns the loss of each network before the update."""
        B, N = self.B, self.N
        L = len(self.layers)
        # forward
        for i, (W, b) in enumerate(self.layers):
            Z = self.Z[i]
            if i == 0:
                np.matmul(W.reshape(-1, W.shape[2]), self.XT, out=Z.reshape(-1, N))
            else:
                np.matmul(W, self.H[i - 1], out=Z)
            if b is not None:
                Z += b[:, :, None]
            if i < L - 1:
                np.maximum(Z, 0.0, out=self.H[i])
        # BCE with logits: value and gradient
        O, Y, t1, t2 = self.Z[-1], self.Yt, self.t1, self.t2
        G = self.D[-1]
        np.abs(O, out=t1)
        np.negative(t1, out=t1)
        np.exp(t1, out=t1)                      # ea = exp(-|o|)
        np.maximum(O, 0.0, out=t2)
        np.multiply(O, Y, out=G)
        t2 -= G
        np.log1p(t1, out=G)
        t2 += G
        np.mean(t2, axis=(1, 2), out=self.loss)
        np.add(t1, 1.0, out=t2)
        np.reciprocal(t2, out=t2)               # 1 / (1 + ea)
        np.multiply(t1, t2, out=t1)             # ea / (1 + ea)
        np.copyto(t1, t2, where=O >= 0)         # sigmoid(o)
        np.subtract(t1, Y, out=G)
        G *= 1.0 / (N * O.shape[1])
        # backward
        for i in range(L - 1, -1, -1):
            W, b = self.layers[i]
            gW, gb = self.glayers[i]
            D = self.D[i]
            if i == 0:
                np.matmul(D.reshape(-1, N), self.X, out=gW.reshape(-1, gW.shape[2]))
            else:
                np.matmul(D, self.H[i - 1].transpose(0, 2, 1), out=gW)
            if gb is not None:
                np.sum(D, axis=2, out=gb)
            if i > 0:
                P = self.D[i - 1]
                np.matmul(W.transpose(0, 2, 1), D, out=P)
                P *= self.Z[i - 1] > 0
        for (W, b), (gW, gb) in zip(self.layers, self.glayers):
            gW *= self.lr
            W -= gW
            if b is not None:
                gb *= self.lr
                b -= gb
        return self.loss.copy()

    def params(self):
        """Current parameters as a flat ``(B, P)`` stack."""
        return self.arch.pack([W for W, _ in self.layers], [b for _, b in self.layers])

    def run(self, steps):
        losses = np.empty((self.B, steps))
        for t in range(steps):
            losses[:, t] = self.step()
        return losses


def numpy_interpolation(arch, A, B, ts, X, Y, chunk=16):
    """BCE loss and accuracy at ``(1 − t) A[m] + t B[m]`` for every pair and ``t`` (direct).

    Pairs are processed ``chunk`` at a time; within a chunk all ``chunk · T`` networks are
    stacked: the first layer is one GEMM, later layers stacked ``np.matmul``.
    """
    M, P = A.shape
    T = ts.size
    N = X.shape[0]
    XT = np.ascontiguousarray(X.T)
    Yt = np.ascontiguousarray(Y.T)[None]
    loss = np.empty((M, T))
    acc = np.empty((M, T))
    theta = np.empty((chunk, T, P))
    for s in range(0, M, chunk):
        c = min(chunk, M - s)
        th = theta[:c]
        np.multiply((1.0 - ts)[None, :, None], A[s:s + c, None, :], out=th)
        th += ts[None, :, None] * B[s:s + c, None, :]
        flat = th.reshape(c * T, P)
        layers = arch.unpack(flat)
        h = None
        for i, (W, b) in enumerate(layers):
            if i == 0:
                z = (W.reshape(-1, W.shape[-1]) @ XT).reshape(c * T, W.shape[1], N)
            else:
                z = np.matmul(W, h)
            if b is not None:
                z += b[:, :, None]
            if i < len(layers) - 1:
                h = np.maximum(z, 0.0, out=z)
        o = z
        ea = np.exp(-np.abs(o))
        val = np.maximum(o, 0.0) - o * Yt + np.log1p(ea)
        loss[s:s + c] = val.mean(axis=(1, 2)).reshape(c, T)
        acc[s:s + c] = ((o > 0) == (Yt > 0.5)).mean(axis=(1, 2)).reshape(c, T)
    return loss, acc


class NumpyStackedGD:
    """The straightforward batched formulation, for comparison: samples x features layout,
    ``np.matmul`` of ``(N, d)`` against the ``(B, d, l)`` stack (one BLAS call per network),
    shallow networks with biases only. :class:`NumpyGD` is the faster baseline."""

    def __init__(self, arch, theta, X, Y, lr):
        (W1, b1), (W2, b2) = arch.unpack(np.array(theta, dtype=np.float64))
        self.arch, self.lr, self.X, self.Y = arch, lr, X, Y
        self.W1t = np.ascontiguousarray(W1.transpose(0, 2, 1))  # (B, d, l)
        self.b1 = b1.copy()
        self.W2t = np.ascontiguousarray(W2.transpose(0, 2, 1))  # (B, l, e)
        self.b2 = b2.copy()

    def step(self):
        X, Y = self.X, self.Y
        N, e = Y.shape
        Z = np.matmul(X, self.W1t) + self.b1[:, None, :]          # (B, N, l)
        H = np.maximum(Z, 0.0)
        O = np.matmul(H, self.W2t) + self.b2[:, None, :]          # (B, N, e)
        ea = np.exp(-np.abs(O))
        loss = (np.maximum(O, 0.0) - O * Y + np.log1p(ea)).mean(axis=(1, 2))
        s = np.where(O >= 0, 1.0 / (1.0 + ea), ea / (1.0 + ea))
        G = (s - Y) / (N * e)
        gW2t = np.matmul(H.transpose(0, 2, 1), G)
        gb2 = G.sum(axis=1)
        D = np.matmul(G, self.W2t.transpose(0, 2, 1)) * (Z > 0)
        gW1t = np.matmul(X.T, D)
        gb1 = D.sum(axis=1)
        self.W1t -= self.lr * gW1t
        self.b1 -= self.lr * gb1
        self.W2t -= self.lr * gW2t
        self.b2 -= self.lr * gb2
        return loss

    def run(self, steps):
        return np.stack([self.step() for _ in range(steps)], axis=1)

    def params(self):
        return self.arch.pack([self.W1t.transpose(0, 2, 1), self.W2t.transpose(0, 2, 1)],
                              [self.b1, self.b2])


def numpy_interpolation_mixed(arch, A, B, ts, X, Y, chunk=1):
    """As :func:`numpy_interpolation` for shallow networks, with the engine's shortcut: the
    first-layer pre-activations are computed at the two ends of each segment (one GEMM each)
    and mixed, ``(1 − t) Z_a + t Z_b``, instead of one GEMM per point; the output layer is a
    stacked ``np.matmul`` over the points. ``chunk`` pairs at a time (1 was fastest here:
    the ``(T, l, N)`` arrays of one pair stay in cache). The faster NumPy baseline."""
    M, P = A.shape
    T = ts.size
    N = X.shape[0]
    XT = np.ascontiguousarray(X.T)
    Yt = np.ascontiguousarray(Y.T)[None, None]                   # (1, 1, e, N)
    loss = np.empty((M, T))
    acc = np.empty((M, T))
    u = (1.0 - ts)[None, :, None, None]
    t = ts[None, :, None, None]
    for s in range(0, M, chunk):
        c = min(chunk, M - s)
        (W1a, b1a), (W2a, b2a) = arch.unpack(A[s:s + c])
        (W1b, b1b), (W2b, b2b) = arch.unpack(B[s:s + c])
        l, d = W1a.shape[1:]
        Za = (W1a.reshape(c * l, d) @ XT).reshape(c, l, N) + b1a[:, :, None]
        Zb = (W1b.reshape(c * l, d) @ XT).reshape(c, l, N) + b1b[:, :, None]
        H = u * Za[:, None] + t * Zb[:, None]                       # (c, T, l, N)
        np.maximum(H, 0.0, out=H)
        W2 = u * W2a[:, None] + t * W2b[:, None]                    # (c, T, e, l)
        b2 = u[..., 0] * b2a[:, None, :] + t[..., 0] * b2b[:, None, :]  # (c, T, e)
        o = np.matmul(W2, H) + b2[..., None]                        # (c, T, e, N)
        ea = np.exp(-np.abs(o))
        val = np.maximum(o, 0.0) - o * Yt + np.log1p(ea)
        loss[s:s + c] = val.mean(axis=(2, 3))
        acc[s:s + c] = ((o > 0) == (Yt > 0.5)).mean(axis=(2, 3))
    return loss, acc
