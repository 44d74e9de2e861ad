"""The vectorisable copies of glibc's exp and log used by the monojet trial blocks
(evtgen/monojet/glibc_math.py).

* On glibc x86-64 with FMA (the project machine) they equal the libm functions numba calls, bit
  for bit, wherever they say they apply (the trial blocks rely on this for bit-identical events);
  elsewhere the test says it is skipped and why.
* Everywhere: within 1 ulp of the correctly rounded value (mpmath at 60 digits), and the
  "applies" predicates exclude exactly the ranges glibc treats apart.
"""

from __future__ import annotations

import platform

import mpmath
import numba as nb
import numpy as np
import pytest

from evtgen.monojet import glibc_math as M


@nb.njit(cache=True)
def _copies(x, y):
    e = np.empty(x.size)
    ea = np.empty(x.size, dtype=np.bool_)
    lg = np.empty(y.size)
    la = np.empty(y.size, dtype=np.bool_)
    for i in range(x.size):
        e[i] = M.exp_glibc(x[i], M.EXP_TAB)
        ea[i] = M.exp_glibc_applies(x[i])
    for i in range(y.size):
        lg[i] = M.log_glibc(y[i], M.LOG_TAB)
        la[i] = M.log_glibc_applies(y[i])
    return e, ea, lg, la


@nb.njit(cache=True)
def _libm(x, y):
    e = np.empty(x.size)
    lg = np.empty(y.size)
    for i in range(x.size):
        e[i] = np.exp(x[i])
    for i in range(y.size):
        lg[i] = np.log(y[i])
    return e, lg


def _arguments(n):
    rng = np.random.default_rng(11)
    # the ranges of the phase space (|y| < 10, spans < 20) and of the PDF step (x in (1e-9, 1],
    # mu_F^2 up to 4e7 GeV^2), plus the edges of the applicability ranges
    x = np.concatenate([rng.uniform(-20, 20, n), rng.normal(0, 1e-3, n // 4), [2.0**-54, -(2.0**-54), 511.9, 3e-17]])
    y = np.concatenate(
        [np.exp(rng.uniform(-21, 18, n)), rng.uniform(0.9, 1.1, n // 4), [1.0, 1 - 2.0**-4, 1 + 2.0**-4, 1e-310, 0.0]]
    )
    return x, y


def _glibc_with_fma() -> bool:
    lib, ver = platform.libc_ver()
    if lib != "glibc" or platform.machine() != "x86_64":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return tuple(int(v) for v in ver.split(".")[:2]) >= (2, 28) and " fma " in flags and " avx2 " in flags


@pytest.mark.skipif(not _glibc_with_fma(), reason="bit equality holds against glibc >= 2.28 on x86-64 with FMA only")
def test_copies_equal_libm_bit_for_bit_where_they_apply():
    x, y = _arguments(2_000_000)
    e, ea, lg, la = _copies(x, y)
    e0, lg0 = _libm(x, y)
    assert ea.mean() > 0.8 and la.mean() > 0.8  # most arguments are handled by the copies
    assert np.array_equal(e[ea], e0[ea])
    assert np.array_equal(lg[la], lg0[la])


def test_copies_within_one_ulp_and_applicability_ranges():
    x, y = _arguments(2000)
    e, ea, lg, la = _copies(x, y)
    mpmath.mp.dps = 60
    for v, r in zip(x[ea], e[ea]):
        exact = float(mpmath.exp(mpmath.mpf(float(v))))
        assert abs(r - exact) <= np.spacing(exact)  # glibc's bound is 0.51 ulp; 1 ulp leaves room
    for v, r in zip(y[la], lg[la]):
        exact = float(mpmath.log(mpmath.mpf(float(v))))
        assert abs(r - exact) <= np.spacing(abs(exact))
    # exp: 2^-54 <= |x| < 512; log: normal positive finite outside [1 - 2^-4, 1 + 0x1.09p-4)
    np.testing.assert_array_equal(ea, (np.abs(x) >= 2.0**-54) & (np.abs(x) < 512))
    near1 = (y >= 1 - 2.0**-4) & (y < 1 + float.fromhex("0x1.09p-4"))
    np.testing.assert_array_equal(la, (y >= np.finfo(float).tiny) & np.isfinite(y) & ~near1)
