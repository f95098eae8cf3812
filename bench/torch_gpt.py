"""PyTorch FP32 (TF32 off) training throughput of the same GPT as bench/train-throughput.ts.

    python3 bench/torch_gpt.py --layers 12 --hidden 768 --heads 12 --seq 2048 --vocab 50304 --micro 1 [--attention sdpa]

--attention eager (default): the golden-data reference's forward (explicit softmax over the T×T scores);
--attention sdpa: the same model with torch.nn.functional.scaled_dot_product_attention(is_causal=True),
what a PyTorch user would run (FP32 picks the memory-efficient kernel; there is no FP32 flash kernel).
--profile: after the timed steps, one more step under torch.profiler; the JSON then holds `profile`:
CUDA time per operator (self time: each kernel counted once, under the operator that launched it).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "reference"))
import gpt_reference as ref  # noqa: E402

p = argparse.ArgumentParser()
for k, d in [("layers", 12), ("hidden", 768), ("heads", 12), ("seq", 2048), ("vocab", 50304), ("micro", 1), ("steps", 5), ("warmup", 2)]:
    p.add_argument("--" + k, type=int, default=d)
p.add_argument("--norm", default="layernorm")
p.add_argument("--pos", default="rotary")
p.add_argument("--attention", choices=["eager", "sdpa"], default="eager")
p.add_argument("--profile", action="store_true")
p.add_argument("--profile-rows", type=int, default=30)
a = p.parse_args()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
ref.DT = torch.float32
dev = "cuda"
C, L, V, T = a.hidden, a.layers, a.vocab, a.seq
spec = {"C": C, "H": a.heads, "hd": C // a.heads, "L": L, "norm": a.norm, "normEps": 1e-5, "posEmb": a.pos,
        "rotaryDims": C // a.heads, "rotaryBase": 10000, "parallelResidual": False, "tied": False}
shapes = {"embed.wte": (V, C), "final_norm.weight": (C,), "final_norm.bias": (C,), "head.weight": (V, C)}
for l in range(L):
    pre = f"layers.{l}."
    shapes.update({pre + "ln1.weight": (C,), pre + "ln1.bias": (C,), pre + "attn.qkv.weight": (3 * C, C), pre + "attn.qkv.bias": (3 * C,),
                   pre + "attn.dense.weight": (C, C), pre + "attn.dense.bias": (C,), pre + "ln2.weight": (C,), pre + "ln2.bias": (C,),
                   pre + "mlp.up.weight": (4 * C, C), pre + "mlp.up.bias": (4 * C,), pre + "mlp.down.weight": (C, 4 * C), pre + "mlp.down.bias": (C,)})
params = {k: (torch.randn(s, device=dev) * 0.02).requires_grad_(True) for k, s in shapes.items()}
opt = torch.optim.AdamW(list(params.values()), lr=1e-4, fused=True)
tokens = torch.randint(0, 50257, (a.micro, T + 1), device=dev)
x, y = tokens[:, :-1], tokens[:, 1:]
def forward_sdpa(p, spec, tokens, targets):
    """ref.forward with the attention core replaced by scaled_dot_product_attention."""
    B, T = tokens.shape
    C, H, hd = spec["C"], spec["H"], spec["hd"]
    h = p["embed.wte"][tokens]
    for l in range(spec["L"]):
        pre = f"layers.{l}."
        n1 = ref.norm(h, p, pre + "ln1", spec)
        qkv = (n1 @ p[pre + "attn.qkv.weight"].T + p[pre + "attn.qkv.bias"]).view(B, T, H, 3 * hd).permute(0, 2, 1, 3)
        q, k, v = qkv.split(hd, dim=-1)
        q = ref.rotary(q, spec["rotaryDims"], spec["rotaryBase"])
        k = ref.rotary(k, spec["rotaryDims"], spec["rotaryBase"])
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True).permute(0, 2, 1, 3).reshape(B, T, C)
        mid = h + att @ p[pre + "attn.dense.weight"].T + p[pre + "attn.dense.bias"]
        n2 = ref.norm(mid, p, pre + "ln2", spec)
        m = F.gelu(n2 @ p[pre + "mlp.up.weight"].T + p[pre + "mlp.up.bias"])
        h = mid + m @ p[pre + "mlp.down.weight"].T + p[pre + "mlp.down.bias"]
    logits = ref.norm(h, p, "final_norm", spec) @ p["head.weight"].T
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


forward = forward_sdpa if a.attention == "sdpa" else ref.forward
if a.attention == "sdpa" and a.pos != "rotary":
    sys.exit("--attention sdpa is written for rotary positions (the 125M config)")


# the two forwards compute the same loss (checked on the initial weights, before timing)
with torch.no_grad():
    same_loss = (forward(params, spec, x, y) - ref.forward(params, spec, x, y)).abs().item()


def step():
    opt.zero_grad(set_to_none=True)
    loss = forward(params, spec, x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
    opt.step()
    return loss
for _ in range(a.warmup):
    step()
torch.cuda.synchronize()
t0 = time.perf_counter()
for _ in range(a.steps):
    loss = step()
torch.cuda.synchronize()
sec = time.perf_counter() - t0
# the same number of steps again, each waited for (as a loop that logs its loss each step does, and as
# tabtron's steps do): the median step is what a hiccup on a shared machine does not move
step_ms = []
for _ in range(a.steps):
    t = time.perf_counter()
    step().item()
    step_ms.append((time.perf_counter() - t) * 1000)
median_ms = sorted(step_ms)[len(step_ms) // 2]
n = sum(v.numel() for v in params.values())
torch.cuda.reset_peak_memory_stats()
step()
torch.cuda.synchronize()
peak = torch.cuda.max_memory_allocated()


def profile_step():
    """GPU time per operator over one step: self CUDA time of each op, largest first."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t = time.perf_counter()
        step()
        torch.cuda.synchronize()
        step_ms = (time.perf_counter() - t) * 1000
    rows = []
    for e in prof.key_averages():
        us = getattr(e, "self_device_time_total", None)
        if us is None:
            us = getattr(e, "self_cuda_time_total", 0)
        if us > 0 and str(getattr(e, "device_type", "")).endswith("CPU"):
            rows.append({"label": e.key, "count": e.count, "ms": round(us / 1000, 3)})
    rows.sort(key=lambda r: -r["ms"])
    total = sum(r["ms"] for r in rows)
    for r in rows:
        r["share"] = round(r["ms"] / total, 3) if total else 0
    return {"stepMs": round(step_ms, 3), "timedMs": round(total, 3), "byLabel": rows[: a.profile_rows]}


prof_out = {}
if a.profile:
    try:
        prof_out = {"profile": profile_step()}
    except Exception as e:  # the throughput above stands without the profile
        prof_out = {"profile_error": repr(e)}
print(json.dumps({"impl": "pytorch-fp32-" + a.attention, "peak_bytes": peak, "loss_diff_vs_eager": same_loss, "torch": torch.__version__, "params": n, "seq": T, "micro_batch": a.micro,
                  "steps": a.steps, "seconds": sec, "tokens_per_s": a.micro * T * a.steps / sec, "last_loss": loss.item(),
                  "step_ms": [round(x, 3) for x in step_ms], "median_tokens_per_s": a.micro * T / (median_ms / 1000),
                  **prof_out}))
