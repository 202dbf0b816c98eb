#!/usr/bin/env python3
"""analyze.py check|baseline -- static analysis of src/ against a baseline.

Run by `make analyze` and `make analyze-baseline` (mk/quality.mk), which pass
the build's own flags and file list in the environment:

  ANALYZE_CFLAGS    the compiler flags of the build (without -Werror, -MMD)
  ANALYZE_SRC       the C files to analyse (src/*/*.c)
  ANALYZE_DIR       where the reports go (build-analyze)
  ANALYZE_BASELINE  the accepted findings (tests/analysis-baseline.txt)
  ANALYZE_SCAN      the make targets scan-build builds (in ANALYZE_DIR)
  ANALYZE_JOBS      parallel jobs (default: the number of CPUs)
  CC                the C compiler (gcc: -fanalyzer)

Three analysers:

  gcc-analyzer  gcc -fanalyzer on every file (its -Wanalyzer-* warnings)
  clang-sa      clang's static analyzer over the build, driven by scan-build
                (its default checkers), read from its plist reports
  flawfinder    flawfinder --minlevel=2 --falsepositive (risky calls: format
                strings, races, getenv, buffer copies)

Each finding is normalised to  tool<TAB>file<TAB>function<TAB>check  (no line
numbers, so edits elsewhere in a file do not matter). The baseline is a
multiset of such lines: `check` fails when a key occurs more often than the
baseline allows, i.e. on every new finding, and prints it with its line and
message; findings that went away are listed so the baseline can be trimmed.
`baseline` rewrites the baseline from today's findings.
"""

import collections
import concurrent.futures
import csv
import glob
import io
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import time

Finding = collections.namedtuple("Finding", "tool file function check line message")

TOOLS = ("gcc-analyzer", "clang-sa", "flawfinder")


def die(msg):
    print("analyze: " + msg, file=sys.stderr)
    sys.exit(2)


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        die(name + " is not set (run through make analyze)")
    return v


# Function names are in column 0 (STYLE.md: return type on its own line), so
# the function enclosing a line is the nearest such line above it, unless a
# closing brace in column 0 (the end of a function) comes first.
FUNC_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_lines_cache = {}


def enclosing_function(path, line):
    if path not in _lines_cache:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                _lines_cache[path] = f.read().split("\n")
        except OSError:
            _lines_cache[path] = []
    lines = _lines_cache[path]
    for i in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[i]
        if i < line - 1 and text.startswith("}"):
            return "-"
        m = FUNC_RE.match(text)
        if m and not text.rstrip().endswith(";"):
            return m.group(1)
    return "-"


def relpath(path):
    p = os.path.relpath(os.path.abspath(path))
    return p


# ------------------------------------------------------------ gcc -fanalyzer
GCC_FUNC = re.compile(r"^(.*?): In function '([^']+)'")
GCC_TOP = re.compile(r"^(.*?): At top level:")
GCC_WARN = re.compile(r"^(.*?):(\d+):\d+: warning: (.*) \[(-Wanalyzer-[a-z0-9-]+)\]$")


def gcc_one(cc, cflags, src, logdir):
    cmd = [cc] + cflags + ["-fanalyzer", "-fdiagnostics-path-format=none",
                           "-fno-diagnostics-show-caret", "-fdiagnostics-color=never",
                           "-fdiagnostics-urls=never", "-c", "-o", os.devnull, src]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=dict(os.environ, LC_ALL="C"), check=False)
    out = p.stdout.decode("utf-8", "replace")
    log = os.path.join(logdir, src.replace("/", "_") + ".log")
    with open(log, "w", encoding="utf-8") as f:
        f.write(out)
    if p.returncode != 0:
        die("gcc -fanalyzer failed on %s (see %s):\n%s" % (src, log, out[-2000:]))
    found, func = [], {}
    for text in out.split("\n"):
        m = GCC_FUNC.match(text)
        if m:
            func[m.group(1)] = m.group(2)
            continue
        m = GCC_TOP.match(text)
        if m:
            func[m.group(1)] = "-"
            continue
        m = GCC_WARN.match(text)
        if m:
            f = relpath(m.group(1))
            fn = func.get(m.group(1)) or enclosing_function(f, int(m.group(2)))
            # The message names the variable ('p', '*ms.rbind'): kept for the
            # report, not in the key, so a renamed variable is no new finding.
            found.append(Finding("gcc-analyzer", f, fn, m.group(4), int(m.group(2)), m.group(3)))
    return found


def run_gcc(cc, cflags, sources, outdir, jobs):
    logdir = os.path.join(outdir, "gcc-analyzer")
    os.makedirs(logdir)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(lambda s: gcc_one(cc, cflags, s, logdir), sources))
    return [f for r in results for f in r]


# ------------------------------------------------------------ clang via scan-build
def run_clang(outdir, targets, jobs):
    base = os.path.join(outdir, "scan-build")
    build = os.path.join(base, "build")
    os.makedirs(base)
    # A fresh build tree: scan-build analyses what the build compiles, so
    # nothing may be up to date. -Wno-error: clang's analysis must not stop
    # on a warning gcc does not give.
    cmd = ["scan-build", "-plist", "-o", base, "--keep-empty",
           "make", "--no-print-directory", "-j%d" % jobs, "BUILD=" + build, "SANITIZE=0",
           "CFLAGS=-O2 -g -Wno-error"] + [t.replace("@BUILD@", build) for t in targets]
    log = os.path.join(base, "scan-build.log")
    menv = dict(os.environ, LC_ALL="C")
    menv.pop("MAKEFLAGS", None)
    menv.pop("MFLAGS", None)
    with open(log, "w", encoding="utf-8") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=menv, check=False)
    if p.returncode != 0:
        with open(log, encoding="utf-8", errors="replace") as f:
            die("scan-build failed (see %s):\n%s" % (log, f.read()[-2000:]))
    # A file clang could not analyse (an error or a crash) lands in
    # failures/: its findings would be missing, so that is an error too.
    failed = glob.glob(os.path.join(base, "*", "failures", "*"))
    if failed:
        die("clang could not analyse every file (see %s):\n  %s"
            % (os.path.dirname(failed[0]), "\n  ".join(sorted(failed)[:10])))
    found = []
    for plist in sorted(glob.glob(os.path.join(base, "*", "*.plist"))):
        with open(plist, "rb") as f:
            data = plistlib.load(f)
        files = data.get("files", [])
        for d in data.get("diagnostics", []):
            loc = d["location"]
            f = relpath(files[loc["file"]])
            fn = d.get("issue_context") or enclosing_function(f, loc["line"])
            found.append(Finding("clang-sa", f, fn, d["check_name"], loc["line"], d["description"]))
    return found


# ------------------------------------------------------------ flawfinder
def run_flawfinder(sources, outdir):
    cmd = ["flawfinder", "--csv", "--quiet", "--dataonly", "--minlevel=2", "--falsepositive"] + sources
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    out = p.stdout.decode("utf-8", "replace")
    with open(os.path.join(outdir, "flawfinder.csv"), "w", encoding="utf-8") as f:
        f.write(out)
    if p.returncode != 0:
        die("flawfinder failed: " + p.stderr.decode("utf-8", "replace")[-2000:])
    found = []
    for row in csv.DictReader(io.StringIO(out)):
        f = relpath(row["File"])
        line = int(row["Line"])
        msg = "level %s %s: %s" % (row["Level"], row["Category"], row["Warning"])
        found.append(Finding("flawfinder", f, enclosing_function(f, line), row["Name"], line, msg))
    return found


# ------------------------------------------------------------ baseline
def key(f):
    return "\t".join((f.tool, f.file, f.function, f.check))


def read_baseline(path):
    """The accepted keys (a multiset) and the note kept with each line."""
    c, notes = collections.Counter(), collections.defaultdict(list)
    if not os.path.exists(path):
        return c, notes
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            text = text.rstrip("\n")
            if not text or text.startswith("#"):
                continue
            parts = text.split("\t")
            if len(parts) == 5 and parts[4].startswith("#"):
                notes["\t".join(parts[:4])].append(parts[4])
            elif len(parts) != 4:
                die("%s:%d: not tool<TAB>file<TAB>function<TAB>check[<TAB># note]" % (path, n))
            c["\t".join(parts[:4])] += 1
    return c, notes


def write_baseline(path, findings):
    """Rewrite the baseline from findings, keeping the notes of kept keys."""
    _, notes = read_baseline(path)
    counts = collections.Counter(f.tool for f in findings)
    with open(path, "w", encoding="utf-8") as out:
        out.write("# Static-analysis findings accepted as of %s (make analyze-baseline).\n"
                  % time.strftime("%Y-%m-%d"))
        out.write("# make analyze fails on any finding not listed here; see docs/development.md,\n"
                  "# \"Quality gates\". One line per finding: tool<TAB>file<TAB>function<TAB>check,\n"
                  "# optionally <TAB># why it is accepted (kept when the file is rewritten).\n"
                  "# No line numbers: edits elsewhere in a file do not matter; a key listed\n"
                  "# twice allows two such findings.\n")
        out.write("# Counts: %s.\n" % ", ".join("%s %d" % (t, counts[t]) for t in TOOLS))
        for k in sorted(key(f) for f in findings):
            note = notes[k].pop(0) if notes.get(k) else ""
            out.write(k + ("\t" + note if note else "") + "\n")


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("check", "baseline"):
        die("usage: analyze.py check|baseline")
    mode = sys.argv[1]
    cc = env("CC", "cc")
    cflags = shlex.split(env("ANALYZE_CFLAGS"))
    sources = env("ANALYZE_SRC").split()
    outdir = env("ANALYZE_DIR")
    baseline = env("ANALYZE_BASELINE")
    targets = env("ANALYZE_SCAN").split()
    jobs = int(os.environ.get("ANALYZE_JOBS") or os.cpu_count() or 1)
    for tool in (cc, "clang", "scan-build", "flawfinder"):
        if shutil.which(tool) is None:
            die("%s is missing: scripts/install-deps.sh installs it" % tool)
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)

    findings, times = [], {}
    for tool, fn in (("gcc-analyzer", lambda: run_gcc(cc, cflags, sources, outdir, jobs)),
                     ("clang-sa", lambda: run_clang(outdir, targets, jobs)),
                     ("flawfinder", lambda: run_flawfinder(sources, outdir))):
        t0 = time.monotonic()
        findings += fn()
        times[tool] = time.monotonic() - t0
    findings.sort(key=lambda f: (f.tool, f.file, f.line, f.check))
    with open(os.path.join(outdir, "findings.txt"), "w", encoding="utf-8") as out:
        for f in findings:
            out.write("%s\t%s:%d\t%s\t%s\t%s\n" % (f.tool, f.file, f.line, f.function, f.check, f.message))

    lines = []

    def say(text):
        print(text)
        lines.append(text)

    try:
        return report(mode, findings, times, baseline, outdir, say)
    finally:
        with open(os.path.join(outdir, "summary.txt"), "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


def report(mode, findings, times, baseline, outdir, say):
    if mode == "baseline":
        write_baseline(baseline, findings)
        for t in TOOLS:
            say("  %-13s %3d findings  (%.0f s)" % (t, sum(1 for f in findings if f.tool == t), times[t]))
        say("analyze: wrote %s (%d findings); review the diff before committing it"
            % (baseline, len(findings)))
        return 0

    allowed, _ = read_baseline(baseline)
    left = collections.Counter(allowed)
    new = []
    for f in findings:
        k = key(f)
        if left[k] > 0:
            left[k] -= 1
        else:
            new.append(f)
    gone = sorted(k for k, n in left.items() for _ in range(n))
    for t in TOOLS:
        n = sum(1 for f in findings if f.tool == t)
        nn = sum(1 for f in new if f.tool == t)
        say("  %-13s %3d findings, %3d new  (%.0f s)" % (t, n, nn, times[t]))
    if gone:
        say("analyze: %d baseline entr%s no longer found (fixed? `make analyze-baseline` drops them):"
            % (len(gone), "y is" if len(gone) == 1 else "ies are"))
        for k in gone:
            say("  gone  " + k.replace("\t", "  "))
    with open(os.path.join(outdir, "new.txt"), "w", encoding="utf-8") as out:
        for f in new:
            out.write("%s:%d: %s: %s [%s] in %s()\n" % (f.file, f.line, f.tool, f.message, f.check, f.function))
    if new:
        say("analyze: %d new finding%s (not in %s):" % (len(new), "" if len(new) == 1 else "s", baseline))
        for f in new:
            say("  %s:%d: %s: %s [%s] in %s()" % (f.file, f.line, f.tool, f.message, f.check, f.function))
        say("Fix them; a false positive is accepted with `make analyze-baseline`\n"
            "and write why beside its line in the baseline. Reports: %s/" % outdir)
        return 1
    say("analyze: ok, %d findings, all in the baseline (reports: %s/)" % (len(findings), outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
