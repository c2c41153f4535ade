"""The machine's double-precision FMA peak, measured: a tiny C loop built at run time.

The loop keeps 12 independent chains of fused multiply-adds in vector registers (enough to
cover the latency of two FMA pipes) with the widest vectors the CPU runs: 512-bit with
AVX-512F, else 256-bit with AVX2 + FMA, else 128-bit SSE2 multiply and add (2 FLOPs per lane
either way). It is compiled with the system C compiler (``$CC`` or ``cc``) into a shared
library and called through ctypes, which releases the GIL, so ``n`` Python threads run ``n``
copies at once. Returns ``None`` when no compiler is available.

Usage: ``python benchmarks/peak.py`` prints the 1-thread and all-core peaks.
"""

import ctypes
import os
import shutil
import subprocess
import tempfile
import threading
import time

SOURCE = r"""
#define CHAINS(R) R(0) R(1) R(2) R(3) R(4) R(5) R(6) R(7) R(8) R(9) R(10) R(11)
#define DECL(i) V a##i = x * (double)(i + 1);
#define STEP(i) a##i = a##i * y + x;
#define SUM(i) s += a##i;
#define LOOP(NAME, BYTES, TARGET)                                                   \
typedef double NAME##_v __attribute__((vector_size(BYTES)));                       \
TARGET double NAME(long iters) {                                                   \
    typedef NAME##_v V;                                                            \
    V x = (V){0} + 1e-9, y = (V){0} + 0.999999, s = (V){0};                        \
    CHAINS(DECL)                                                                   \
    for (long i = 0; i < iters; i++) {                                             \
        CHAINS(STEP)                                                               \
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3));             \
    }                                                                              \
    CHAINS(SUM)                                                                    \
    return s[0];                                                                   \
}
LOOP(fma512, 64, __attribute__((target("avx512f,fma"))))
LOOP(fma256, 32, __attribute__((target("avx2,fma"))))
LOOP(sse128, 16, )
int has_avx512(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx512f"); }
int has_fma256(void) { __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
"""

LANES = {"fma512": 8, "fma256": 4, "sse128": 2}
CHAINS = 12


def build_c(source, tmpdir, stem, opt="-O2"):
    """Compile C ``source`` into ``tmpdir/stem.so`` (``$CC`` or ``cc``, ``opt``
    ``-ffp-contract=fast``); returns the ctypes library, or None without a compiler or when
    it fails."""
    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc.split()[0]) is None:
        return None
    src = os.path.join(tmpdir, stem + ".c")
    lib = os.path.join(tmpdir, stem + ".so")
    with open(src, "w") as fh:
        fh.write(source)
    res = subprocess.run(cc.split() + [opt, "-ffp-contract=fast", "-fPIC", "-shared", src,
                                       "-o", lib], capture_output=True, text=True)
    if res.returncode != 0:
        return None
    return ctypes.CDLL(lib)


def build(tmpdir):
    """Compile the loops into ``tmpdir``; returns the ctypes library or None."""
    return build_c(SOURCE, tmpdir, "peak")


def calibrate(fn, count, seconds, min_dt):
    """A count for ``fn(count)`` to run about ``seconds``: ``count`` is multiplied by 4 until
    one call takes longer than ``min_dt`` seconds, then scaled."""
    while True:
        t0 = time.perf_counter()
        fn(count)
        dt = time.perf_counter() - t0
        if dt > min_dt:
            break
        count *= 4
    return max(1, int(count * seconds / dt))


def measure_peak(threads=(1, 2), seconds=0.4, repeat=3, isa=None):
    """Peak GFLOP/s of the widest FMA loop the CPU runs (or of ``isa``: "fma512", "fma256" or
    "sse128", when the CPU runs it), for each thread count in ``threads``.

    Returns ``{"isa": name, "gflops": {n: median GFLOP/s}, "spread": {n: (min, max)}}`` or
    None without a compiler (or for an ``isa`` the CPU lacks). Each measurement runs
    ``seconds`` of FMAs per thread.
    """
    if isa not in (None, *LANES):
        raise ValueError(f"isa: expected one of {', '.join(LANES)} or None, got {isa!r}")
    with tempfile.TemporaryDirectory() as tmp:
        lib = build(tmp)
        if lib is None:
            return None
        has = {"fma512": lib.has_avx512(), "fma256": lib.has_fma256(), "sse128": True}
        name = isa or next(k for k in ("fma512", "fma256", "sse128") if has[k])
        if not has[name]:
            return None
        fn = getattr(lib, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_long]
        flops_per_iter = CHAINS * LANES[name] * 2
        iters = calibrate(fn, 100000, seconds, 0.05)
        out = {"isa": name, "gflops": {}, "spread": {}}
        runs = {n: [] for n in threads}
        for _ in range(repeat):
            for n in threads:      # alternate the thread counts
                ts = [threading.Thread(target=fn, args=(iters,)) for _ in range(n)]
                t0 = time.perf_counter()
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                dt = time.perf_counter() - t0
                runs[n].append(n * iters * flops_per_iter / dt / 1e9)
        for n in threads:
            r = sorted(runs[n])
            out["gflops"][n] = r[len(r) // 2]
            out["spread"][n] = (r[0], r[-1])
        return out


if __name__ == "__main__":
    res = measure_peak()
    if res is None:
        print("no C compiler: peak not measured")
    else:
        for n, g in res["gflops"].items():
            lo, hi = res["spread"][n]
            print(f"{res['isa']}: {n} thread(s) {g:.1f} GFLOP/s (spread {lo:.1f}-{hi:.1f})")
