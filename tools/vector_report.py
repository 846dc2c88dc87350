"""Which kernel functions of the built variants run in vector registers.

gcc vectorises the kernels' loops only where its heuristics allow (inlining
limits, if-conversion), and a refactor that leaves every result bit-identical
can still push a hot loop out of line and make it scalar: 14f60a2 made the
float32 JVP 4x slower that way, and no test can see it. This prints, for every
kernel function of each built variant, how many instructions work on packed
vectors (ps/pd on xmm/ymm/zmm) and how many on scalars (ss/sd), and with
``--compare OLD.json`` flags the functions whose packed count fell by more than
a third since a saved report (``--save NEW.json``): a hint to time them, not a
verdict (merging inlined copies of a loop also lowers the count). Linux/gcc
builds; needs objdump. The variants are the ``softmax._kernels_<isa>`` modules
(``softmax/_isa.py``); a report saved from a build before they were renamed has
the baseline as ``_kernels``, compared with ``_kernels_sse2``. Run it before and
after editing the kernel sources (``_kernels.pyx`` and the ``_k_*.pxi`` files)::

    python tools/vector_report.py --save /tmp/before.json     # on the old build
    pip install -e . --no-build-isolation
    python tools/vector_report.py --compare /tmp/before.json
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
PACKED = re.compile(r"\bv?\w+p[sd]\b|\bvp\w+\b|\bvcvt\w+\b.*%[xyz]mm")
SCALAR = re.compile(r"\bv?\w+s[sd]\b")
#: Variants saved under another name by older builds.
OLD_NAMES = {"_kernels_sse2": "_kernels", "_kernels_neon": "_kernels"}
KERNEL = re.compile(r"^(__pyx_fuse_([01]))?__pyx_f_\d+softmax_\d+_kernels\w*?__(\w+?)(\.|$)")


def variants(tree=None):
    pkg = tree or os.path.join(HERE, "..", "src", "softmax")
    found = sorted(glob.glob(os.path.join(pkg, "_kernels*.so")))
    if not found and tree is None:
        import softmax
        found = sorted(glob.glob(os.path.join(os.path.dirname(softmax.__file__), "_kernels*.so")))
    return found


def report(path):
    """{function: [packed, scalar]} for the kernel functions (cdef) of one .so."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], check=True,
                          capture_output=True, text=True).stdout
    counts, name = {}, None
    for line in dump.splitlines():
        m = FUNC.match(line)
        if m:
            k = KERNEL.match(m.group(1))
            name = None
            if k:   # fused functions: _0 is the float32 one, _1 the float64 one
                name = ("f32 " if k.group(2) == "0" else "f64 " if k.group(2) else "") + k.group(3)
                counts.setdefault(name, [0, 0])
            continue
        if name is None or "\t" not in line:
            continue
        insn = line.split("\t", 1)[1]
        if PACKED.search(insn):
            counts[name][0] += 1
        elif SCALAR.search(insn):
            counts[name][1] += 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", help="directory of the built .so files (default: src/softmax, "
                    "else the installed package)")
    ap.add_argument("--save", help="write the report as JSON")
    ap.add_argument("--compare", help="a saved report: flag functions that lost vector code")
    args = ap.parse_args()
    reports = {os.path.basename(p).split(".")[0]: report(p) for p in variants(args.tree)}
    if not reports:
        sys.exit("no built kernel variant found (pip install -e . first)")
    old = json.load(open(args.compare)) if args.compare else {}
    worse = 0
    for var, counts in reports.items():
        print(f"{var}: packed / scalar instructions per function")
        was = old.get(var) or old.get(OLD_NAMES.get(var), {})
        for fn, (p, s) in sorted(counts.items()):
            note = ""
            if fn in was:
                p0 = was[fn][0]
                note = f"   was {p0} / {was[fn][1]}"
                if p < p0 * 2 / 3:
                    note += "   <-- fewer packed instructions: time it"
                    worse += 1
            print(f"  {fn:40s} {p:6d} / {s:5d}{note}")
    if args.save:
        json.dump(reports, open(args.save, "w"), indent=1)
    if worse:
        print(f"{worse} function(s) have a third fewer packed instructions than before")


if __name__ == "__main__":
    main()
