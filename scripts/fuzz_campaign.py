"""A large fuzz campaign over the public surface, with a JSON summary (issue 14).

Runs ``tests/test_fuzz.py`` in campaign mode (failures are recorded, not raised; Hypothesis
draws fresh random examples) in several pytest processes, each under an address-space limit
so that an allocation past it is a ``MemoryError`` (a library traceback) instead of a kernel
kill, and with small ``TOPOANALYSIS_TIME_BUDGET`` / ``TOPOANALYSIS_MEMORY_BUDGET`` so that the
commands refuse long runs. Then it counts:

- code executions: canary files a payload string would have created;
- silent wrong results: results failing an oracle (NaN/inf, a "local minimum" beaten by a
  sampled descent, a distance below its sampled lower bound, Proposition 2.3 violated, ...);
- library tracebacks: exceptions other than ``TopoAnalysisError`` (API) or a traceback / exit
  status other than 0 and 2 (command line);
- kernel kills: pytest processes ended by a signal;
- runs past their estimate: calls longer than ``--slow`` seconds (the work limits and budgets
  promise about a minute at most).

Usage::

    python scripts/fuzz_campaign.py --examples 20000 --out fuzz_campaign.json

``--examples`` is the total number of examples, spread evenly over the properties; with
``--seconds S`` a calibration pass measures each property's cost per example first and the
examples are spread so that the campaign takes about ``S`` seconds (cheap properties get more,
each at least ``--min-examples``), still at least ``--examples`` in total::

    python scripts/fuzz_campaign.py --examples 20000 --seconds 1800 --out fuzz_campaign.json
"""

import argparse
import glob
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST = os.path.join(HERE, "tests", "test_fuzz.py")


def collect():
    out = subprocess.run([sys.executable, "-m", "pytest", TEST, "--collect-only", "-q",
                          "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=HERE,
                         env=_env({}))
    return [line.strip() for line in out.stdout.splitlines() if "::" in line]


def _env(extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _limit(max_bytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return apply


def _run(tests, args, report, extra, kills, failures):
    env = _env({"TOPOANALYSIS_FUZZ_CAMPAIGN": "1", "TOPOANALYSIS_FUZZ_REPORT": report,
                "TOPOANALYSIS_FUZZ_SLOW": str(args.slow), "TOPOANALYSIS_TIME_BUDGET": "20",
                "TOPOANALYSIS_MEMORY_BUDGET": "1G", "OMP_NUM_THREADS": "1", **extra})
    chunks = [tests[i:i + args.chunk] for i in range(0, len(tests), args.chunk)]
    for n, chunk in enumerate(chunks):
        start = time.time()
        try:
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", *chunk], cwd=HERE, env=env,
                                  capture_output=True, text=True,
                                  preexec_fn=_limit(int(args.memory)), timeout=args.timeout)
        except subprocess.TimeoutExpired:
            failures.append({"tests": chunk, "returncode": None, "tail": ["timed out"]})
            print(f"[{n + 1}/{len(chunks)}] timed out", flush=True)
            continue
        if proc.returncode < 0:
            kills.append({"tests": chunk, "signal": -proc.returncode})
        elif proc.returncode != 0:
            tail = proc.stdout.strip().splitlines()[-15:]
            failures.append({"tests": chunk[:3] + (["..."] if len(chunk) > 3 else []),
                             "returncode": proc.returncode, "tail": tail})
        print(f"[{n + 1}/{len(chunks)}] {len(chunk)} tests, {time.time() - start:.0f} s, "
              f"exit {proc.returncode}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=20_000, help="total examples (default 20000)")
    p.add_argument("--out", default="fuzz_campaign.json", help="JSON summary path")
    p.add_argument("--slow", type=float, default=60.0,
                   help="seconds after which a call counts as past its estimate (default 60)")
    p.add_argument("--chunk", type=int, default=25, help="tests per pytest process")
    p.add_argument("--memory", type=float, default=8e9,
                   help="address-space limit of each pytest process in bytes (default 8e9)")
    p.add_argument("-k", default=None, help="only tests whose id contains this text")
    p.add_argument("--seconds", type=float, default=None,
                   help="spread the examples by cost (a calibration pass first) to fit about "
                        "this many seconds")
    p.add_argument("--calibrate", type=int, default=3, help="examples per test to calibrate")
    p.add_argument("--min-examples", type=int, default=20)
    p.add_argument("--max-examples", type=int, default=5000)
    p.add_argument("--overplan", type=float, default=2.5,
                   help="plan this many times --examples (small search spaces end early)")
    p.add_argument("--timeout", type=float, default=3600.0,
                   help="seconds after which a pytest process is stopped (counted)")
    args = p.parse_args(argv)

    tests = collect()
    if args.k:
        tests = [t for t in tests if args.k in t]
    if not tests:
        raise SystemExit("no tests collected")
    work = tempfile.mkdtemp(prefix="ta-campaign-")
    report = os.path.join(work, "report.json")
    per_test = max(1, math.ceil(args.examples / len(tests)))
    examples_map = {}
    if args.seconds:
        # calibration: a few examples of every test measure its cost per example; then the
        # examples are spread so that the campaign fits in --seconds (cheap targets get more,
        # every target at least --min-examples), for at least --examples in total
        print(f"calibration: {args.calibrate} examples per test", flush=True)
        start = time.time()
        _run(tests, args, report, {"TOPOANALYSIS_FUZZ_EXAMPLES": str(args.calibrate)}, [], [])
        wall = time.time() - start
        cal = json.load(open(report))["by_target"] if os.path.exists(report) else {}
        # the calls' own seconds miss imports and example generation: scale by the wall time
        factor = max(1.0, wall / max(sum(r.get("seconds", 0.0) for r in cal.values()), 1e-9))
        share = args.seconds / max(1, len(cal))
        for target, row in cal.items():
            cost = factor * max(row.get("seconds", 0.0) / max(row.get("tried", 1), 1), 1e-3)
            examples_map[target] = int(min(args.max_examples,
                                           max(args.min_examples, share / cost)))
        planned = sum(examples_map.values())
        # Hypothesis stops early on small search spaces (a few sampled values): plan more
        wanted = int(args.overplan * args.examples)
        if planned < wanted:                   # top up the cheapest targets
            for target in sorted(examples_map, key=lambda t: cal[t].get("seconds", 0) / max(
                    cal[t].get("tried", 1), 1)):
                add = min(args.max_examples - examples_map[target], wanted - planned)
                examples_map[target] += max(0, add)
                planned += max(0, add)
                if planned >= wanted:
                    break
        print(f"planned {planned} examples over {len(examples_map)} targets", flush=True)
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "topoanalysis-fuzz-canary-*")))
    kills, failures, t0 = [], [], time.time()
    _run(tests, args, report, {"TOPOANALYSIS_FUZZ_EXAMPLES": str(per_test if not examples_map
                                                                  else args.min_examples),
                               "TOPOANALYSIS_FUZZ_EXAMPLES_MAP": json.dumps(examples_map)},
         kills, failures)
    data = json.load(open(report)) if os.path.exists(report) else {"total": {}, "by_target": {}}
    canaries = sorted(set(glob.glob(os.path.join(tempfile.gettempdir(),
                                                 "topoanalysis-fuzz-canary-*"))) - before)
    total = data.get("total", {})
    summary = {
        "examples": total.get("tried", 0),
        "results": total.get("result", 0),
        "clean_errors": total.get("clean_error", 0),
        "code_executions": len(canaries),
        "silent_wrong_results": total.get("wrong", 0),
        "library_tracebacks": total.get("other", 0),
        "kernel_kills": len(kills),
        "past_estimate": total.get("slow", 0),
    }
    out = {"summary": summary, "settings": {
        "examples_requested": args.examples, "tests": len(tests),
        "examples_per_test": examples_map or per_test,
        "slow_seconds": args.slow, "memory_limit": args.memory, "seconds": round(
            time.time() - t0), "python": sys.version.split()[0]},
        "kills": kills, "pytest_failures": failures, "canaries": canaries,
        "examples_of_failures": data.get("examples", {}), "by_target": data.get("by_target", {})}
    with open(args.out, "w") as fh:
        json.dump(out, fh, indent=2)
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")
    return 0 if not any(summary[k] for k in ("code_executions", "silent_wrong_results",
                                             "library_tracebacks", "kernel_kills",
                                             "past_estimate")) else 1


if __name__ == "__main__":
    sys.exit(main())
