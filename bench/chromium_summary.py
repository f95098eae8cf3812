"""Summarises tools/gpu/on-gpu-chromium.sh's parts (one folder of JSON files) as one JSON object:
the adapter each flag set got, the kernel checks in a tab, and for each model the tokens/s of the
README's multi-tab command (4 headless Chromium tabs, TP 2 x PP 2) against the same layout on Dawn in
Node, measured in the same call: bench/train-layouts.ts (every rank in one process on one device) and,
for the 25M model, bench/train-procs.ts (a process per rank, each with its own device, as tabs have).

  python3 bench/chromium_summary.py /tmp/crgpu

Tabs' tokens/s: every rank reports the step's global tokens over its own step time, and the CLI sums
those over the ranks (coordinator/headless.ts), so with 4 ranks its `tokens_per_sec` is 4 times the
run's rate; the rate here is that sum over the world size, next to the CLI's number as printed. A
wall-clock rate (tokens of every step over the seconds from the run's start to its end, evaluation
and the tabs' start included) is given too.
"""

import json
import pathlib
import sys


def lines(path):
    try:
        text = path.read_text()
    except OSError as e:
        return [{"error": repr(e)}]
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out or [{"error": f"no JSON in {path.name}: {text[-300:]!r}"}]


def last(path):
    return lines(path)[-1]


def tabs_rate(run, tokens_per_step):
    if "error" in run or not run.get("tokens_per_sec"):
        return {"error": run.get("error", "no tokens_per_sec")}
    log = run.get("log") or []
    # the intervals after the first (which holds the first steps' warm-up), CLI sum / world
    steady = [e["tokens_per_sec"] for e in (log[1:] or log) if e.get("tokens_per_sec")]
    world = run["world"]
    return {
        "tokens_per_s": round(sorted(steady)[len(steady) // 2] / world, 1) if steady else None,
        "tokens_per_s_last_interval": round(run["tokens_per_sec"] / world, 1),
        "cli_tokens_per_sec_as_printed": round(run["tokens_per_sec"], 1),
        "wall_tokens_per_s": round(run["steps"] * tokens_per_step / run["train_seconds"], 1)
        if run.get("train_seconds")
        else None,
        "steps": run["steps"],
        "seconds": run.get("seconds"),
        "final_train_loss": run.get("final_train_loss"),
        "final_valid_loss": run.get("final_valid_loss"),
    }


def dawn_rate(run, name):
    if "error" in run:
        return run
    layout = next((x for x in run.get("layouts", []) if x.get("name") == name), None)
    return {"tokens_per_s": layout["tokens_per_s"], "step_ms": layout.get("step_ms"), "adapter": run.get("adapter")} if layout else {"error": f"no {name}"}


def main(folder):
    d = pathlib.Path(folder)
    r = {"adapters": [], "chosen_args": None}
    for a in lines(d / "adapters.json"):
        i = a.get("info") or {}
        r["adapters"].append(
            {
                "set": a.get("set"),
                "args": a.get("args"),
                "adapter": " / ".join(str(i.get(k) or "") for k in ("vendor", "architecture", "device", "description"))
                if i
                else None,
                "fallback": i.get("isFallbackAdapter"),
                "matmul_gflops": round((a.get("matmul") or {}).get("gflops", 0), 1) or None,
                "error": a.get("error"),
            }
        )
    chosen = d / "chosen-args.txt"
    if chosen.exists():
        r["chosen_args"] = chosen.read_text().strip()
    per_check = [c for c in lines(d / "checks.json") if "check" in c]
    c = last(d / "checks.json")
    r["kernel_checks"] = {
        "checks": len(per_check),
        "results": sum(x["results"] for x in per_check),
        "failed": sum(x["failed"] for x in per_check),
        "failures": [f for x in per_check for f in x["failures"]][:20],
        "seconds": c.get("seconds"),
        "complete": "check" not in c and "error" not in c,
        "error": c.get("error"),
    }
    # tokens per step: micro x accumulation x seq (DP 1)
    models = {"tiny-3d": ("tabs-tiny-3d", "dawn-tiny-3d", 2 * 2 * 64), "25M": ("tabs-25M", "dawn-25M", 4 * 4 * 256)}
    for model, (tabs, dawn, tokens_per_step) in models.items():
        t = tabs_rate(last(d / f"{tabs}.json"), tokens_per_step)
        dn = last(d / f"{dawn}.json")
        row = {
            "chromium_tabs": t,
            "dawn_node_tp2_pp2": dawn_rate(dn, "tp2-pp2"),
            "dawn_node_1rank": dawn_rate(dn, "1rank"),
        }
        if model == "25M":
            procs = last(d / "dawn-procs-25M.json")
            for name, layout in (("dawn_procs_tp2_pp2", "tp2pp2"), ("dawn_procs_single", "single")):
                x = next((x for x in procs.get("results", []) if x.get("layout") == layout), None)
                row[name] = {"tokens_per_s": round(x["tokens_per_s"], 1), "step_ms": round(x["step_ms"], 1)} if x else procs
        for base in [k for k in row if k.startswith("dawn_")]:
            if t.get("tokens_per_s") and row[base].get("tokens_per_s"):
                row[f"ratio_tabs_vs_{base}"] = round(t["tokens_per_s"] / row[base]["tokens_per_s"], 3)
        r[model] = row
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv[1])
