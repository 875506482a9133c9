"""The peer for bench/gpu: PyTorch training of the same GPT as scalelab's CUDA backend, on the
same GPU in the same run, set up the way a PyTorch user gets the most from it: torch.compile,
bf16 autocast, fused AdamW, flash attention (scaled_dot_product_attention, causal), TF32 allowed.

Model (as model/gpt_cpu.h): token + learned position embeddings, pre-LayerNorm blocks, causal
multi-head attention, GELU (tanh) MLP of 4·d, final LayerNorm, output tied to the token embedding,
biases everywhere; GPT-2 init. Step: forward, backward, clip_grad_norm_(1.0), AdamW (0.9, 0.95),
weight decay 0.1 on matrices and embeddings only. One line per config:
    torch L d heads ctx batch vocab tokens_per_second mfu step_ms memory_gib
MFU counts 6·(N + V·d) + 12·L·T·d FLOPs per token (GptConfig::hardware_flops_per_token) against
the dense bf16 peak given by --peak (the C++ side reads it off the device name).

usage: python3 torch_gpt.py --peak 989e12 --seconds 10 12,768,12,1024,16,50304 ...
"""
import argparse
import importlib.util
import os
import time

import torch


def _load_model():
    # The model is bench/train/torch_gpt.py's (one definition for both benches); loaded by path, since
    # this file has the same name.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "torch_gpt.py")
    spec = importlib.util.spec_from_file_location("scalelab_bench_torch_gpt_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GPT


GPT = _load_model()


def flops_per_token(vocab, ctx, d, layers):
    # GptConfig::hardware_flops_per_token: 6·(N + V·d) + 12·L·T·d, N non-embedding parameters.
    n = layers * (12 * d * d + 13 * d) + 2 * d
    return 6 * (n + vocab * d) + 12 * layers * ctx * d


def bench(layers, d, heads, ctx, batch, vocab, seconds, peak):
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = GPT(vocab, ctx, d, layers, heads).to(dev)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.95), fused=True)
    compiled = torch.compile(model)
    data = [torch.randint(0, vocab, (batch, ctx + 1), device=dev) for _ in range(4)]

    def step(i):
        x = data[i % len(data)]
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            loss = compiled(x[:, :-1], x[:, 1:])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for i in range(5):  # compile and warm up
        step(i)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    steps, start = 0, time.perf_counter()
    while True:
        loss = step(steps)
        loss.item()  # one host sync per step, as the trainer reads every loss
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and steps >= 5:
            break
    tps = steps * batch * ctx / elapsed
    mfu = tps * flops_per_token(vocab, ctx, d, layers) / peak
    mem = torch.cuda.max_memory_allocated() / 2**30
    del model, compiled, opt, data
    torch.cuda.empty_cache()
    return tps, mfu, 1e3 * elapsed / steps, mem


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--peak", type=float, required=True, help="dense bf16 FLOP/s of the GPU")
    parser.add_argument("configs", nargs="+", help="L,d,heads,ctx,batch,vocab")
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    print(f"# torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    for config in args.configs:
        L, d, heads, ctx, batch, vocab = (int(x) for x in config.split(","))
        try:
            tps, mfu, ms, mem = bench(L, d, heads, ctx, batch, vocab, args.seconds, args.peak)
            print(f"torch {L} {d} {heads} {ctx} {batch} {vocab} {tps:.1f} {mfu:.4f} {ms:.3f} {mem:.2f}",
                  flush=True)
        except Exception as e:  # one failing config must not hide the others
            print(f"# torch {config} failed: {type(e).__name__}: {e}", flush=True)
            print(f"torch {L} {d} {heads} {ctx} {batch} {vocab} - - - -", flush=True)


if __name__ == "__main__":
    main()
