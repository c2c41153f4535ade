"""A sweep on a real Dask cluster: a scheduler and two worker processes on localhost.

One worker is killed (SIGKILL) while it computes a cell; the scheduler hands the cell to the
other worker and the sweep still ends with every cell exactly once, equal to a local run.

To make "mid-sweep" certain rather than a race, the victim worker runs with an environment
variable that makes any cell it receives announce itself (a marker file) and then wait; the
test kills that worker as soon as the marker appears, while the rest of the sweep is running
on the other worker. Every process is started with a fresh free port (port 0, the scheduler's
address is read from its scheduler file) and torn down in the fixture, also on failure.
"""

import functools
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = ("width", "n_positive")
# Small but real cells of the Figure 4 experiment (each ~0.1-0.5 s here).
SETTINGS = dict(n_init=6, steps=300, lr=0.1, scheme="kaiming_normal", ratio=4.0, seed=0,
                n_threads=1)
CELLS = [{"width": l, "n_positive": lp} for l in (2, 3) for lp in range(l + 1)]

HELPER = textwrap.dedent('''
    """Cell function for the distributed test (imported on the workers)."""
    import os
    import time


    def cell(c, **kwargs):
        marker = os.environ.get("TOPO_TEST_VICTIM_MARKER")
        if marker:  # the victim worker: announce the cell, then hold it until killed
            with open(marker, "a") as fh:
                fh.write(f"{c['width']},{c['n_positive']}\\n")
            time.sleep(120)
        from topoanalysis.obstruction import breast_cancer_sweep_cell  # (imported here only)

        return breast_cancer_sweep_cell(c, **kwargs)
''')


def _dask_cli():
    here = os.path.join(os.path.dirname(sys.executable), "dask")
    return here if os.path.exists(here) else shutil.which("dask")


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path):
    """``(address, victim_process, marker_path, helper_dir)`` of a running local cluster."""
    pytest.importorskip("dask.distributed")
    cli = _dask_cli()
    if cli is None:
        pytest.skip("the `dask` command line (dask[distributed]) is not installed")
    helper_dir = tmp_path / "helper"
    helper_dir.mkdir()
    (helper_dir / "topo_dist_helper.py").write_text(HELPER)
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(
                   [str(helper_dir), ROOT] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    env.pop("TOPO_TEST_VICTIM_MARKER", None)
    sched_file = tmp_path / "scheduler.json"
    marker = tmp_path / "victim_cells.txt"
    procs = []
    logs = []

    def start(args, extra_env=None, name="proc"):
        log = open(tmp_path / f"{name}.log", "w")
        logs.append(log)
        proc = subprocess.Popen([cli, *args], cwd=str(tmp_path), env={**env, **(extra_env or {})},
                                stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
               "--scheduler-file", str(sched_file)], name="scheduler")
        _wait(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 30,
              "the scheduler file")
        import json

        _wait(lambda: "address" in json.loads(sched_file.read_text() or "{}"), 10,
              "the scheduler address")
        address = json.loads(sched_file.read_text())["address"]
        common = ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--host", "127.0.0.1", "--local-directory", str(tmp_path / "dask-work")]
        victim = start(common + ["--name", "victim"],
                       {"TOPO_TEST_VICTIM_MARKER": str(marker)}, name="victim")
        start(common + ["--name", "survivor"], name="survivor")
        yield address, victim, marker, helper_dir
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()


def _strip(rows):
    """Rows keyed by cell, without the timing column (the only one allowed to differ)."""
    return {tuple(r[k] for k in KEYS): {k: v for k, v in r.items() if k != "seconds"}
            for r in rows}


def test_sweep_survives_a_killed_worker(cluster, tmp_path):
    import csv

    from dask.distributed import Client

    from topoanalysis.obstruction import breast_cancer_sweep_cell
    from topoanalysis.sweep import run_sweep

    address, victim, marker, helper_dir = cluster
    sys.path.insert(0, str(helper_dir))
    try:
        import topo_dist_helper
    finally:
        sys.path.remove(str(helper_dir))
    func = functools.partial(topo_dist_helper.cell, **SETTINGS)
    out = tmp_path / "dask.csv"
    result = {}
    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=30)
        assert {w["name"] for w in client.scheduler_info()["workers"].values()} == {
            "victim", "survivor"}

        def run():
            try:
                result["rows"] = run_sweep(CELLS, func, out, client=client, progress=False)
            except BaseException as exc:  # reported by the main thread
                result["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        _wait(lambda: marker.exists() and marker.read_text().strip(), 30,
              "the victim worker to start a cell")
        held = marker.read_text().split()
        victim.kill()                              # SIGKILL in the middle of its cell
        victim.wait(timeout=10)
        done_at_kill = 0
        if out.exists():
            with open(out, newline="") as fh:
                done_at_kill = len(list(csv.DictReader(fh)))
        assert done_at_kill < len(CELLS)           # the sweep was indeed unfinished
        thread.join(timeout=45)
        assert not thread.is_alive(), "the sweep did not finish after the worker was killed"
    if "error" in result:
        raise result["error"]
    remote = result["rows"]
    assert held  # the killed worker held at least one cell, which had to be recomputed
    keys = [tuple(r[k] for k in KEYS) for r in remote]
    assert sorted(keys) == sorted((str(c["width"]), str(c["n_positive"])) for c in CELLS)
    assert len(set(keys)) == len(keys) == len(CELLS)   # every cell exactly once
    local = run_sweep(CELLS, functools.partial(breast_cancer_sweep_cell, **SETTINGS),
                      tmp_path / "local.csv", progress=False)
    assert _strip(remote) == _strip(local)             # bit-identical numbers (CSV text)
