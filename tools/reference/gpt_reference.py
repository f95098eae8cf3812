"""PyTorch reference for tabtron's GPT (golden data for the parity test).

For each variant exported by tools/reference/export.ts (inputs.safetensors + variant.json) this
builds the same GPT in PyTorch from those weights, computes in float64 on the CPU the initial
loss, every parameter's gradient, and the loss over `steps` AdamW steps on the fixed batch, and
writes golden.json and golden_grads.safetensors beside the inputs.

    python3 tools/reference/gpt_reference.py tools/reference/fixtures
"""
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

DT = torch.float64


def rotary(x, dims, base):
    # x: (B, H, T, hd); NeoX rotate-half on the first `dims` features
    if dims == 0:
        return x
    T = x.shape[2]
    inv_freq = 1.0 / (base ** (torch.arange(0, dims, 2, dtype=x.dtype, device=x.device) / dims))
    ang = torch.outer(torch.arange(T, dtype=x.dtype, device=x.device), inv_freq)  # (T, dims/2)
    ang = torch.cat([ang, ang], dim=-1)
    cos, sin = ang.cos(), ang.sin()
    xr, xp = x[..., :dims], x[..., dims:]
    x1, x2 = xr[..., : dims // 2], xr[..., dims // 2:]
    rot = torch.cat([-x2, x1], dim=-1)
    return torch.cat([xr * cos + rot * sin, xp], dim=-1)


def norm(x, p, prefix, spec):
    w = p[prefix + ".weight"]
    if spec["norm"] == "layernorm":
        return F.layer_norm(x, (x.shape[-1],), w, p[prefix + ".bias"], spec["normEps"])
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + spec["normEps"]) * w


def forward(p, spec, tokens, targets):
    B, T = tokens.shape
    C, H, hd = spec["C"], spec["H"], spec["hd"]
    x = p["embed.wte"][tokens]
    if spec["posEmb"] == "learned":
        x = x + p["embed.wpe"][:T]
    mask = torch.ones(T, T, dtype=torch.bool, device=tokens.device).tril()
    for l in range(spec["L"]):
        pre = f"layers.{l}."
        h = norm(x, p, pre + "ln1", spec)
        qkv = h @ p[pre + "attn.qkv.weight"].T + p[pre + "attn.qkv.bias"]
        qkv = qkv.view(B, T, H, 3 * hd).permute(0, 2, 1, 3)  # (B, H, T, 3hd)
        q, k, v = qkv.split(hd, dim=-1)
        if spec["posEmb"] == "rotary":
            q = rotary(q, spec["rotaryDims"], spec["rotaryBase"])
            k = rotary(k, spec["rotaryDims"], spec["rotaryBase"])
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).permute(0, 2, 1, 3).reshape(B, T, C)
        attn_out = y @ p[pre + "attn.dense.weight"].T + p[pre + "attn.dense.bias"]
        mlp_in = x if spec["parallelResidual"] else x + attn_out
        m = norm(mlp_in, p, pre + "ln2", spec)
        m = F.gelu(m @ p[pre + "mlp.up.weight"].T + p[pre + "mlp.up.bias"])
        mlp_out = m @ p[pre + "mlp.down.weight"].T + p[pre + "mlp.down.bias"]
        x = x + attn_out + mlp_out if spec["parallelResidual"] else mlp_in + mlp_out
    x = norm(x, p, "final_norm", spec)
    head = p["embed.wte"] if spec["tied"] else p["head.weight"]
    logits = x @ head.T
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def run_variant(d: Path):
    meta = json.loads((d / "variant.json").read_text())
    spec = meta["spec"]
    raw = load_file(str(d / "inputs.safetensors"))
    tokens, targets = raw.pop("batch.tokens").long(), raw.pop("batch.targets").long()
    params = {k: v.to(DT).clone().requires_grad_(True) for k, v in raw.items()}
    decay = [params[k] for k in params if meta["decay"][k]]
    no_decay = [params[k] for k in params if not meta["decay"][k]]
    a = meta["adam"]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=meta["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    losses, grad_norms, grads = [], [], {}
    for step in range(meta["steps"]):
        opt.zero_grad()
        loss = forward(params, spec, tokens, targets)
        loss.backward()
        if step == 0:
            grads = {k: v.grad.detach().to(torch.float32).clone() for k, v in params.items()}
        total = torch.nn.utils.clip_grad_norm_(list(params.values()), a["maxGradNorm"])
        losses.append(loss.item())
        grad_norms.append(total.item())
        opt.step()
    save_file(grads, str(d / "golden_grads.safetensors"))
    golden = {"variant": meta["name"], "dtype": "float64", "torch": torch.__version__,
              "initial_loss": losses[0], "losses": losses, "grad_norms": grad_norms}
    (d / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(json.dumps({"variant": meta["name"], "initial_loss": losses[0], "final_loss": losses[-1]}))


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "fixtures")
    for d in sorted(p for p in root.iterdir() if (p / "variant.json").exists()):
        run_variant(d)
