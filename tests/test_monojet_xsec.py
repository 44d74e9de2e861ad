"""Cross sections of pp -> j S and pp -> j phi phi against independent calculations.

(a) An independent brute-force integration with the ``vegas`` package: its own phase-space
    parametrisation (x1, x2 log-mapped on [1e-5, 1], cos theta* on [-1, 1], the p_T cut as a step
    function, and Q² = m²(φφ) on [4m², ŝ) for φφ) and its own numpy coding of |M|² written from
    ``shared/physics/monojet_matrix_elements.md``. Shared with the generator: only the PDF grid and
    alpha_s (validated against Pythia 8 in test_pdf.py).
(b) Pythia 8's heavy-top H + jet processes with the same PDF, alpha_s, scales and coupling.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from evtgen.monojet.channel import PP2JS, PP2JPhiPhi
from evtgen.pdf import gev2_to_pb, load_pdf

SQRTS = 13000.0
PTMIN = 150.0


def _me(kind, s, t, u, m2, gs2, c2, y2):
    """Independent numpy coding of the averaged |M|² (flavour sums done by the caller)."""
    if kind == "gg":
        return 1.5 * gs2 * c2 * (m2**4 + s**4 + t**4 + u**4) / (s * t * u)
    if kind == "qqbar":
        return 16 / 9 * gs2 * c2 * (t * t + u * u) / s + 4 / 9 * gs2 * y2 * (s * s + m2 * m2) / (t * u)
    # q from beam 1 (t between the quarks)
    return 2 / 3 * gs2 * c2 * (s * s + u * u) / (-t) + 1 / 6 * gs2 * y2 * (t * t + m2 * m2) / (-s * u)


def reference_sigma(mass, *, c=0.0, yq=None, phiphi=False, scale="pythia", neval=30000, nitn=8, seed=3):
    """σ in pb by the ``vegas`` package (see the module docstring)."""
    vegas = pytest.importorskip("vegas")
    pdf = load_pdf()
    yq = yq or {}
    s = SQRTS**2
    conv = gev2_to_pb()
    lmin = math.log(1e-5)
    pids = [21, 1, 2, 3, 4, 5, -1, -2, -3, -4, -5]

    def f(u):
        x1 = np.exp(lmin * (1 - u[:, 0]))
        x2 = np.exp(lmin * (1 - u[:, 1]))
        jac = x1 * x2 * lmin**2
        cth = 2 * u[:, 2] - 1
        jac = jac * 2
        sh = x1 * x2 * s
        if phiphi:
            m2 = 4 * mass**2 + (sh - 4 * mass**2) * u[:, 3]
            jac = jac * np.maximum(sh - 4 * mass**2, 0) * np.sqrt(np.clip(1 - 4 * mass**2 / m2, 0, 1)) / (32 * np.pi**2)
        else:
            m2 = np.full_like(sh, mass**2)
        ok = sh > m2
        p = np.where(ok, (sh - m2) / (2 * np.sqrt(np.abs(sh))), 0.0)
        pt = p * np.sqrt(1 - cth**2)
        ok &= pt > PTMIN
        sh = np.where(ok, sh, 4 * PTMIN**2 + m2 + 1.0)
        p = np.where(ok, p, 2 * PTMIN)
        pt = np.where(ok, pt, 2 * PTMIN)
        t = -0.5 * (sh - m2) * (1 - cth)
        uu = -0.5 * (sh - m2) * (1 + cth)
        jac = jac * 0.5 * (sh - m2)
        if scale == "pythia":
            muf, mur = pt, np.sqrt(pt * np.sqrt(pt * pt + m2))
        else:
            muf = mur = 0.5 * (pt + np.sqrt(pt * pt + m2))
        gs2 = 4 * np.pi * pdf.alphas(mur)
        a1 = pdf.xfx_flavours(x1, muf) / x1[:, None]
        a2 = pdf.xfx_flavours(x2, muf) / x2[:, None]
        F1 = {k: a1[:, 6 if k == 21 else k + 6] for k in pids}
        F2 = {k: a2[:, 6 if k == 21 else k + 6] for k in pids}
        c2 = c * c
        tot = F1[21] * F2[21] * _me("gg", sh, t, uu, m2, gs2, c2, 0.0)
        for q in range(1, 6):
            y2 = yq.get(q, 0.0) ** 2
            for sg in (1, -1):
                tot = tot + F1[sg * q] * F2[-sg * q] * _me("qqbar", sh, t, uu, m2, gs2, c2, y2)
                tot = tot + F1[sg * q] * F2[21] * _me("qg", sh, t, uu, m2, gs2, c2, y2)
                tot = tot + F1[21] * F2[sg * q] * _me("qg", sh, uu, t, m2, gs2, c2, y2)
        return np.where(ok, tot / (16 * np.pi * sh * sh) * jac * conv, 0.0)

    dim = 4 if phiphi else 3
    integ = vegas.Integrator([[0, 1]] * dim)
    vf = vegas.lbatchintegrand(f)
    np.random.seed(seed)
    integ(vf, nitn=5, neval=neval)
    r = integ(vf, nitn=nitn, neval=neval)
    return r.mean, r.sdev


def _agree(a, ea, b, eb, sys_rel):
    """|a - b| within 4 combined standard deviations plus a relative systematic."""
    return abs(a - b) < 4 * math.hypot(ea, eb) + sys_rel * abs(b)


@pytest.mark.parametrize(
    "couplings,scale",
    [({"CG": 1e-5}, "pythia"), ({"CS_bb": 0.02, "CS_uu": 0.003}, "default"), ({"CG": 1e-5, "CS_dd": 0.01}, "pythia")],
)
def test_pp2js_vs_vegas_package(couplings, scale):
    """The generator's VEGAS (numba) against the vegas package, same |M|² written twice.

    Both are unbiased MC estimates of the same integral: agreement within 4σ (combined MC errors)
    plus 0.3% for the different treatment of the p_T cut boundary by the two grids.
    """
    r = PP2JS().rate(mass=125.0, couplings=couplings, options={"scale": scale})
    yq = {5: couplings.get("CS_bb", 0.0), 2: couplings.get("CS_uu", 0.0), 1: couplings.get("CS_dd", 0.0)}
    ref, err = reference_sigma(125.0, c=couplings.get("CG", 0.0), yq=yq, scale=scale)
    assert _agree(r.sigma_pb, r.sigma_err_pb, ref, err, 3e-3), (r.sigma_pb, r.sigma_err_pb, ref, err)
    assert r.scale_down_pb < r.sigma_pb < r.scale_up_pb


def test_pp2jphiphi_vs_vegas_package():
    """φφ: dσ/dQ² = σ̂(jS; m² = Q²) β/(32π²) with y = C^S, c = 2 C_G, integrated in 4D by vegas."""
    cg, cb = 2e-7, 3e-5
    r = PP2JPhiPhi().rate(mass=20.0, couplings={"CG": cg, "CS_bb": cb}, options={"scale": "pythia"})
    ref, err = reference_sigma(20.0, c=2 * cg, yq={5: cb}, phiphi=True, scale="pythia", neval=40000)
    assert _agree(r.sigma_pb, r.sigma_err_pb, ref, err, 5e-3), (r.sigma_pb, r.sigma_err_pb, ref, err)


def test_couplings_scale_quadratically_and_add():
    """No interference between the gluon and quark operators: σ(CG, CS) = σ(CG) + σ(CS)."""
    o = {"scale": "pythia"}
    a = PP2JS().rate(mass=50.0, couplings={"CG": 1e-5}, options=o)
    a2 = PP2JS().rate(mass=50.0, couplings={"CG": 2e-5}, options=o)
    b = PP2JS().rate(mass=50.0, couplings={"CS_uu": 0.01}, options=o)
    ab = PP2JS().rate(mass=50.0, couplings={"CG": 1e-5, "CS_uu": 0.01}, options=o)
    assert a2.sigma_pb == pytest.approx(4 * a.sigma_pb, rel=1e-9)  # same points, exact
    tol = 4 * math.sqrt(a.sigma_err_pb**2 + b.sigma_err_pb**2 + ab.sigma_err_pb**2)
    assert abs(ab.sigma_pb - a.sigma_pb - b.sigma_pb) < tol
