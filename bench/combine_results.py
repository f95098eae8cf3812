#!/usr/bin/env python3
"""Joins bench/kernels.ts JSON and bench/torch_matmul.py JSON: WebGPU / cuBLAS per shape.

usage: combine_results.py webgpu.json torch.json  → one JSON object on stdout, a table on stderr
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except Exception as e:  # a failed half still leaves the other half worth printing
        return {"error": f"{path}: {e}"}


def main():
    web, torch = load(sys.argv[1]), load(sys.argv[2])
    cublas = {r["name"]: r for r in torch.get("matmul", [])}
    rows = []
    for r in web.get("matmul", []):
        t = cublas.get(r["name"], {})
        ratio = r["tflops"] / t["tflops"] if r.get("tflops") and t.get("tflops") else None
        rows.append({
            "name": r["name"], "shape": f"{r['M']}x{r['N']}x{r['K']}",
            "op": ("t" if r["transA"] else "n") + ("t" if r["transB"] else "n"),
            "config": r["config"], "webgpu_tflops": r.get("tflops"), "cublas_tflops": t.get("tflops"),
            "ratio": ratio, "sample_rel_err": r.get("sampleRelErr"), "error": r.get("error") or t.get("error"),
        })
    out = {
        "device": torch.get("device"), "adapter": web.get("adapter", {}).get("device"),
        "timing": web.get("timing"), "default_config": web.get("defaultConfig"),
        "matmul": rows, "sweep": web.get("sweep"), "memory": web.get("memory"),
        "errors": [x for x in (web.get("error"), torch.get("error")) if x],
    }
    for r in rows:
        f = lambda x, fmt: (fmt % x) if x is not None else "-"
        print(f"{r['name']:<16} {r['shape']:<18} {r['op']} {r['config']:<16} webgpu {f(r['webgpu_tflops'], '%6.2f')}"
              f"  cublas {f(r['cublas_tflops'], '%6.2f')}  ratio {f(r['ratio'], '%.2f')}  {r['error'] or ''}", file=sys.stderr)
    for m in web.get("memory") or []:
        print(f"{m['name']:<40} {m.get('gbps') or m.get('error')} GB/s", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
