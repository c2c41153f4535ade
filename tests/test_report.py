"""``analyze`` writes one self-contained report.html: every section and figure, no external
resource (checked by parsing)."""

import html.parser
import re

import pytest

from topoanalysis.analyze import analyze
from topoanalysis.report import report_html


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.imgs, self.tags, self.h2 = set(), [], [], [], []
        self.external = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for k in ("src", "href", "data", "poster", "action"):
            v = a.get(k)
            if v and not (v.startswith("#") or v.startswith("data:image/png;base64,")):
                self.external.append((tag, k, v))
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.external.append((tag, "", str(a)))
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("analyze")
    rep = analyze(hidden=3, seeds=2, steps=60, n_points=11, out=str(out), progress=False)
    return rep, out


def test_report_html_has_every_section_and_figure_and_nothing_external(run):
    rep, out = run
    path = out / "report.html"
    assert str(path) in rep.files
    text = path.read_text(encoding="utf-8")
    p = _Parser()
    p.feed(text)
    sections = {"overview", "obstruction", "networks", "training", "aligned", "critical",
                "degeneracy", "landscape", "files"}
    assert sections <= p.ids
    # the contents list links every section, and every link resolves
    assert {h[1:] for h in p.hrefs} >= sections
    assert all(h.startswith("#") and h[1:] in p.ids for h in p.hrefs)
    # figures: the training figure and the landscape pictures, all embedded PNGs
    assert len(p.imgs) >= 3
    assert all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert p.external == []
    assert not re.search(r"(?:src|href)\s*=\s*['\"]?(?:https?:|//|file:)", text)
    assert "<script" not in text and "@import" not in text and "url(" not in text
    # numbers, verdicts and reasons are on the page
    crit = rep.critical["networks"]
    for r in crit:
        assert html_escape(r["verdict"]) in text
    assert f"{rep.probabilities['obstructed']:.4g}" in text
    assert f"{rep.pairs[0]['barrier']:.4g}" in text


def html_escape(s):
    import html

    return html.escape(str(s), quote=True)


def test_report_html_without_training_and_figures(run):
    rep, _ = run
    import dataclasses

    bare = dataclasses.replace(rep, config={**rep.config, "train": False}, pairs=[],
                               aligned=None, critical=None)
    text = report_html(bare)
    p = _Parser()
    p.feed(text)
    assert {"overview", "obstruction", "networks", "degeneracy", "files"} <= p.ids
    assert "training" not in p.ids and "landscape" not in p.ids
    assert p.imgs == [] and p.external == []
