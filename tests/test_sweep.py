import csv

import pytest

from topoanalysis import ValidationError
from topoanalysis.sweep import completed_cells, run_sweep


def test_sweep_writes_incrementally_and_resumes(tmp_path):
    out = tmp_path / "s.csv"
    calls = []

    def func(cell):
        calls.append(cell["a"])
        if cell["a"] == 3 and len(calls) < 10:
            raise KeyboardInterrupt  # simulated interruption in the middle of the sweep
        return {"sq": cell["a"] ** 2}

    cells = [{"a": a} for a in range(5)]
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cells, func, out, progress=False)
    assert completed_cells(out, ["a"]) == {("0",), ("1",), ("2",)}  # nothing finished is lost
    calls.clear()
    calls.extend([None] * 10)  # let cell 3 succeed now
    rows = run_sweep(cells, func, out, progress=False)
    assert calls[10:] == [3, 4]  # only the unfinished cells ran
    assert [int(r["sq"]) for r in rows] == [0, 1, 4, 9, 16]
    with open(out) as fh:
        assert next(csv.reader(fh)) == ["a", "sq"]


def test_sweep_rejects_foreign_file(tmp_path):
    out = tmp_path / "s.csv"
    out.write_text("x,y\n1,2\n")
    with pytest.raises(ValidationError, match="lacks the columns"):
        run_sweep([{"a": 1}], lambda c: {}, out, progress=False)


def test_sweep_rejects_empty(tmp_path):
    with pytest.raises(ValidationError, match="`cells`"):
        run_sweep([], lambda c: {}, tmp_path / "s.csv", progress=False)


def _square(cell):
    return {"sq": cell["a"] ** 2}


def test_sweep_on_dask_matches_local(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    cells = [{"a": a} for a in range(6)]
    local = run_sweep(cells, _square, tmp_path / "local.csv", progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        remote = run_sweep(cells[:4], _square, tmp_path / "dask.csv", client=client,
                           progress=False)
        assert len(remote) == 4
        # resume on the cluster: only the two missing cells run
        remote = run_sweep(cells, _square, tmp_path / "dask.csv", client=client, progress=False)
    key = lambda r: int(r["a"])  # noqa: E731  (cells finish in any order on a cluster)
    assert sorted(remote, key=key) == sorted(local, key=key)


def test_sweep_row_cut_off_by_a_crash_is_recomputed(tmp_path):
    out = tmp_path / "s.csv"
    run_sweep([{"a": a} for a in range(3)], _square, out, progress=False)
    text = out.read_text()
    out.write_text(text[:-3])            # the last row ("2,4\r\n") cut off mid-write
    assert completed_cells(out, ["a"]) == {("0",), ("1",)}
    rows = run_sweep([{"a": a} for a in range(3)], _square, out, progress=False)
    assert [(r["a"], r["sq"]) for r in rows] == [("0", "0"), ("1", "1"), ("2", "4")]
    assert out.read_text() == text       # the partial row was dropped, not kept beside the new
