# The CUDA side of bench/dispatch-floor.ts: N dependent in-place adds (x += 1) on workgroups × 64
# floats on one stream, timed by CUDA events, µs a kernel: launched one by one from Python (eager: the
# host's launch rate may be what is measured) and replayed from a CUDA graph (the GPU's own floor).
#   python3 bench/torch_dispatch_floor.py [--n 2000] [--reps 5] [--workgroups 1,132,1056]
import argparse
import json
import statistics

import torch

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=2000)
p.add_argument("--reps", type=int, default=5)
p.add_argument("--workgroups", default="1,132,1056")
args = p.parse_args()

rows = []
for workgroups in [int(w) for w in args.workgroups.split(",")]:
    x = torch.zeros(workgroups * 64, device="cuda")
    x.add_(1.0)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        with torch.cuda.graph(graph):
            for _ in range(args.n):
                x.add_(1.0)
    torch.cuda.current_stream().wait_stream(side)

    def timed(run):
        times = []
        for _ in range(args.reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) * 1000 / args.n)
        return round(statistics.median(times), 2)

    def eager():
        for _ in range(args.n):
            x.add_(1.0)

    rows.append({"workgroups": workgroups, "eager_us": timed(eager), "graph_us": timed(graph.replay)})

print(json.dumps({
    "bench": "torch_dispatch_floor",
    "device": torch.cuda.get_device_name(),
    "torch": torch.__version__,
    "kernels_per_chain": args.n,
    "rows": rows,
}))
