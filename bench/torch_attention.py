#!/usr/bin/env python3
"""PyTorch FP32 (TF32 off) baselines for bench/kernels.ts's attention and fused sections.

Causal attention at B=4, H=12, T=2048, hd=64: scaled_dot_product_attention (what a PyTorch user
runs; FP32 takes the memory-efficient kernel) and the eager math path (softmax over a (B, H, T, T)
tensor), forward and backward, time and peak memory above the inputs. The MLP up projection with
bias and GELU (addmm + gelu). Prints one JSON object.
"""
import json
import statistics

import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")


def time_ms(fn, target_ms=150.0, samples=5):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    reps = max(1, min(200, round(target_ms / max(start.elapsed_time(end), 1e-3))))
    times = []
    for _ in range(samples):
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / reps)
    return statistics.median(times)


def peak_bytes(fn):
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def math_attention(q, k, v):
    T = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    mask = torch.ones(T, T, device=q.device, dtype=torch.bool).tril()
    return torch.softmax(s.masked_fill(~mask, float("-inf")), dim=-1) @ v


def attention(B=4, H=12, T=2048, hd=64):
    gen = torch.Generator(device="cuda").manual_seed(0)
    q, k, v, do = (torch.randn(B, H, T, hd, device="cuda", generator=gen) for _ in range(4))
    fwd_flops, bwd_flops = 2 * B * H * T * T * hd, 5 * B * H * T * T * hd
    out = []
    for name, f in [("sdpa", lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True)),
                    ("math", math_attention)]:
        qq, kk, vv = (x.clone().requires_grad_() for x in (q, k, v))
        fwd = lambda: f(qq, kk, vv)
        o = fwd()
        bwd = lambda: torch.autograd.grad(o, (qq, kk, vv), do, retain_graph=True)
        r = {"method": name, "shape": {"B": B, "H": H, "T": T, "hd": hd}}
        try:
            r["fwd_ms"] = time_ms(fwd)
            r["bwd_ms"] = time_ms(bwd)
            r["fwd_tflops"] = fwd_flops / (r["fwd_ms"] * 1e9)
            r["bwd_tflops"] = bwd_flops / (r["bwd_ms"] * 1e9)
            del o
            r["fwd_bwd_peak_bytes"] = peak_bytes(lambda: torch.autograd.grad(f(qq, kk, vv), (qq, kk, vv), do))
        except Exception as e:  # report and go on
            r["error"] = str(e)
        out.append(r)
        print(f"[torch] attention {name} {r}", flush=True, file=__import__('sys').stderr)
    return out


def mlp_up(N=8192, C=768, F_=3072):
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(N, C, device="cuda", generator=gen)
    w = torch.randn(F_, C, device="cuda", generator=gen)
    b = torch.randn(F_, device="cuda", generator=gen)
    return {"name": "mlp_up fwd + bias + gelu", "ms": time_ms(lambda: F.gelu(F.linear(x, w, b)))}


def main():
    print(json.dumps({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                      "tf32": torch.backends.cuda.matmul.allow_tf32,
                      "attention": attention(), "fused": [mlp_up()]}))


if __name__ == "__main__":
    main()
