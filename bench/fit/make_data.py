# Draws the benchmark data set: 240 runs from a known Chinchilla law (Epoch's values) with
# multiplicative log-normal noise (sigma 0.02), N from 7e7 to 1.6e10, D from 5e9 to 5e11.
import math, random, sys
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
E, A, B, alpha, beta = 1.82, 482.0, 2085.0, 0.348, 0.366
with open(sys.argv[1], "w") as f:
    f.write("N,D,loss\n")
    for i in range(240):
        N = math.exp(random.uniform(math.log(7e7), math.log(1.6e10)))
        D = math.exp(random.uniform(math.log(5e9), math.log(5e11)))
        L = E + A / N**alpha + B / D**beta
        L *= math.exp(random.gauss(0, 0.02))
        f.write(f"{N:.6g},{D:.6g},{L:.8f}\n")
