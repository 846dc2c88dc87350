"""Every kernel variant (ISA) this build and CPU can run, whichever they are
(``_dispatch.available_isas()``: avx512, avx2, sse2, scalar on x86-64 today): each against the
oracle within 2 ulp, and the variants against each other within the sum of their bounds
(they need not agree bit for bit: FMA and vector widths differ)."""

import itertools

import numpy as np
import pytest

import oracle
import softmax as sm
from softmax import _dispatch

ISAS = _dispatch.available_isas()
FUNCS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp", "softmax_vjp",
         "log_softmax_vjp"]
TOL = 2.0


def inputs(dtype):
    """(label, x, axis, T): odd sizes for the vector tails, rows and columns, a long row, short
    rows, special values, a temperature and its sign, T = 0 with ties."""
    rng = np.random.default_rng(7)
    special = (rng.standard_normal((9, 33)) * 3).astype(dtype)
    special[1, 3] = np.nan
    special[2, [0, 5, 32]] = np.inf
    special[3, :] = -np.inf
    special[4, ::2] = -np.inf
    special[5, :] = 2.5
    special[6, 7], special[6, 8] = np.inf, np.nan
    randn = (rng.standard_normal((37, 131)) * 5).astype(dtype)
    return [("randn rows", randn, 1, 1.0), ("randn columns", randn, 0, 0.5),
            ("randn F", np.asfortranarray(randn), 1, -1.5), ("all", randn, None, 1.0),
            ("long", (rng.standard_normal((3, 4099)) * 5).astype(dtype), -1, 3.0),
            ("short", (rng.standard_normal((500, 3)) * 5).astype(dtype), -1, 1.0),
            ("special", special, 1, 1.0), ("special columns", special, 0, -1.0),
            ("arg-max", np.round(randn), 1, 0.0)]


def results(isa, dtype):
    """{(label, fn): (result, exact, scale)} of every function on every input, on variant `isa`."""
    out = {}
    with _dispatch.using_isa(isa):
        assert _dispatch.current_isa() == isa
        for label, x, axis, t in inputs(dtype):
            exact = oracle.Exact(x, axis, t)
            v = np.random.default_rng(9).standard_normal(x.shape).astype(dtype)
            y, ly = exact.softmax().round(dtype), exact.log_softmax().round(dtype)
            for fn in FUNCS if t != 0 else FUNCS[:3]:
                args = {"softmax_vjp": (y, v), "log_softmax_vjp": (ly, v)}.get(
                    fn, (x, v) if fn.endswith("jvp") else (x,))
                with np.errstate(all="ignore"):
                    got = np.asarray(getattr(sm, fn)(*args, axis=axis, temperature=t))
                if fn.endswith("vjp"):
                    want = (getattr(oracle, fn)(*args, axis, t), oracle.scale(fn, *args, axis, t))
                else:
                    want = (getattr(exact, fn)(*args[1:]), exact.scale(fn, v))
                out[(label, fn)] = (got,) + want
    return out


@pytest.fixture(scope="module")
def by_isa():
    return {(isa, dt): results(isa, dt) for isa in ISAS for dt in (np.float32, np.float64)}


def test_the_chosen_variant_is_available():
    assert ISAS and _dispatch.current_isa() in ISAS and ISAS[-1] == "scalar"   # built everywhere


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("isa", ISAS)
def test_against_the_oracle(by_isa, isa, dtype):
    for (label, fn), (got, exact, scale) in by_isa[(isa, dtype)].items():
        units, sub, mismatch = oracle.ulp_errors(got, exact, scale)
        assert mismatch == 0 and sub.max(initial=0) <= 1, f"{isa} {fn} {label}: special values differ"
        assert units.max(initial=0) <= TOL, f"{isa} {fn} {label}: {units.max():.3f} ulp"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("pair", list(itertools.combinations(ISAS, 2)) or
                         [pytest.param(None, marks=pytest.mark.skip(reason="one kernel variant only"))])
def test_variants_agree(by_isa, pair, dtype):
    """Two variants, each within 2 ulp of the exact value, are within 4 ulp of each other, and
    give the same NaN and inf."""
    a, b = by_isa[(pair[0], dtype)], by_isa[(pair[1], dtype)]
    for key, (got_a, exact, scale) in a.items():
        got_b = b[key][0]
        units, sub, mismatch = oracle.ulp_errors(got_a, got_b, scale)
        assert mismatch == 0 and sub.max(initial=0) <= 2, f"{pair} {key}: special values differ"
        assert units.max(initial=0) <= 2 * TOL, f"{pair} {key}: {units.max():.3f} ulp apart"


def test_using_isa_restores():
    before = _dispatch.current_isa()
    with _dispatch.using_isa(ISAS[-1]):
        assert _dispatch.current_isa() == ISAS[-1]
    assert _dispatch.current_isa() == before
    with pytest.raises(ValueError, match="level"):
        with _dispatch.using_isa("no-such-variant"):
            pass
