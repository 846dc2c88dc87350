"""A compact battery against the reference for every kernel variant (ISA) this CPU can run."""

import numpy as np
import pytest

import softmax as sm
from softmax import _dispatch
import util

ISAS = _dispatch.available_isas()


def battery_inputs(dtype):
    """(label, array) pairs: odd sizes to hit SIMD tails, C and F order, and special-value rows."""
    x = util.make(dtype, (37, 131), seed=1)
    special = util.make(dtype, (9, 33), seed=2)
    special[1, 3] = np.nan
    special[2, [0, 5, 32]] = np.inf
    special[3, :] = -np.inf
    special[4, ::2] = -np.inf
    special[5, :] = 2.5
    special[6, 7] = np.inf
    special[6, 8] = np.nan
    special[:, 20] = np.where(np.arange(9) == 8, -np.inf, special[:, 20])
    out = []
    for label, a in [("randn", x), ("special", special), ("long", util.make(dtype, (3, 4099), seed=3)),
                     ("short", util.make(dtype, (5, 3), seed=4))]:
        out += [(f"{label}-C", np.ascontiguousarray(a)), (f"{label}-F", np.asfortranarray(a))]
    return out


def test_current_isa_is_available():
    assert ISAS and _dispatch.current_isa() in ISAS and "scalar" in ISAS   # built everywhere


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", ISAS)
def test_battery(isa, dtype):
    with _dispatch.using_isa(isa):
        assert _dispatch.current_isa() == isa
        for label, x in battery_inputs(dtype):
            for axis in (1, 0, None):
                for t in (1.0, 0.5):
                    msg = f"isa={isa} {label} axis={axis} T={t}"
                    for name in ("softmax", "log_softmax"):
                        got = getattr(sm, name)(x, axis=axis, temperature=t)
                        assert got.dtype == dtype, msg
                        util.assert_softmax_close(got, util.expected(name, x, axis=axis, temperature=t), x, t,
                                                  log=name == "log_softmax", err_msg=f"{name} {msg}")
                    got = sm.logsumexp(x, axis=axis, temperature=t)
                    util.assert_lse_close(got, util.expected("logsumexp", x, axis=axis, temperature=t), x,
                                          f"logsumexp {msg}")
            # gradients, where and temperature 0 on the ordinary inputs
            if label.startswith("randn") or label.startswith("short"):
                v = util.make(dtype, x.shape, seed=9)
                rtol, atol = util.base_rtol(dtype) * (1 + util.cond(x, 0.5)), 0
                atol = np.max(rtol) * (1 + np.abs(v).max()) * 2
                for name in ("softmax_jvp", "log_softmax_jvp"):
                    util.assert_close(getattr(sm, name)(x, v, axis=1, temperature=0.5),
                                      util.expected(name, x, v, axis=1, temperature=0.5), rtol, atol, name)
                y = sm.softmax(x, axis=1)
                util.assert_close(sm.softmax_vjp(y, v, axis=1, temperature=0.5),
                                  util.expected("softmax_vjp", y, v, axis=1, temperature=0.5), rtol, atol, "vjp")
                ly = sm.log_softmax(x, axis=1)
                util.assert_close(sm.log_softmax_vjp(ly, v, axis=1, temperature=0.5),
                                  util.expected("log_softmax_vjp", ly, v, axis=1, temperature=0.5), rtol, atol,
                                  "log_softmax_vjp")
                util.assert_close(sm.softmax_jacobian(x[:3], axis=1, temperature=0.5),
                                  util.expected("softmax_jacobian", x[:3], axis=1, temperature=0.5),
                                  np.max(rtol), atol, "jacobian")
                w = util.random_where(x.shape, seed=5, axis=1)
                for name in ("softmax", "log_softmax"):
                    util.assert_softmax_close(getattr(sm, name)(x, axis=1, where=w, temperature=0.5),
                                              util.expected(name, x, axis=1, where=w, temperature=0.5), x, 0.5, w,
                                              log=name == "log_softmax", err_msg=f"{name} where")
                    util.assert_softmax_close(getattr(sm, name)(x, axis=1, temperature=0.0),
                                              util.expected(name, x, axis=1, temperature=0.0), x, 0.0,
                                              log=name == "log_softmax", err_msg=f"{name} T=0")
                util.assert_lse_close(sm.logsumexp(x, axis=1, where=w, temperature=0.5),
                                      util.expected("logsumexp", x, axis=1, where=w, temperature=0.5), x, "lse where")


@pytest.mark.parametrize("isa", ISAS)
def test_isa_results_agree(isa):
    """Every variant agrees with the baseline to a few ulps."""
    x = util.make(np.float64, (17, 257), seed=7)
    with _dispatch.using_isa("baseline"):
        base = [sm.softmax(x, axis=1), sm.log_softmax(x, axis=0), sm.logsumexp(x, axis=1)]
    with _dispatch.using_isa(isa):
        other = [sm.softmax(x, axis=1), sm.log_softmax(x, axis=0), sm.logsumexp(x, axis=1)]
    for a, b in zip(base, other):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_using_isa_restores():
    before = _dispatch.current_isa()
    with _dispatch.using_isa(ISAS[-1]):
        pass
    assert _dispatch.current_isa() == before
