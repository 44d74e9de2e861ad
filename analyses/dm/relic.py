"""Thermal freeze-out of a real Z2-odd scalar: the Boltzmann equation for the yield Y = n/s.

    dY/dx = - sqrt(pi/45) M_Pl m g_*^{1/2}(T) / x^2 <sigma v>(x) (Y^2 - Y_eq^2),   x = m/T,
    Y_eq = 45 g_phi x^2 K2(x) / (4 pi^4 h(T)),  g_phi = 1,  g_*^{1/2} = h/sqrt(g) (1 + dln h/(3 dln T))

(Gondolo & Gelmini 1991 eq. 3.16 / Edsjo & Gondolo 1997), with <sigma v>(x) the full thermal
average of :mod:`analyses.dm.annihilation` (s- and p-wave and thresholds kept), and g, h from
:mod:`analyses.dm.dof` (Saikawa-Shirai 2018, with the QCD crossover). It is solved with an L-stable
implicit (backward-Euler, Richardson-extrapolated) step in ln x, in closed form per step (numba),
from x = 1 (Y = Y_eq) to x = 1000 -- scipy's Radau (analytic Jacobian) gives the same within 1e-3
(tests) but takes ~0.5 s per solve; beyond, Y_eq
is negligible and dY/dx = -lambda(x) Y^2/x^2 is integrated exactly:
1/Y_inf = 1/Y(1000) + int_1000^inf lambda(x) <sigma v>(x)/x^2 dx (quadrature on the same x grid,
then the s-wave tail analytically below T = 10 keV). Then Omega h^2 = m Y_inf s0 / (rho_c/h^2).

Speed: <sigma v>(x) is computed once per model on 240 log-spaced x values and interpolated in
ln x; since every rate is quadratic in an overall coupling scale t, :func:`coupling_for_relic`
reuses that grid (scaled by t^2) and only re-solves the ODE (~1 ms each).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numba as nb
import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from scipy.special import kve

from evtgen.errors import PhiphiError

from . import annihilation as ann
from . import dof

X_START = 1.0
X_MATCH = 1000.0
N_GRID = 240
N_STEPS = 4000


def _const(key: str) -> float:
    return float(ann.constants()["cosmology"][key]["value"])


def omega_h2_per_yield(mphi: float) -> float:
    """Omega h^2 per unit of present yield: m s0 / (rho_c / h^2)."""
    return mphi * _const("s0") / _const("rho_crit_over_h2")


@dataclass
class FreezeOut:
    """A solved freeze-out: Omega h^2, the yield history and the channel fractions."""

    mphi: float
    omega_h2: float
    y_inf: float
    x_f: float
    fractions_freeze_out: dict[str, float]
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    y_eq: np.ndarray = field(repr=False)


class RelicModel:
    """The x grid of <sigma v> (per channel) of one model point, scalable by t^2 (see module docstring)."""

    def __init__(
        self, mphi: float, couplings: Mapping[str, float], *, m_switch: float | None = None, eos: str | None = None
    ) -> None:
        m = float(mphi)
        if not (math.isfinite(m) and 1e-3 <= m <= 1e5):
            raise PhiphiError(f"mphi = {mphi!r} GeV is outside the relic calculation's range [1e-3, 1e5] GeV")
        self.mphi = m
        self.couplings = dict(couplings)
        self.x_last = max(m / dof.T_MIN, 10.0 * X_MATCH)
        self.x = np.geomspace(X_START, self.x_last, N_GRID)
        self.lnx = np.log(self.x)
        self.channels = ann.thermal_average_grid(m, couplings, self.x, m_switch=m_switch)
        self.sv = np.sum(np.array(list(self.channels.values())), axis=0)
        if not np.any(self.sv > 0):
            raise PhiphiError(f"no annihilation channel is open or coupled at mphi = {m:g} GeV for {self.couplings}")
        self.eos = dof.check_eos(eos)
        self.ln_g = 0.0  # ln of the internal degrees of freedom of phi (g = 1, a real scalar)
        T = np.clip(m / self.x, dof.T_MIN, dof.T_MAX)
        self.lam = math.sqrt(math.pi / 45.0) * _const("M_Planck") * m * dof.gstar_half(T, self.eos)
        self.h = dof.h_eff(T, self.eos)
        self.swave = sum(ann.sigma_v_swave(m, couplings, m_switch=m_switch).values())

    def _interp(self, arr: np.ndarray, x: float) -> float:
        return float(np.interp(math.log(x), self.lnx, arr))

    def ln_y_eq(self, x: np.ndarray | float) -> np.ndarray:
        """ln of the equilibrium yield (Maxwell-Boltzmann, g internal states; g = 1 for phi)."""
        x = np.asarray(x, float)
        h = np.interp(np.log(x), self.lnx, self.h)
        return self.ln_g + math.log(45.0 / (4.0 * math.pi**4)) + 2.0 * np.log(x) + np.log(kve(2, x)) - x - np.log(h)

    def y_eq(self, x: np.ndarray | float) -> np.ndarray:
        """Equilibrium yield (Maxwell-Boltzmann, g_phi = 1)."""
        return np.exp(self.ln_y_eq(x))

    def solve_radau(self, scale: float = 1.0) -> FreezeOut:
        """Reference solution with scipy's Radau (slow, ~0.5 s; used to validate :meth:`solve`)."""
        t2 = float(scale) ** 2
        rate = self.lam * self.sv * t2  # lambda(x) <sigma v>(x)
        lnrate = np.log(np.maximum(rate, 1e-300))

        def r(x: float) -> float:
            return math.exp(float(np.interp(math.log(x), self.lnx, lnrate)))

        def lnyeq(x: float) -> float:
            return float(self.ln_y_eq(x))

        # u = ln x, W = ln Y: dW/du = -(r/x) (e^W - Yeq^2 e^-W)
        def rhs(u, w):
            x = math.exp(u)
            return [-(r(x) / x) * (math.exp(w[0]) - math.exp(2.0 * lnyeq(x) - w[0]))]

        def jac(u, w):
            x = math.exp(u)
            return [[-(r(x) / x) * (math.exp(w[0]) + math.exp(2.0 * lnyeq(x) - w[0]))]]

        u0, u1 = math.log(X_START), math.log(X_MATCH)
        sol = solve_ivp(
            rhs, (u0, u1), [lnyeq(X_START)], method="Radau", jac=jac, rtol=1e-7, atol=1e-9, dense_output=True
        )
        if not sol.success:
            raise PhiphiError(f"the Boltzmann equation did not converge at mphi = {self.mphi:g} GeV: {sol.message}")
        y_match = math.exp(sol.y[0, -1])
        # tail: 1/Y_inf = 1/Y(x_match) + int_{x_match}^{x_last} rate/x^2 dx + swave tail beyond x_last
        sel = self.x >= X_MATCH
        xs = np.concatenate([[X_MATCH], self.x[sel]])
        rs = np.array([r(X_MATCH)] + list(rate[sel]))
        lnx = np.log(xs)
        tail = float(np.trapezoid(rs / xs, lnx)) + rate[-1] / self.x_last
        y_inf = 1.0 / (1.0 / y_match + tail)
        # freeze-out point: Y = 2 Y_eq (documented definition)
        uu = np.linspace(u0, u1, 2000)
        lnyy = sol.sol(uu)[0]
        yy = np.exp(lnyy)
        xx = np.exp(uu)
        return self._result(y_inf, xx, yy, self.ln_y_eq(xx))

    def _result(self, y_inf: float, x: np.ndarray, y: np.ndarray, ln_y_eq: np.ndarray) -> FreezeOut:
        """The FreezeOut of a solved path: x_f where Y = 2 Y_eq (the documented definition) and
        the channel fractions of <sigma v> there."""
        above = np.nonzero(np.log(np.maximum(y, 1e-300)) - ln_y_eq >= math.log(2.0))[0]
        x_f = float(x[above[0]]) if above.size else float("nan")
        fr = {}
        if math.isfinite(x_f):
            tot = self._interp(self.sv, x_f)
            fr = {k: self._interp(v, x_f) / tot for k, v in self.channels.items() if tot > 0}
        return FreezeOut(
            mphi=self.mphi,
            omega_h2=float(omega_h2_per_yield(self.mphi) * y_inf),
            y_inf=y_inf,
            x_f=x_f,
            fractions_freeze_out=fr,
            x=x,
            y=y,
            y_eq=np.exp(ln_y_eq),
        )

    def _fine_grid(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = np.linspace(math.log(X_START), math.log(X_MATCH), n + 1)
        return u, np.exp(u), self.ln_y_eq(np.exp(u))

    def solve(self, scale: float = 1.0) -> FreezeOut:
        """Solve for couplings = scale x the model's couplings (rates x scale^2).

        Backward Euler in u = ln x on N = 4000 and 8000 steps (L-stable: no ringing where the
        equation is stiff), Richardson-extrapolated to second order; each step is the closed-form
        root of the implicit quadratic (kernel :func:`_implicit_euler`)."""
        t2 = float(scale) ** 2
        rate = self.lam * self.sv * t2
        lnrate = np.log(np.maximum(rate, 1e-300))
        ys = []
        for n in (N_STEPS, 2 * N_STEPS):
            u, x, lnye = self._fine_grid(n)
            a = np.exp(np.interp(u, self.lnx, lnrate)) / x
            ys.append(_implicit_euler(u, a, np.exp(lnye), math.exp(lnye[0])))
        y_coarse, y_fine = ys
        y_path = 2.0 * y_fine[::2] - y_coarse
        y_match = float(y_path[-1])
        sel = self.x >= X_MATCH
        xs = np.concatenate([[X_MATCH], self.x[sel]])
        rs = np.concatenate([[math.exp(float(np.interp(math.log(X_MATCH), self.lnx, lnrate)))], rate[sel]])
        tail = float(np.trapezoid(rs / xs, np.log(xs))) + rate[-1] / self.x_last
        y_inf = 1.0 / (1.0 / y_match + tail)
        u, x, lnye = self._fine_grid(N_STEPS)
        return self._result(y_inf, x, y_path, lnye)


@nb.njit(cache=True)
def _implicit_euler(u, a, y_eq, y0):
    """Backward Euler for dY/du = -a(u) (Y^2 - Y_eq^2) on the grid u (closed-form implicit step)."""
    n = u.size
    y = np.empty(n)
    y[0] = y0
    for i in range(1, n):
        h = u[i] - u[i - 1]
        ha = h * a[i]
        c = y[i - 1] + ha * y_eq[i] * y_eq[i]
        y[i] = 2.0 * c / (1.0 + np.sqrt(1.0 + 4.0 * ha * c))
    return y


def omega_h2(
    mphi: float, couplings: Mapping[str, float], *, m_switch: float | None = None, eos: str | None = None
) -> float:
    """Omega h^2 of phi from thermal freeze-out for the given couplings (project's 1/2 convention)."""
    return RelicModel(mphi, couplings, m_switch=m_switch, eos=eos).solve().omega_h2


def coupling_for_relic(
    mphi: float,
    direction: Mapping[str, float],
    target: float = 0.120,
    *,
    m_switch: float | None = None,
    eos: str | None = None,
) -> float:
    """The scale t > 0 such that couplings = t x direction give Omega h^2 = target."""
    if not (math.isfinite(target) and target > 0):
        raise PhiphiError(f"target Omega h^2 = {target!r} must be positive")
    model = RelicModel(mphi, direction, m_switch=m_switch, eos=eos)
    return scale_for_target(model, target)


def scale_for_target(model: RelicModel, target: float) -> float:
    """Root of Omega h^2(t) = target for a prepared :class:`RelicModel` (Brent in ln t)."""
    om1 = model.solve(1.0).omega_h2
    t0 = math.sqrt(om1 / target)

    def f(lnt: float) -> float:
        return math.log(model.solve(math.exp(lnt)).omega_h2 / target)

    lo, hi = math.log(t0) - 0.7, math.log(t0) + 0.7
    flo, fhi = f(lo), f(hi)
    n = 0
    while flo * fhi > 0 and n < 20:
        lo, hi = lo - 1.0, hi + 1.0
        flo, fhi = f(lo), f(hi)
        n += 1
    if flo * fhi > 0:
        raise PhiphiError(f"no coupling scale gives Omega h^2 = {target:g} at mphi = {model.mphi:g} GeV")
    return math.exp(brentq(f, lo, hi, xtol=1e-6))


def constant_sigma_v_model(
    mphi: float, sigma_v: float, *, eos: str | None = None, g_internal: float = 1.0
) -> RelicModel:
    """A :class:`RelicModel` with a constant s-wave sigma v (GeV^-2), for validation against the literature;
    ``g_internal`` internal states (1: real scalar; 2: a Majorana fermion, as in Steigman-Dasgupta-Beacom)."""
    if not (math.isfinite(g_internal) and g_internal > 0):
        raise PhiphiError(f"g_internal = {g_internal!r} must be positive")
    model = RelicModel.__new__(RelicModel)
    m = float(mphi)
    model.mphi = m
    model.couplings = {}
    model.x_last = max(m / dof.T_MIN, 10.0 * X_MATCH)
    model.x = np.geomspace(X_START, model.x_last, N_GRID)
    model.lnx = np.log(model.x)
    model.channels = {"const": np.full(model.x.shape, float(sigma_v))}
    model.sv = model.channels["const"].copy()
    T = np.clip(m / model.x, dof.T_MIN, dof.T_MAX)
    model.lam = math.sqrt(math.pi / 45.0) * _const("M_Planck") * m * dof.gstar_half(T)
    model.h = dof.h_eff(T)
    model.swave = float(sigma_v)
    model.eos = dof.check_eos(eos)
    model.ln_g = math.log(g_internal)
    model.lam = math.sqrt(math.pi / 45.0) * _const("M_Planck") * m * dof.gstar_half(T, model.eos)
    model.h = dof.h_eff(T, model.eos)
    return model


def freeze_out_approximation(model: RelicModel, scale: float = 1.0, delta: float = 1.5) -> float:
    """Omega h^2 in the standard freeze-out approximation (independent of the ODE solver):
    x_f from Y - Y_eq = delta Y_eq with dY_eq/dx ~ -Y_eq, i.e. Y_eq(x_f) lambda <sv>(x_f) / x_f^2 =
    1/(delta (delta + 2)) (Gondolo & Gelmini 1991, sec. 4; delta = 1.5), then
    1/Y_inf = int_{x_f}^inf lambda(x) <sv>(x) / x^2 dx."""
    rate = model.lam * model.sv * scale * scale

    def g(lnx: float) -> float:
        x = math.exp(lnx)
        r = float(np.interp(lnx, model.lnx, rate))
        return float(model.ln_y_eq(x)) + math.log(r / (x * x)) + math.log(delta * (delta + 2.0))

    lnxf = brentq(g, math.log(1.5), math.log(X_MATCH))
    sel = model.lnx > lnxf
    lnx = np.concatenate([[lnxf], model.lnx[sel]])
    rs = np.interp(lnx, model.lnx, rate)
    integral = float(np.trapezoid(rs / np.exp(lnx), lnx)) + rate[-1] / model.x_last
    integral += math.exp(-float(model.ln_y_eq(math.exp(lnxf)))) / (1.0 + delta)
    return omega_h2_per_yield(model.mphi) / integral
