"""PyTorch FP32 (TF32 off) training throughput of the same GPT as bench/train-throughput.ts.

    python3 bench/torch_gpt.py --layers 12 --hidden 768 --heads 12 --seq 2048 --vocab 50304 --micro 1
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "reference"))
import gpt_reference as ref  # noqa: E402

p = argparse.ArgumentParser()
for k, d in [("layers", 12), ("hidden", 768), ("heads", 12), ("seq", 2048), ("vocab", 50304), ("micro", 1), ("steps", 5), ("warmup", 2)]:
    p.add_argument("--" + k, type=int, default=d)
p.add_argument("--norm", default="layernorm")
p.add_argument("--pos", default="rotary")
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
def step():
    opt.zero_grad(set_to_none=True)
    loss = ref.forward(params, spec, x, y)
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
n = sum(v.numel() for v in params.values())
print(json.dumps({"impl": "pytorch-fp32-eager", "torch": torch.__version__, "params": n, "seq": T, "micro_batch": a.micro,
                  "steps": a.steps, "seconds": sec, "tokens_per_s": a.micro * T * a.steps / sec, "last_loss": loss.item()}))
