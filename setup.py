"""Build script: compiles every Cython module in ``ext/`` into ``topoanalysis._kernels``.

Environment switches
--------------------
TOPOANALYSIS_DEBUG=1
    Compile with bounds checks, wraparound and initialized-memory checks on, and ``-O0 -g``.
TOPOANALYSIS_NO_OPENMP=1
    Do not use OpenMP even when the compiler supports it.

At run time, ``TOPOANALYSIS_CLONE=default|v3|v4`` makes the engine use that instruction-set
clone of ext/blockops.h (default: the best the CPU supports).

OpenMP is used when a small test program compiles and links with ``-fopenmp``; otherwise
the kernels run on one thread (``prange`` degrades to ``range``) and the build still succeeds.
"""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
DEBUG = os.environ.get("TOPOANALYSIS_DEBUG", "0") not in ("", "0")


def openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or ([], []) when unavailable."""
    if os.environ.get("TOPOANALYSIS_NO_OPENMP", "0") not in ("", "0"):
        return [], []
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    if shutil.which(cc[0]) is None:
        return [], []
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "t.c")
        with open(path, "w") as fh:
            fh.write(src)
        res = subprocess.run(cc + ["-fopenmp", path, "-o", os.path.join(tmp, "t")],
                             capture_output=True)
        ok = res.returncode == 0
    except OSError:
        ok = False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not ok:
        print("topoanalysis: OpenMP not available, building single-threaded kernels",
              file=sys.stderr)
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


def extensions():
    omp_c, omp_l = openmp_flags()
    # contraction to FMA happens only where FMA instructions are enabled, i.e. in the
    # x86-64-v3 target clones of ext/blockops.h (results are identical across thread
    # counts, not across instruction sets)
    opt = ["-O0", "-g"] if DEBUG else ["-O3", "-ffp-contract=fast"]
    exts = []
    for src in sorted(glob.glob(os.path.join("ext", "*.pyx"))):
        name = os.path.splitext(os.path.basename(src))[0]
        exts.append(Extension(
            f"topoanalysis._kernels.{name}", [src],
            include_dirs=[np.get_include(), "ext"],
            depends=sorted(glob.glob(os.path.join("ext", "*.h")) + glob.glob(os.path.join("ext", "*.pxd"))
                           + glob.glob(os.path.join("ext", "*.pxi"))),
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=opt + omp_c,
            extra_link_args=omp_l,
        ))
    directives = {
        "language_level": 3,
        "boundscheck": DEBUG,
        "wraparound": DEBUG,
        "initializedcheck": DEBUG,
        "cdivision": not DEBUG,
        "embedsignature": True,
    }
    return cythonize(exts, compiler_directives=directives, compile_time_env={"DEBUG": DEBUG},
                     quiet=True)


setup(ext_modules=extensions())
