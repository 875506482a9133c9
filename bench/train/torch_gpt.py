"""The peer for bench/train: PyTorch CPU training of the same GPT as scalelab's CPU trainer. Its
model (GPT, Block) is also the one bench/gpu/torch_gpt.py trains on the GPU.

GPT-2 style: token + learned position embeddings, pre-LayerNorm blocks, causal multi-head attention,
GELU (tanh) MLP of 4·d, final LayerNorm, output tied to the token embedding; AdamW (0.9, 0.95),
weight decay 0.1 on matrices and embeddings, global-norm clipping 1.0, fp32. One line of output per
config: "torch L d ctx batch tokens_per_second cpu_estimate" (tokens per CPU-second times the threads:
the rate on an idle machine).

usage: python3 torch_gpt.py --threads 2 --seconds 8 2,64,64,32 4,128,128,16 ...
       python3 torch_gpt.py --threads 2 --serve
With --serve it reads requests "L,d,ctx,batch seconds" from stdin, one per line, and answers each with
the line above, keeping the last config's model (warm) between requests (see compare.py).
"""
import sys
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.heads = heads
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fcproj = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):  # PyTorch >= 2.0: fused (flash on GPUs)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, ctx, d, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, heads, ctx) for _ in range(layers)])
        self.lnf = nn.LayerNorm(d)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight",)) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))  # fp32 under autocast


class Bench:
    """One config's model, optimizer and tokens, built once and warmed up by one step."""

    def __init__(self, layers, d, ctx, batch, vocab=256):
        self.config = (layers, d, ctx, batch)
        heads = max(1, d // 64) if d >= 128 else max(2, d // 32)
        torch.manual_seed(0)
        self.model = GPT(vocab, ctx, d, layers, heads)
        decay = [p for n, p in self.model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in self.model.named_parameters() if p.dim() < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                      {"params": no_decay, "weight_decay": 0.0}],
                                     lr=1e-3, betas=(0.9, 0.95))
        self.data = torch.randint(0, vocab, (batch, ctx + 1))
        self.step()  # warm-up

    def step(self):
        loss = self.model(self.data[:, :-1], self.data[:, 1:])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()

    def run(self, seconds):
        """One untimed step (caches and pages back after whatever ran in between), then steps for
        at least `seconds` (and 2 steps); prints the result line."""
        self.step()
        steps, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while True:
            self.step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and steps >= 2:
                break
        cpu = time.process_time() - cpu_start
        layers, d, ctx, batch = self.config
        tokens = steps * batch * ctx
        print(f"torch {layers} {d} {ctx} {batch} {tokens / elapsed:.1f} "
              f"{tokens / cpu * torch.get_num_threads():.1f}", flush=True)


def parse_config(spec):
    try:
        config = tuple(int(x) for x in spec.split(","))
    except ValueError:
        config = ()
    if len(config) != 4 or min(config) < 1:
        sys.exit(f"torch_gpt.py: bad config {spec!r} (want L,d,ctx,batch)")
    return config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("configs", nargs="*")
    args = parser.parse_args()
    if not args.serve and not args.configs:
        parser.error("give configs L,d,ctx,batch, or --serve")
    torch.set_num_threads(args.threads)
    if args.serve:
        bench = None
        for line in sys.stdin:
            fields = line.split()
            try:
                spec, seconds = fields[0], float(fields[1])
            except (IndexError, ValueError):
                fields = []
            if len(fields) != 2 or not seconds > 0:
                sys.exit(f"torch_gpt.py: bad request {line.strip()!r} (want \"L,d,ctx,batch seconds\")")
            config = parse_config(spec)
            if bench is None or bench.config != config:
                bench = None  # free the last config's model first
                bench = Bench(*config)
            bench.run(seconds)
        return
    for spec in args.configs:
        Bench(*parse_config(spec)).run(args.seconds)


if __name__ == "__main__":
    main()
