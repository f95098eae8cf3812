#!/usr/bin/env python3
"""Joins bench/kernels.ts JSON with the PyTorch baselines measured in the same run.

usage: combine_results.py webgpu.json torch_matmul.json [torch_attention.json]
One JSON object on stdout, a table on stderr. Ratios are WebGPU speed / PyTorch speed (> 1: faster).
Per matmul shape: what matmul() picks ("auto", the headline), the best method timed, and the old
matmul.wgsl default, each against cuBLAS FP32.
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:  # a failed part still leaves the others worth printing
        return {"error": f"{path}: {e}"}


def ratio(a, b):
    return a / b if a and b else None


def good(r):
    return r.get("tflops") and not r.get("error") and (r.get("sampleRelErr") or 0) < 1e-4


def matmul_rows(web, torch):
    cublas = {r["name"]: r for r in torch.get("matmul", [])}
    by_shape = {}
    for r in web.get("matmul", []):
        by_shape.setdefault(r["name"], []).append(r)
    rows = []
    for name, rs in by_shape.items():
        t = cublas.get(name, {})
        auto = next((r for r in rs if r["method"] == "auto"), {})
        old = next((r for r in rs if r["method"] not in ("auto",) and not r["method"].startswith("v")), {})
        best = max((r for r in rs if good(r)), key=lambda r: r["tflops"], default={})
        r0 = rs[0]
        rows.append({
            "name": name, "shape": f"{r0['M']}x{r0['N']}x{r0['K']}",
            "op": ("t" if r0["transA"] else "n") + ("t" if r0["transB"] else "n"),
            "cublas_tflops": t.get("tflops"),
            "auto_plan": auto.get("plan"), "auto_tflops": auto.get("tflops"), "auto_ratio": ratio(auto.get("tflops"), t.get("tflops")),
            "auto_sample_rel_err": auto.get("sampleRelErr"),
            "best_method": best.get("method"), "best_tflops": best.get("tflops"), "best_ratio": ratio(best.get("tflops"), t.get("tflops")),
            "old_method": old.get("method"), "old_tflops": old.get("tflops"), "old_ratio": ratio(old.get("tflops"), t.get("tflops")),
            "error": auto.get("error") or t.get("error"),
        })
    return rows


def method_means(web, torch):
    cublas = {r["name"]: r.get("tflops") for r in torch.get("matmul", [])}
    acc = {}
    for r in web.get("matmul", []):
        if good(r) and cublas.get(r["name"]):
            acc.setdefault(r["method"], []).append(r["tflops"] / cublas[r["name"]])
    return sorted(({"method": m, "shapes": len(v), "mean_ratio": sum(v) / len(v), "min_ratio": min(v)}
                   for m, v in acc.items()), key=lambda x: -x["mean_ratio"])


def attention_rows(web, tatt):
    torch_by = {r["method"]: r for r in tatt.get("attention", [])}
    rows = []
    for r in web.get("attention", []):
        row = dict(r)
        for m in ("sdpa", "math"):
            t = torch_by.get(m, {})
            tm = t.get(f"{r['pass']}_ms")
            row[f"vs_torch_{m}"] = tm / r["ms"] if tm and r.get("ms") else None
        rows.append(row)
    return rows


def main():
    web, torch = load(sys.argv[1]), load(sys.argv[2])
    tatt = load(sys.argv[3]) if len(sys.argv) > 3 else {}
    rows = matmul_rows(web, torch)
    out = {
        "device": torch.get("device"), "adapter": (web.get("adapter") or {}).get("device"),
        "torch": torch.get("torch"), "timing": web.get("timing"), "robustness": web.get("robustness"),
        "default_vec4_config": web.get("defaultVec4Config"),
        "matmul": rows, "methods": method_means(web, torch),
        "attention": attention_rows(web, tatt), "torch_attention": tatt.get("attention"),
        "fused": web.get("fused"), "torch_fused": tatt.get("fused"), "memory": web.get("memory"),
        "errors": [x for x in (web.get("error"), torch.get("error"), tatt.get("error")) if x],
    }
    f = lambda x, fmt: (fmt % x) if x is not None else "-"
    for r in rows:
        print(f"{r['name']:<15} {r['shape']:<17} {r['op']} cublas {f(r['cublas_tflops'], '%5.1f')} | auto {r['auto_plan'] or '-':<24}"
              f" {f(r['auto_tflops'], '%5.1f')} ({f(r['auto_ratio'], '%.2f')}) | best {r['best_method'] or '-':<18}"
              f" {f(r['best_tflops'], '%5.1f')} ({f(r['best_ratio'], '%.2f')}) | old {f(r['old_ratio'], '%.2f')} {r['error'] or ''}",
              file=sys.stderr)
    for m in out["methods"][:12]:
        print(f"method {m['method']:<20} mean {m['mean_ratio']:.3f} min {m['min_ratio']:.3f} over {m['shapes']}", file=sys.stderr)
    for r in out["attention"]:
        print(f"attention {r['pass']} {r['method']:<12} {f(r.get('ms'), '%8.3f')} ms {f(r.get('tflops'), '%5.1f')} TFLOP/s"
              f" vs sdpa {f(r.get('vs_torch_sdpa'), '%.2f')} vs math {f(r.get('vs_torch_math'), '%.2f')}"
              f" extra {f(r.get('extraBytes'), '%d')} B {r.get('error') or ''}", file=sys.stderr)
    for r in out["torch_attention"] or []:
        print(f"torch attention {r}", file=sys.stderr)
    for r in out["fused"] or []:
        print(f"fused {r}", file=sys.stderr)
    for m in web.get("memory") or []:
        print(f"{m['name']:<40} {m.get('gbps') or m.get('error')} GB/s", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
