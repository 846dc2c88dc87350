"""Coverage-guided fuzzing of every public function with atheris (libFuzzer for Python).

The bytes from libFuzzer are decoded by the case generator of tests/test_fuzz.py
(`build_case`: function, dtype, shape, layout/strides, values incl. NaN/inf and
arbitrary doubles, axis, temperature, where, out, b, keepdims, return_sign,
dtype, workers; each argument valid or deliberately invalid), and the call is
checked by its oracle (`run_case`): an invalid call must raise TypeError /
ValueError / AxisError naming the argument before `out` is written; a valid
call must match softmax._reference in extended precision; inputs are never
written. Anything else -- another exception, a wrong result, a crash -- is a
finding.

    pip install atheris
    python fuzz/fuzz_softmax.py -max_total_time=600 -rss_limit_mb=4096 fuzz/corpus

FUZZ_KEEP_GOING=1 logs each distinct finding to fuzz/findings.log and goes on
(a hard crash still stops the run and leaves a crash-* reproducer). Reproduce a
saved input with `python fuzz/fuzz_softmax.py crash-<sha>`. See fuzz/README.md.
"""
import os
import sys

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

with atheris.instrument_imports(include=["softmax", "test_fuzz"]):
    import softmax  # noqa: F401  (instrumented: _api, _dispatch, _reference)
    import test_fuzz  # the case generator and oracle: its branches guide the search too

import numpy as np  # noqa: E402

KEEP_GOING = os.environ.get("FUZZ_KEEP_GOING", "") not in ("", "0")
LOG = os.path.join(HERE, "findings.log")
_seen = set()


def TestOneInput(data):
    fdp = atheris.FuzzedDataProvider(data)
    d = test_fuzz.ByChoice(fdp.ConsumeIntInRange, fdp.ConsumeFloat)
    case = test_fuzz.build_case(d)
    try:
        test_fuzz.run_case(case)
    except Exception as e:  # Finding, AssertionError from the comparison, or any other exception
        if not KEEP_GOING:
            raise
        key = (type(e).__name__, case.name, str(e).splitlines()[0][:80])
        if key not in _seen:
            _seen.add(key)
            with open(LOG, "a") as fh:
                fh.write(f"=== {type(e).__name__} input={data.hex()}\n{e}\n\n")


def main():
    np.seterr(all="ignore")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
