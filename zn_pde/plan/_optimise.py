"""Multi-start, bounded, constrained minimisation of a plan's objective: Adam (optax) on an
augmented Lagrangian, in rounds.

Controls live in their box through x = lower + (upper − lower) σ(u), u ∈ ℝ (every iterate is
a valid protocol). Constraints are written g_c(x) ≤ 0, scaled to be dimensionless:

    normal tissue:  g = (v_min − v_normal(x)) / v_min
    caps:           g = (E(x) − E_max) / E_max        (total dose, ultrasound, light energy)

and enter the Powell–Hestenes–Rockafellar augmented Lagrangian (Nocedal & Wright 2006,
Numerical Optimization, 2nd ed., eq. 17.65)

    L(x; λ, μ) = J(x) + Σ_c [max(0, λ_c + μ g_c)² − λ_c²] / (2μ).

The iterations are split into `ROUNDS` rounds. In each, Adam minimises L at fixed λ with a
step that decays along a cosine from `learning_rate` to 1 % of it, so the round ends near
the minimiser of L; then the multipliers are
updated, λ_c ← max(0, λ_c + μ g_c), which at an exact inner minimum makes λ the constraint's
Lagrange multiplier after one round and the next round's iterate feasible (at λ = 0, the
first round stops at the quadratic-penalty point, violated by about λ*/μ). The reported
optimum of a start is its best *feasible* iterate (every g_c ≤ `FEASIBLE`), else its least
infeasible one; the best start wins (`rank`). A point inside the tolerance but beyond the
bound never beats one that keeps it (g ≤ `STRICT`): with the normal tissue's viability as
objective and constraint alike, it would win by the very amount it breaks the bound. A
start stops early when two successive rounds end feasible with objectives within `TOL`.

Each start ends with a polish by SLSQP (`polish`): Adam finds the region, SQP lands on the
constrained optimum (an active cap, the normal-tissue bound) to its tolerance.

Starts: the scenario's own values (nudged inside the box), then Latin-hypercube points of the
box (fixed seed). After every iteration the whole state (starts done, the current u, Adam's
state, λ, the history, the solves and seconds spent so far) is written to
`<outdir>/<name>.resume.json`; `--resume` continues from it and ends where an uninterrupted
plan would.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._errors import InputError, write_text_atomic
from .._progress import format_duration
from ..config import dumps
from ..fit._parameters import latin_hypercube
from ._problem import Evaluation, PlanProblem, cap_of

ROUNDS = 4  # multiplier updates (the iterations are split evenly between them)
MU = 10.0  # penalty weight, objective units per unit of scaled violation squared
FEASIBLE = 1e-3  # a scaled constraint value g <= this counts as satisfied (within tolerance)
STRICT = 1e-5  # ... and g <= this as satisfied outright (SLSQP's landing on an active bound)
TOL = 1e-4  # early stop: objective change between two feasible rounds (viability, 0-1)
EDGE = 1e-3  # every iterate stays this fraction of the box inside it (starts nudged)
U_MAX = math.log((1.0 - EDGE) / EDGE)


def to_x(u: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (hi - lo) / (1.0 + np.exp(-u))


def to_u(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    f = np.clip((np.asarray(x, float) - lo) / (hi - lo), EDGE, 1.0 - EDGE)
    return np.log(f) - np.log1p(-f)


def scaled_constraints(problem: PlanProblem, ev: Evaluation
                       ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """g_c ≤ 0 form of every constraint (module docstring) and its gradient in x."""
    g, dg = {}, {}
    s = problem.s
    for name, value in ev.constraints.items():
        grad = ev.constraint_grads.get(name)
        if name == "normal_viability":
            vmin = s.normal_viability_min
            g[name] = (vmin - value) / vmin
            dg[name] = None if grad is None else -grad / vmin
        else:
            cap = cap_of(s, name)
            g[name] = (value - cap) / cap
            dg[name] = None if grad is None else grad / cap
    return g, dg


@dataclasses.dataclass
class StartState:
    index: int
    u: list[float]
    adam: list[Any]  # Adam's state leaves (step count, moments), as lists
    lam: dict[str, float]
    iteration: int = 0
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def starting_points(problem: PlanProblem) -> np.ndarray:
    n = problem.s.optimiser.starts
    lo, hi = problem.lower, problem.upper
    own = np.clip(problem.start, lo + EDGE * (hi - lo), hi - EDGE * (hi - lo))
    rng = np.random.default_rng(problem.s.optimiser.seed)
    others = lo + (hi - lo) * latin_hypercube(n - 1, lo.size, rng) if n > 1 else np.zeros(
        (0, lo.size))
    return np.vstack([own[None], others])


def optimise(problem: PlanProblem, resume_file: Path | None, resume: bool = False,
             progress: bool = True) -> dict[str, Any]:
    """Run every start; returns {"starts": [...], "best": index, "wall_s_before": the
    seconds the sessions before a resume spent (0 without one)}."""
    settings = problem.s
    opt = settings.optimiser
    lo, hi = problem.lower, problem.upper
    points = starting_points(problem)
    adam = optax.scale_by_adam()
    length = max(1, math.ceil(opt.iterations / ROUNDS))  # iterations per round
    # what the iterations depend on besides the plan file: the scenarios as resolved (their
    # files and any --set overrides)
    scenarios = dumps(settings.config) + "\n" + (dumps(settings.normal) if settings.normal
                                                  else "")
    state: dict[str, Any] = {"plan": settings.text, "scenarios": scenarios, "done": [],
                             "current": None}
    if resume:
        if resume_file is None or not resume_file.is_file():
            raise InputError(f"nothing to resume (plan: resume=True): {resume_file} does "
                             "not exist (a plan interrupted in this folder leaves it)",
                             key="--resume")
        try:
            state = json.loads(resume_file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            state = None
        if not isinstance(state, dict) or not isinstance(state.get("done"), list):
            raise InputError(f"{resume_file} is not a readable interrupted-plan state "
                             "(damaged, or not written by zn-pde plan); delete it, or run "
                             "again without --resume", key="--resume")
        if state.get("plan") != settings.text:
            raise InputError(f"{resume_file} belongs to a different plan file (it, or its "
                             "--set plan.* overrides, changed since); run again without "
                             "--resume", key="--resume")
        if state.get("scenarios") != scenarios:
            raise InputError(f"{resume_file} was computed on other scenarios (the tumour or "
                             "normal-tissue config, or the --set overrides, changed since); "
                             "resume with the same ones, or run again without --resume",
                             key="--resume")
    # the work of the sessions before a resume: the report counts the whole plan's solves
    # and wall time, not only this session's
    before = state.get("spent", {})
    problem.gradient_solves += int(before.get("gradient_solves", 0))
    problem.forward_solves += int(before.get("forward_solves", 0))
    elapsed_before = float(before.get("wall_s", 0.0))
    total = len(points) * opt.iterations
    t0 = _now()

    def save() -> None:
        state["spent"] = {"gradient_solves": problem.gradient_solves,
                          "forward_solves": problem.forward_solves,
                          "wall_s": elapsed_before + _now() - t0}
        write_text_atomic(resume_file, json.dumps(state))
    for k in range(len(state["done"]), len(points)):
        cur = state["current"]
        if cur is None or cur["index"] != k:
            u0 = to_u(points[k], lo, hi)
            cur = dataclasses.asdict(StartState(k, u0.tolist(), _leaves(adam.init(
                jnp.asarray(u0))), {}))
        while cur["iteration"] < opt.iterations:
            u = np.asarray(cur["u"])
            x = to_x(u, lo, hi)
            ev = problem.evaluate(x)
            g, dg = scaled_constraints(problem, ev)
            lam = {c: cur["lam"].get(c, 0.0) for c in g}
            value = ev.objective + sum((max(0.0, lam[c] + MU * g[c]) ** 2 - lam[c] ** 2)
                                       / (2 * MU) for c in g)
            grad_x = ev.objective_grad + sum(max(0.0, lam[c] + MU * g[c]) * dg[c] for c in g)
            sig = (x - lo) / (hi - lo)
            grad_u = grad_x * (hi - lo) * sig * (1.0 - sig)
            cur["history"].append({"x": x.tolist(), "objective": ev.objective,
                                   "constraints": g, "lagrangian": value, "multipliers": lam,
                                   "gradient_norm": float(np.linalg.norm(
                                       ev.objective_grad * (hi - lo))),
                                   "gradient": np.asarray(grad_x, float).tolist()})
            treedef = jax.tree.structure(adam.init(jnp.asarray(u)))
            s = jax.tree.unflatten(treedef, [jnp.asarray(a) for a in cur["adam"]])
            direction, s = adam.update(jnp.asarray(grad_u), s)
            it = cur["iteration"]
            # |u| <= U_MAX keeps every iterate EDGE of its box inside: an event time at its
            # bound may coincide with another event, and a segment of zero length has no step
            cur["u"] = np.clip(u + step_size(opt.learning_rate, it, length)
                               * np.asarray(direction), -U_MAX, U_MAX).tolist()
            cur["adam"] = _leaves(s)
            cur["iteration"] = it = it + 1
            end_of_round = it % length == 0
            if end_of_round:
                cur["lam"] = {c: max(0.0, lam[c] + MU * g[c]) for c in g}
                cur["round_ends"] = cur.get("round_ends", []) + [len(cur["history"]) - 1]
            state["current"] = cur
            if resume_file is not None:
                save()
            done = k * opt.iterations + it
            if progress and (it == 1 or end_of_round):
                _report(k, len(points), it, ev, g, done, total, t0, problem)
            if end_of_round and _converged(cur):
                break
        summary = _summary(cur)
        if opt.polish > 0:
            summary = polish(problem, summary, opt.polish)
        state["done"].append(summary)
        state["current"] = None
        if resume_file is not None:
            save()
    starts = state["done"]
    best = min(range(len(starts)),
               key=lambda i: rank(starts[i]["objective"], starts[i]["violation"]))
    return {"starts": starts, "best": best, "wall_s_before": elapsed_before}


def rank(objective: float, violation: float) -> tuple[int, float]:
    """The order of candidate optima (smaller is better): those that keep every constraint
    (worst scaled g ≤ `STRICT`) by objective, then those within the tolerance (≤ `FEASIBLE`)
    by objective, then the rest by their violation."""
    if violation <= STRICT:
        return 0, objective
    return (1, objective) if violation <= FEASIBLE else (2, violation)


class _Budget(Exception):
    pass


def polish(problem: PlanProblem, summary: dict[str, Any], max_iter: int) -> dict[str, Any]:
    """SLSQP (scipy; sequential quadratic programming on the linearised constraints, with a
    BFGS model of the Lagrangian's curvature) from a start's best Adam iterate, in the box
    scaled to [0, 1] (kept EDGE inside, as Adam's iterates): it converges on an active
    constraint or a bound to the solver's tolerance where Adam only circles it. At most
    `max_iter` iterations and 3 × `max_iter` evaluations (on a flat ridge its line search can
    spend many); the best feasible point it evaluated (else the least infeasible) replaces
    the start's when it is better."""
    from scipy.optimize import minimize

    lo, hi = problem.lower, problem.upper
    width = hi - lo
    cache: dict[bytes, tuple[np.ndarray, Evaluation, dict[str, float],
                             dict[str, np.ndarray]]] = {}

    def at(z):
        key = np.asarray(z, float).tobytes()
        if key not in cache:
            if len(cache) >= 3 * max_iter:
                raise _Budget
            zc = np.clip(np.asarray(z, float), EDGE, 1.0 - EDGE)
            ev = problem.evaluate(lo + width * zc)
            cache[key] = (zc, ev, *scaled_constraints(problem, ev))
        return cache[key]

    z0 = np.clip((np.asarray(summary["x"]) - lo) / width, EDGE, 1.0 - EDGE)
    names = sorted(at(z0)[2])
    constraints = [{"type": "ineq", "fun": lambda z, c=c: -at(z)[2][c],
                    "jac": lambda z, c=c: -at(z)[3][c] * width} for c in names]
    done = [0]  # iterations completed, counted so that a stop by the budget reports them

    def count(_z):
        done[0] += 1

    try:
        res = minimize(lambda z: at(z)[1].objective, z0, jac=lambda z: at(z)[1].objective_grad
                       * width, bounds=[(EDGE, 1.0 - EDGE)] * z0.size, constraints=constraints,
                       method="SLSQP", callback=count,
                       options={"maxiter": max_iter, "ftol": ftol(problem)})
        message, iterations = str(res.message), int(res.nit)
    except _Budget:
        message, iterations = f"stopped after {3 * max_iter} evaluations", done[0]

    def violation(g):
        return max([0.0] + list(g.values()))

    z, ev, g, _ = min(cache.values(), key=lambda e: rank(e[1].objective, violation(e[2])))
    v = violation(g)
    better = rank(ev.objective, v) < rank(summary["objective"], summary["violation"])
    out = dict(summary, polish={"evaluations": len(cache), "iterations": iterations,
                                "message": message, "improved": bool(better)})
    if better:
        out.update(x=(lo + width * z).tolist(), objective=ev.objective, feasible=v <= FEASIBLE,
                   violation=v, constraints=dict(g),
                   gradient_norm_optimum=float(np.linalg.norm(ev.objective_grad * width)))
    return out


def ftol(problem: PlanProblem) -> float:
    """SLSQP's stopping tolerance on the objective: above the solver's round-off (a float32
    run resolves viability to ~1e-7; asking for less makes the line search chase noise)."""
    return 1e-10 if problem.s.config["numerics"]["precision"] == "float64" else 1e-6


def _leaves(state: Any) -> list[Any]:
    return [np.asarray(a).tolist() for a in jax.tree.leaves(state)]


def step_size(rate: float, iteration: int, length: int) -> float:
    """Adam's rate at an iteration: a cosine from the rate down to 1 % of it over each
    round of `length` iterations (−: a descent step)."""
    r, i = divmod(iteration, length)
    cosine = 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * i / length))
    return -rate * cosine


def _converged(cur: dict[str, Any]) -> bool:
    ends = cur.get("round_ends", [])
    if len(ends) < 2:
        return False
    a, b = (cur["history"][i] for i in ends[-2:])
    feasible = all(max([0.0] + list(h["constraints"].values())) <= FEASIBLE for h in (a, b))
    return feasible and abs(a["objective"] - b["objective"]) < TOL


def _summary(cur: dict[str, Any]) -> dict[str, Any]:
    """A start's best iterate by `rank`: its best feasible one, else its least infeasible."""
    hist = cur["history"]

    def violation(h):
        return max([0.0] + list(h["constraints"].values()))

    pick = min(hist, key=lambda h: rank(h["objective"], violation(h)))
    return {"index": cur["index"], "x_start": hist[0]["x"], "x": pick["x"],
            "objective": pick["objective"], "feasible": violation(pick) <= FEASIBLE,
            "violation": violation(pick), "constraints": dict(pick["constraints"]),
            "iterations": len(hist),
            "gradient_norm_start": hist[0]["gradient_norm"],
            "gradient_norm_optimum": pick["gradient_norm"],
            "history": [{"objective": h["objective"], "lagrangian": h["lagrangian"],
                         "violation": violation(h), "x": h["x"], "gradient": h.get("gradient")}
                        for h in hist]}


def _report(k, n, it, ev, g, done, total, t0, problem) -> None:
    elapsed = _now() - t0
    worst = max([0.0] + list(g.values()))
    eta = elapsed / done * (total - done) if done else math.nan
    print(f"planning: start {k + 1}/{n}, iteration {it}: objective {ev.objective:.4f}, "
          f"worst constraint {worst:+.3g}, solves {problem.gradient_solves} with gradient, "
          f"elapsed {format_duration(elapsed)}, ETA <= {format_duration(eta)}",
          file=sys.stderr, flush=True)


def _now() -> float:
    return time.perf_counter()


