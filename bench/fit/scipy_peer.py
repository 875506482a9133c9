# The peer: scipy's L-BFGS-B minimising the same objective (the sum of Huber(1e-3) over log residuals
# of the LogSumExp-parametrised Chinchilla law) from the same 4500-point grid on the same data, as in
# Hoffmann et al. / Besiroglu et al. Starts are spread over `processes` worker processes (2 = the
# two cores our fitter uses). Usage: scipy_peer.py data.csv [processes] [jac|nojac] [max_starts]
import csv, itertools, math, sys, time
from multiprocessing import Pool

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

DELTA = 1e-3
rows = list(csv.DictReader(open(sys.argv[1])))
N = np.array([float(r["N"]) for r in rows])
D = np.array([float(r["D"]) for r in rows])
L = np.array([float(r["loss"]) for r in rows])
lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)
USE_JAC = len(sys.argv) > 3 and sys.argv[3] == "jac"


def objective(x):  # x = (e, a, b, alpha, beta), the order of our fitter: ln E, ln A, ln B, alpha, beta
    e, a, b, alpha, beta = x
    pred = logsumexp([a - alpha * lnN, b - beta * lnD, np.full_like(lnN, e)], axis=0)
    return np.sum(huber(DELTA, pred - lnL))


def objective_and_gradient(x):
    e, a, b, alpha, beta = x
    t = np.stack([a - alpha * lnN, b - beta * lnD, np.full_like(lnN, e)])
    pred = logsumexp(t, axis=0)
    w = np.exp(t - pred)
    r = pred - lnL
    dr = np.clip(r, -DELTA, DELTA)  # Huber'(r)
    g = np.array([np.sum(dr * w[2]), np.sum(dr * w[0]), np.sum(dr * w[1]),
                  -np.sum(dr * w[0] * lnN), -np.sum(dr * w[1] * lnD)])
    return np.sum(huber(DELTA, r)), g


def solve(x0):
    if USE_JAC:
        res = minimize(objective_and_gradient, x0, jac=True, method="L-BFGS-B")
    else:
        res = minimize(objective, x0, method="L-BFGS-B")
    return res.fun, list(res.x)


def grid():
    es = [-1 + 0.5 * i for i in range(5)]
    abs_ = [5.0 * i for i in range(6)]
    exps = [0.5 * i for i in range(5)]
    # Same order as our fitter: E, A, B, alpha, beta.
    return [list(p) for p in itertools.product(es, abs_, abs_, exps, exps)]


if __name__ == "__main__":
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    starts = grid()
    if len(sys.argv) > 4:
        starts = starts[: int(sys.argv[4])]
    t0 = time.perf_counter()
    with Pool(processes) as pool:
        results = pool.map(solve, starts, chunksize=16)
    seconds = time.perf_counter() - t0
    best = min(results, key=lambda r: r[0] if math.isfinite(r[0]) else math.inf)
    e, a, b, alpha, beta = best[1]
    print(f"scipy_seconds {seconds:.6f}")
    print(f"scipy_starts {len(starts)}")
    print(f"scipy_objective {best[0]:.17g}")
    print(f"scipy_params {math.exp(e):.10g} {math.exp(a):.10g} {math.exp(b):.10g} {alpha:.10g} {beta:.10g}")
