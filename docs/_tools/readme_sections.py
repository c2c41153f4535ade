"""Copy sections of README.md into docs/guide/ pages (the move of docs/README_short_plan.md).

Each page is one ``## `` section of the README, its heading promoted to ``#``, its
subsections to ``##``, and relative links rewritten for ``docs/guide/``. Run it after the
README sections were edited (the pages are regenerated), then cut the sections from the
README as the plan says::

    python docs/_tools/readme_sections.py            # write the pages
    python docs/_tools/readme_sections.py --check    # exit 1 when a page is stale
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

#: README section heading -> guide page.
SECTIONS = {
    "Tour of the Python API": "tour.md",
    "Errors, interruption and output folders": "errors.md",
    "Experiments of the obstruction paper": "experiments.md",
    "Performance": "performance.md",
}

HEADER = ("<!-- Generated from README.md section \"{title}\" by docs/_tools/readme_sections.py; "
          "edit the README (or, once the section has moved, this page). -->\n\n")


def sections(text):
    out, title, buf, fence = {}, None, [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            if title is not None:
                out[title] = "".join(buf)
            title, buf = line[3:].strip(), []
            continue
        if title is not None:
            buf.append(line)
    if title is not None:
        out[title] = "".join(buf)
    return out


def page(title, body):
    body = re.sub(r"^### ", "## ", body, flags=re.M)
    body = re.sub(r"\]\((?!https?:|#|/)([^)]+)\)", lambda m: f"](../../{m.group(1)})", body)
    body = body.replace("](../../docs/", "](../")
    return HEADER.format(title=title) + f"# {title}\n" + body.rstrip() + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    secs = sections((ROOT / "README.md").read_text(encoding="utf-8"))
    stale = []
    for title, name in SECTIONS.items():
        path = ROOT / "docs" / "guide" / name
        if title not in secs:
            if path.exists():
                continue   # already moved out of the README: the page is the source now
            raise SystemExit(f"README.md has no section {title!r}")
        text = page(title, secs[title])
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("stale:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
