"""JAX peer (CPU; float64, or float32 with ``dtype`` in the setup command): a hand-written
full-batch GD step, ``jit`` on one thread and ``pmap`` over the host's cores.

JAX reads its flags at import, so it runs in a worker process that ``run.py`` starts with
``XLA_FLAGS="--xla_force_host_platform_device_count=<cores> --xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1"`` (every device one thread): ``jit`` uses one device (one
thread), ``pmap`` splits the networks over all devices. The worker reads one JSON command per
line on stdin and answers one JSON line on stdout:

* ``{"op": "setup", "key": k, "hidden": [6], "B": 100, "steps": 200, "mode": "jit"|"pmap"}``
  compiles (and runs once, untimed) the whole ``steps``-step run;
* ``{"op": "run", "key": k}`` times one run and returns ``seconds`` and the loss curves.

The step: stacked weights ``(B, out, in)``, ``einsum`` layers, ReLU, BCE with logits
(``max(o, 0) - o y + log1p(exp(-|o|))``, mean per network), ``jax.grad`` of the sum of the
per-network losses, plain SGD; ``lax.scan`` over the steps records the loss before each
update, like the engine with ``record_every=1``.
"""

import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))


def make_run(n_layers, steps, lr):
    import jax
    import jax.numpy as jnp

    def losses(params, XT, Yt):
        h = None
        for i in range(n_layers):
            W, b = params[2 * i], params[2 * i + 1]
            if i == 0:
                z = jnp.einsum("bld,dn->bln", W, XT)
            else:
                z = jnp.einsum("bkl,bln->bkn", W, h)
            z = z + b[:, :, None]
            h = jnp.maximum(z, 0.0) if i < n_layers - 1 else z
        o = h
        per = jnp.maximum(o, 0.0) - o * Yt[None] + jnp.log1p(jnp.exp(-jnp.abs(o)))
        return per.mean(axis=(1, 2))

    def total(params, XT, Yt):
        ls = losses(params, XT, Yt)
        return ls.sum(), ls

    grad = jax.grad(total, has_aux=True)

    def run(params, XT, Yt):
        def step(p, _):
            g, ls = grad(p, XT, Yt)
            return [a - lr * b for a, b in zip(p, g)], ls

        final, curve = jax.lax.scan(step, params, None, length=steps)
        return final, curve

    return run


def serve():
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from common import architecture, initial_params, load_workload

    X, y, _ = load_workload()
    XT = np.ascontiguousarray(X.T)
    Yt = np.ascontiguousarray(y.T)
    n_dev = jax.local_device_count()
    jobs = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["op"] == "setup":
                arch = architecture(cmd["hidden"])
                theta = initial_params(arch, cmd["B"])
                dt = np.dtype(cmd.get("dtype", "float64"))
                params = []
                for W, b in arch.unpack(theta):
                    params += [np.ascontiguousarray(W, dt), np.ascontiguousarray(b, dt)]
                run = make_run(arch.n_layers, cmd["steps"], cmd["lr"])
                if cmd["mode"] == "pmap":
                    B = cmd["B"]
                    if B % n_dev:
                        raise ValueError(f"B={B} does not split over {n_dev} devices")
                    sharded = [p.reshape((n_dev, B // n_dev) + p.shape[1:]) for p in params]
                    fn = jax.pmap(run, in_axes=(0, None, None))
                    args = (sharded, XT.astype(dt), Yt.astype(dt))
                else:
                    fn = jax.jit(run)
                    args = (params, XT.astype(dt), Yt.astype(dt))
                jax.block_until_ready(fn(*args))        # compile and warm up
                jobs[cmd["key"]] = (fn, args, cmd["mode"], cmd["B"])
                reply = {"ok": True, "devices": n_dev}
            elif cmd["op"] == "run":
                fn, args, mode, B = jobs[cmd["key"]]
                t0 = time.perf_counter()
                final, curve = jax.block_until_ready(fn(*args))
                sec = time.perf_counter() - t0
                curve = np.asarray(curve)
                if mode == "pmap":      # (dev, steps, B/dev) -> (B, steps)
                    curve = np.concatenate([curve[k].T for k in range(curve.shape[0])])
                else:
                    curve = curve.T
                reply = {"ok": True, "seconds": sec, "curve": curve.tolist()}
            else:
                reply = {"ok": False, "error": f"unknown op {cmd['op']}"}
        except Exception as exc:  # report to the driver, keep serving
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


class JaxWorker:
    """Driver side: starts the worker process; ``setup`` and ``run`` as above."""

    def __init__(self, n_devices):
        import subprocess
        env = dict(os.environ)
        env["XLA_FLAGS"] = (f"--xla_force_host_platform_device_count={n_devices} "
                            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
        env.setdefault("JAX_PLATFORMS", "cpu")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     text=True)

    def call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the JAX worker exited")
        return json.loads(line)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()


def jax_available():
    import importlib.util
    return importlib.util.find_spec("jax") is not None


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
