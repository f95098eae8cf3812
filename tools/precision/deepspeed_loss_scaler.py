#!/usr/bin/env python3
"""Runs DeepSpeed's own DynamicLossScaler on fixed overflow sequences and writes what it did, so
src/train/loss-scaler.test.ts can replay them against tabtron's class.

    python3 tools/precision/deepspeed_loss_scaler.py PATH/TO/deepspeed/runtime/fp16/loss_scaler.py \
        > src/train/fixtures/deepspeed-loss-scaler.json

Only the Python standard library is needed: the file's imports of torch and of deepspeed's own
modules are replaced by small stand-ins (the scaler uses torch only for a dtype name, and
deepspeed.comm only for the rank that logs), so the class itself runs unchanged.
"""

import importlib.util
import json
import random
import sys
import types


def install_stand_ins():
    torch = types.ModuleType("torch")
    torch.half = torch.float16 = "float16"
    torch.bfloat16 = "bfloat16"
    torch.float32 = "float32"
    comm = types.ModuleType("deepspeed.comm")
    comm.get_rank = lambda: 1  # not rank 0: no log lines
    utils = types.ModuleType("deepspeed.utils")
    utils.logger = types.SimpleNamespace(info=lambda *a, **k: None)
    config_utils = types.ModuleType("deepspeed.runtime.config_utils")
    config_utils.DeepSpeedConfigObject = object
    deepspeed = types.ModuleType("deepspeed")
    deepspeed.comm = comm
    runtime = types.ModuleType("deepspeed.runtime")
    for name, mod in {
        "torch": torch,
        "deepspeed": deepspeed,
        "deepspeed.comm": comm,
        "deepspeed.utils": utils,
        "deepspeed.runtime": runtime,
        "deepspeed.runtime.config_utils": config_utils,
    }.items():
        sys.modules[name] = mod


def load_scaler_module(path):
    install_stand_ins()
    spec = importlib.util.spec_from_file_location("ds_loss_scaler", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cases():
    rng = random.Random(20260815)
    settings = [
        dict(initialScalePower=16, lossScaleWindow=1000, hysteresis=2, minLossScale=1, consecutiveHysteresis=False),
        dict(initialScalePower=4, lossScaleWindow=3, hysteresis=2, minLossScale=1, consecutiveHysteresis=False),
        dict(initialScalePower=4, lossScaleWindow=3, hysteresis=2, minLossScale=1, consecutiveHysteresis=True),
        dict(initialScalePower=6, lossScaleWindow=2, hysteresis=1, minLossScale=1, consecutiveHysteresis=False),
        dict(initialScalePower=5, lossScaleWindow=4, hysteresis=3, minLossScale=0.25, consecutiveHysteresis=False),
        dict(initialScalePower=5, lossScaleWindow=4, hysteresis=3, minLossScale=0.25, consecutiveHysteresis=True),
        dict(initialScalePower=3, lossScaleWindow=2, hysteresis=1, minLossScale=3, consecutiveHysteresis=False),
    ]
    for s in settings:
        for p_overflow in (0.1, 0.3, 0.6):
            yield s, [rng.random() < p_overflow for _ in range(60)]


def main():
    mod = load_scaler_module(sys.argv[1])
    out = []
    for s, overflows in cases():
        scaler = mod.DynamicLossScaler(
            init_scale=2 ** s["initialScalePower"],
            scale_window=s["lossScaleWindow"],
            min_scale=s["minLossScale"],
            delayed_shift=s["hysteresis"],
            consecutive_hysteresis=s["consecutiveHysteresis"],
        )
        scales, hysteresis, error_at = [], [], None
        for i, overflow in enumerate(overflows):
            try:
                scaler.update_scale(overflow)
            except Exception:  # DeepSpeed raises a bare Exception at the minimum scale
                error_at = i
                break
            scales.append(scaler.cur_scale)
            hysteresis.append(scaler.cur_hysteresis)
        out.append(
            dict(options=s, overflows=overflows, scales=scales, hysteresis=hysteresis, errorAt=error_at)
        )
    json.dump({"source": "deepspeed/runtime/fp16/loss_scaler.py DynamicLossScaler", "cases": out}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
