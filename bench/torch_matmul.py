#!/usr/bin/env python3
"""cuBLAS FP32 (TF32 off) through torch at the GEMM shapes of bench/matmul-shapes.json.

C = op(A) op(B) (+ C when beta = 1); A stored (K, M) when transA, B stored (N, K) when
transB, passed as transposed views so cuBLAS runs the transposed product without copies.
Prints one JSON object: {"device", "torch", "tf32", "matmul": [{name, M, N, K, ..., ms, tflops}]}.
Times with CUDA events: warmup, then the median of several samples of `reps` products.
"""
import json
import pathlib
import statistics
import sys

import torch

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
    reps = max(1, min(500, round(target_ms / max(start.elapsed_time(end), 1e-3))))
    times = []
    for _ in range(samples):
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / reps)
    return statistics.median(times), reps


def bench(case):
    M, N, K = case["M"], case["N"], case["K"]
    gen = torch.Generator(device="cuda").manual_seed(0)
    a = torch.randn((K, M) if case["transA"] else (M, K), device="cuda", generator=gen)
    b = torch.randn((N, K) if case["transB"] else (K, N), device="cuda", generator=gen)
    c = torch.randn((M, N), device="cuda", generator=gen)
    opa = a.t() if case["transA"] else a
    opb = b.t() if case["transB"] else b
    if case["beta"] == 0:
        fn = lambda: torch.mm(opa, opb, out=c)
    else:
        fn = lambda: c.addmm_(opa, opb, beta=case["beta"])
    ms, reps = time_ms(fn)
    del a, b, c
    torch.cuda.empty_cache()
    return {**case, "ms": ms, "reps": reps, "tflops": 2 * M * N * K / (ms * 1e9)}


def main():
    shapes = json.loads((pathlib.Path(__file__).parent / "matmul-shapes.json").read_text())["cases"]
    only = sys.argv[1].split(",") if len(sys.argv) > 1 else None
    results = []
    for case in shapes:
        if only and case["name"] not in only:
            continue
        try:
            r = bench(case)
        except Exception as e:  # report and go on: one shape must not hide the others
            r = {**case, "error": str(e)}
        print(f"[torch] {r['name']} {r.get('tflops', r.get('error'))}", file=sys.stderr)
        results.append(r)
    print(json.dumps({
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "tf32": torch.backends.cuda.matmul.allow_tf32,
        "matmul": results,
    }))


if __name__ == "__main__":
    main()
