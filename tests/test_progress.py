"""One progress-bar helper (issue #20: the tqdm setup was written five times)."""

import pathlib

import topoanalysis
from topoanalysis._progress import progress_bar

PACKAGE = pathlib.Path(topoanalysis.__file__).parent
# dynamics/train.py belongs to the engine-contract work; its `_progress_bar` is to call
# progress_bar too (TODO at merge).
PENDING = {"dynamics/train.py"}


def test_progress_bar_off_is_none_and_on_is_a_quiet_tqdm():
    assert progress_bar(False, total=10, desc="x") is None
    bar = progress_bar(True, total=10, desc="work", unit="step", delay=100.0)
    try:
        assert bar.total == 10 and bar.desc.startswith("work") and bar.leave is False
        bar.update(3)
        assert bar.n == 3
    finally:
        bar.close()


def test_only_the_helper_imports_tqdm():
    imports = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if p.name != "_progress.py"
                     and ("from tqdm" in p.read_text() or "import tqdm" in p.read_text()))
    assert sorted(set(imports) - PENDING) == []
