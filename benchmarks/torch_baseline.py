"""PyTorch baselines (float64, CPU): one network at a time (eager), and all at once (``bmm``).

Only imported when torch is installed; ``torch.set_num_threads`` is set by the caller.
"""

import numpy as np
import torch
import torch.nn.functional as F


def _layers(arch, theta_row):
    return [(torch.from_numpy(np.array(W)), None if b is None else torch.from_numpy(np.array(b)))
            for W, b in arch.unpack(theta_row)]


def torch_eager(arch, theta, X, Y, lr, steps):
    """Train each network in turn with ``nn.Sequential`` + ``torch.optim.SGD`` (eager mode).

    Returns the final parameters ``(B, P)`` and the loss curves ``(B, steps)``.
    """
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    lossf = torch.nn.BCEWithLogitsLoss()
    B = theta.shape[0]
    final = np.empty_like(theta)
    curves = torch.empty((B, steps), dtype=torch.float64)
    for b in range(B):
        mods = []
        for i, (W, bias) in enumerate(_layers(arch, theta[b])):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], bias=bias is not None, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(W)
                if bias is not None:
                    lin.bias.copy_(bias)
            mods.append(lin)
            if i < arch.n_layers - 1:
                mods.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*mods)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        for t in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(Xt), Yt)
            loss.backward()
            opt.step()
            curves[b, t] = loss.detach()
        final[b] = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    return final, curves.numpy()


def torch_batched(arch, theta, X, Y, lr, steps):
    """Train all networks together: stacked weights ``(B, out, in)``, ``torch.baddbmm``, one
    autograd pass for the sum of the per-network losses (whose gradient in each network's
    parameters is that network's gradient), plain SGD update."""
    Xt = torch.from_numpy(X)
    B = theta.shape[0]
    N, e = Y.shape
    Yt = torch.from_numpy(Y).expand(B, N, e)
    params = []
    for W, b in arch.unpack(theta):
        params.append(torch.tensor(np.array(W), requires_grad=True))
        params.append(None if b is None else torch.tensor(np.array(b), requires_grad=True))
    live = [p for p in params if p is not None]
    curves = torch.empty((B, steps), dtype=torch.float64)
    for t in range(steps):
        h = Xt.expand(B, N, X.shape[1])
        for i in range(arch.n_layers):
            W, b = params[2 * i], params[2 * i + 1]
            if b is None:
                h = torch.bmm(h, W.transpose(1, 2))
            else:
                h = torch.baddbmm(b[:, None, :], h, W.transpose(1, 2))
            if i < arch.n_layers - 1:
                h = torch.relu(h)
        per_net = F.binary_cross_entropy_with_logits(h, Yt, reduction="none").mean(dim=(1, 2))
        grads = torch.autograd.grad(per_net.sum(), live)
        with torch.no_grad():
            for p, g in zip(live, grads):
                p.sub_(lr * g)
        curves[:, t] = per_net.detach()
    final = arch.pack([params[2 * i].detach().numpy() for i in range(arch.n_layers)],
                      [None if params[2 * i + 1] is None else params[2 * i + 1].detach().numpy()
                       for i in range(arch.n_layers)])
    return final, curves.numpy()


def _manual_step(params, XT, Yt, lr):
    """One GD step with a hand-written backward pass (ReLU hidden layers, BCE with logits):
    ``params`` = [W1, b1, W2, b2, ...] with W ``(B, out, in)``, b ``(B, out)``. Returns the new
    parameters and the per-network loss before the update."""
    n_layers = len(params) // 2
    N = XT.shape[1]
    hs, zs = [XT], []
    h = XT
    for i in range(n_layers):
        W, b = params[2 * i], params[2 * i + 1]
        z = torch.matmul(W, h) + b[:, :, None]
        zs.append(z)
        h = torch.relu(z) if i < n_layers - 1 else z
        hs.append(h)
    o = h
    per = torch.clamp(o, min=0.0) - o * Yt + torch.log1p(torch.exp(-torch.abs(o)))
    loss = per.mean(dim=(1, 2))
    g = (torch.sigmoid(o) - Yt) / (N * o.shape[1])
    new = [None] * len(params)
    for i in range(n_layers - 1, -1, -1):
        W, b = params[2 * i], params[2 * i + 1]
        hp = hs[i]
        gW = torch.matmul(g, hp.transpose(-1, -2)) if i > 0 else torch.matmul(g, hp.T)
        new[2 * i] = W - lr * gW
        new[2 * i + 1] = b - lr * g.sum(dim=2)
        if i > 0:
            g = torch.matmul(W.transpose(1, 2), g) * (zs[i - 1] > 0)
    return new, loss


def torch_compiled(arch, theta, X, Y, lr, steps, dtype=np.float64):
    """``torch.compile`` of the hand-written step above, all networks stacked. Returns a
    callable that runs ``steps`` steps from ``theta`` and returns (final params, curves); the
    first call (compilation) is done here, untimed."""
    step = torch.compile(_manual_step, dynamic=False)
    XT = torch.from_numpy(np.ascontiguousarray(X.T, dtype=dtype))
    Yt = torch.from_numpy(np.ascontiguousarray(Y.T, dtype=dtype))[None]
    init = []
    for W, b in arch.unpack(theta):
        init += [torch.from_numpy(np.array(W, dtype=dtype)),
                 torch.from_numpy(np.array(b, dtype=dtype))]

    def run():
        params = list(init)
        curves = []
        with torch.no_grad():
            for _ in range(steps):
                params, loss = step(params, XT, Yt, lr)
                curves.append(loss)
        final = arch.pack([params[2 * i].numpy() for i in range(arch.n_layers)],
                          [params[2 * i + 1].numpy() for i in range(arch.n_layers)])
        return final, torch.stack(curves, dim=1).numpy()

    with torch.no_grad():
        step(list(init), XT, Yt, lr)        # compile
    return run
