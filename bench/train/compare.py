"""bench/train: scalelab's CPU trainer against PyTorch's, the two measured in turns.

Both sides run as servers (bench_train --serve, torch_gpt.py --serve) that keep a config's model
warm, and each turn starts with an untimed step. For each config, after an untimed warm-up request
to each side, every round is four turns: ours, PyTorch's, PyTorch's, ours (the next round the other
way round), so that a machine speeding up or slowing down during a round favours neither side. A
round's ratio is our mean rate in it over PyTorch's; the figure reported is the median of the
rounds' ratios, with their range (how much the machine moved), and each side's rate is the median
of its turns.

usage: python3 compare.py --ours build/bench/train/bench_train [--threads 2] [--rounds 3]
                          [--seconds 2] [--warmup 1] 2,64,64,32 4,128,128,16 ...
"""
import argparse
import os
import statistics
import subprocess
import sys


class Server:
    """A bench process answering "L,d,ctx,batch seconds" requests with one result line each."""

    def __init__(self, name, prefix, argv):
        self.name, self.prefix = name, prefix
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)

    def run(self, config, seconds):
        """The result line's numbers after the config (tokens/s first)."""
        try:
            self.process.stdin.write(f"{config} {seconds}\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:  # the server is gone (a broken pipe)
            line = ""
        fields = line.split()
        if fields[:1] != [self.prefix] or ",".join(fields[1:5]) != config:
            sys.exit(f"compare.py: the {self.name} bench did not answer for {config} "
                     f"(its error, if any, is above; it said {line.strip()!r})")
        return [float(x) for x in fields[5:]]

    def close(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        if self.process.wait() != 0:
            sys.exit(f"compare.py: the {self.name} bench exited with status {self.process.returncode}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="path of the bench_train program")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2, help="timed seconds per turn (and 2 steps)")
    parser.add_argument("--warmup", type=float, default=1, help="untimed seconds per side and config")
    parser.add_argument("configs", nargs="+")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.warmup <= 0:
        parser.error("--rounds must be at least 1, --seconds and --warmup positive")
    here = os.path.dirname(os.path.abspath(__file__))
    ours = Server("scalelab", "scalelab", [args.ours, "--threads", str(args.threads), "--serve"])
    peer = Server("PyTorch", "torch", [sys.executable, os.path.join(here, "torch_gpt.py"),
                                       "--threads", str(args.threads), "--serve"])
    print(f"{'L,d,T,B':<14} {'ours tok/s':>11} {'torch tok/s':>11} {'ratio':>7} {'round ratios':>14}"
          f" {'GFLOP/s Kaplan':>14} {'GFLOP/s PaLM':>12} {'ours cpu':>10} {'torch cpu':>10}", flush=True)
    for config in args.configs:
        ours.run(config, args.warmup)
        peer.run(config, args.warmup)
        # ours: tokens/s, FLOP/s Kaplan, FLOP/s PaLM, cpu estimate; PyTorch: tokens/s, cpu estimate
        mine, theirs, ratios = [], [], []
        for r in range(args.rounds):
            order = [ours, peer, peer, ours] if r % 2 == 0 else [peer, ours, ours, peer]
            turns = {ours: [], peer: []}
            for server in order:
                turns[server].append(server.run(config, args.seconds))
            mine += turns[ours]
            theirs += turns[peer]
            ratios.append(statistics.mean(x[0] for x in turns[ours]) /
                          statistics.mean(x[0] for x in turns[peer]))

        def median(results, i):
            return statistics.median(x[i] for x in results)

        print(f"{config:<14} {median(mine, 0):>11.0f} {median(theirs, 0):>11.1f}"
              f" {statistics.median(ratios):>6.2f}x {min(ratios):>7.2f}-{max(ratios):.2f}x"
              f" {median(mine, 1) / 1e9:>14.1f} {median(mine, 2) / 1e9:>12.1f}"
              f" {median(mine, 3):>10.0f} {median(theirs, 1):>10.1f}", flush=True)
    ours.close()
    peer.close()


if __name__ == "__main__":
    main()
