"""bench/train: scalelab's CPU trainer against PyTorch's, the two measured in turns.

Both sides run as servers (bench_train --serve, torch_gpt.py --serve) that keep a config's model
warm. For each config, after an untimed warm-up request to each, the rounds alternate: our turn,
then PyTorch's (the order flips every round, so a machine that slows down or speeds up during a
round pair favours neither side). Each side's figure is the median of its rounds; the ratio is the
ratio of the medians, and the range of the per-round ratios (ours over the PyTorch turn next to it)
shows how much the machine moved.

usage: python3 compare.py --ours build/bench/train/bench_train [--threads 2] [--rounds 3]
                          [--seconds 4] [--warmup 1] 2,64,64,32 4,128,128,16 ...
"""
import argparse
import os
import statistics
import subprocess
import sys


class Server:
    """A bench process answering "L,d,ctx,batch seconds" requests with one result line each."""

    def __init__(self, name, argv):
        self.name = name
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)

    def run(self, config, seconds):
        self.process.stdin.write(f"{config} {seconds}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"compare.py: the {self.name} bench ended without answering for {config} "
                     f"(its error is above)")
        return [float(x) for x in line.split()[5:]]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="path of the bench_train program")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4, help="timed seconds per turn")
    parser.add_argument("--warmup", type=float, default=1, help="untimed seconds per side and config")
    parser.add_argument("configs", nargs="+")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        sys.exit("compare.py: --rounds must be at least 1 and --seconds positive")
    here = os.path.dirname(os.path.abspath(__file__))
    ours = Server("scalelab", [args.ours, "--threads", str(args.threads), "--serve"])
    peer = Server("PyTorch", [sys.executable, os.path.join(here, "torch_gpt.py"),
                              "--threads", str(args.threads), "--serve"])
    print(f"{'L,d,T,B':<14} {'ours tok/s':>11} {'torch tok/s':>11} {'ratio':>7} {'round ratios':>14}"
          f" {'GFLOP/s Kaplan':>14} {'GFLOP/s PaLM':>12} {'ours cpu':>10} {'torch cpu':>10}", flush=True)
    for config in args.configs:
        ours.run(config, args.warmup)
        peer.run(config, args.warmup)
        mine, theirs = [], []
        for r in range(args.rounds):
            turns = [(ours, mine), (peer, theirs)]
            for server, results in (turns if r % 2 == 0 else reversed(turns)):
                results.append(server.run(config, args.seconds))
        # ours: tokens/s, FLOP/s Kaplan, FLOP/s PaLM, cpu estimate; PyTorch: tokens/s, cpu estimate
        ours_tps = statistics.median(x[0] for x in mine)
        torch_tps = statistics.median(x[0] for x in theirs)
        ratios = [a[0] / b[0] for a, b in zip(mine, theirs)]
        kaplan = statistics.median(x[1] for x in mine) / 1e9
        palm = statistics.median(x[2] for x in mine) / 1e9
        print(f"{config:<14} {ours_tps:>11.0f} {torch_tps:>11.1f} {ours_tps / torch_tps:>6.2f}x"
              f" {min(ratios):>7.2f}-{max(ratios):.2f}x {kaplan:>14.1f} {palm:>12.1f}"
              f" {statistics.median(x[3] for x in mine):>10.0f}"
              f" {statistics.median(x[1] for x in theirs):>10.1f}", flush=True)
    ours.close()
    peer.close()


if __name__ == "__main__":
    main()
