"""tabtron's Hugging Face export and import checked against `transformers` itself.

Export cases (made by tools/hf/make-cases.ts: tiny random tabtron checkpoints in several
layouts, exported with `tabtron export-hf`): for each, transformers loads the folder
(AutoModelForCausalLM, AutoTokenizer); its token ids for the case's text must equal tabtron's,
its logits on the first windows must match the logits `tabtron eval --dump-logits` wrote
(max |a - b| / max |b|, against transformers in float64 and in float32), its mean loss over
every window must match `tabtron eval`'s, and greedy `generate` must produce the same tokens as
`tabtron generate --temperature 0`.

Import cases: this script creates randomly initialised GPTNeoXForCausalLM (and GPT2LMHeadModel)
models with tiny configs, saves them with save_pretrained, runs `tabtron import-hf` and
`tabtron eval` on the checkpoint it made (and on the folder itself), and compares the loss and
logits with transformers' on the same text.

    python3 tools/hf/check_transformers.py --cases CASES_DIR --tabtron "bash .gpu/run.sh cli.mjs" \
        --work WORK_DIR --out results.json
    python3 tools/hf/check_transformers.py --cases CASES_DIR --dry-run   # no torch: checks the dumps only

The tabtron command is split with shlex and run with the given arguments appended.
"""
import argparse
import json
import math
import shlex
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TOL = 1e-4
DTYPES = {"F32": np.float32, "I32": np.int32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    """(tensors as numpy arrays, metadata) of a safetensors file, with numpy alone."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + lo : 8 + n + hi], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return out, meta


def windows(ids, T):
    """tabtron's evaluation windows: inputs [s, s+T), targets [s+1, s+T+1), s = 0, T, 2T, ..."""
    out = []
    for s in range(0, len(ids) - 1, T):
        n = min(T, len(ids) - 1 - s)
        out.append((ids[s : s + n], ids[s + 1 : s + n + 1]))
    return out


def log_softmax64(logits):
    x = np.asarray(logits, dtype=np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


class Tabtron:
    def __init__(self, prefix):
        self.prefix = shlex.split(prefix)

    def __call__(self, *args):
        t0 = time.time()
        r = subprocess.run(self.prefix + [str(a) for a in args], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"tabtron {' '.join(map(str, args))} failed ({r.returncode}): {r.stderr[-2000:]}")
        return r.stdout, time.time() - t0


def dump_self_check(dump_path, eval_json):
    """The dump's own numbers: its logits' loss on its windows is part of tabtron's mean."""
    d, meta = read_safetensors(dump_path)
    lp = log_softmax64(d["logits"])
    tg = d["targets"]
    mask = tg >= 0
    picked = np.take_along_axis(lp, np.where(mask, tg, 0)[..., None], -1)[..., 0]
    return {
        "windows_dumped": int(d["input_ids"].shape[0]),
        "seq_length": int(meta["seq_length"]),
        "tokenizer": meta["tokenizer"],
        "dumped_windows_loss": float(-(picked * mask).sum() / mask.sum()),
        "eval_loss": eval_json["loss"],
    }


def hf_logits(model, torch, ids):
    with torch.no_grad():
        return model(torch.tensor([list(ids)], dtype=torch.long)).logits[0].double().numpy()


def hf_loss(model, torch, ids, T):
    total, count = 0.0, 0
    for inp, tgt in windows(ids, T):
        lp = log_softmax64(hf_logits(model, torch, inp))
        total -= float(lp[np.arange(len(tgt)), np.array(tgt)].sum())
        count += len(tgt)
    return total / count, count


def compare_dump(model32, model64, torch, dump):
    d, _ = read_safetensors(dump)
    r32, r64 = [], []
    for w in range(d["input_ids"].shape[0]):
        ids = d["input_ids"][w].tolist()
        ours = d["logits"][w]
        r64.append(rel(ours, hf_logits(model64, torch, ids)))
        r32.append(rel(ours, hf_logits(model32, torch, ids)))
    return max(r64), max(r32), d


def load_models(torch, folder):
    from transformers import AutoModelForCausalLM

    m32 = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    m64 = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).double().eval()
    return m32, m64


def check_export(case, tabtron, torch, work):
    from transformers import AutoTokenizer

    folder, text = case / "hf", (case / "text.txt").read_text()
    dump = work / f"{case.name}.dump.safetensors"
    out, secs = tabtron("eval", folder, "--text", case / "text.txt", "--json", "--dump-logits", dump)
    ev = json.loads(out)
    m32, m64 = load_models(torch, folder)
    r64, r32, d = compare_dump(m32, m64, torch, dump)
    ids = d["text_ids"].tolist()
    T = d["input_ids"].shape[1]
    tok = AutoTokenizer.from_pretrained(folder)
    hf_ids = tok(text)["input_ids"]
    loss, count = hf_loss(m64, torch, ids, T)
    prompt = text[:12]
    new = max(1, min(8, T - len(tok(prompt)["input_ids"])))
    gen_out, _ = tabtron("generate", folder, "--prompt", prompt, "--max-new-tokens", new, "--temperature", 0, "--json")
    ours_gen = json.loads(gen_out)["tokens"]
    with torch.no_grad():
        p = torch.tensor([tok(prompt)["input_ids"]])
        hf_gen = m32.generate(p, max_new_tokens=new, do_sample=False, eos_token_id=None, pad_token_id=0)[0, p.shape[1] :]
    hf_gen = hf_gen.tolist()
    ours_gen = ours_gen[: len(hf_gen)]
    cfg = json.loads((folder / "config.json").read_text())
    return {
        "case": case.name,
        "architecture": cfg["architectures"][0],
        "tokenizer_class": json.loads((folder / "tokenizer_config.json").read_text())["tokenizer_class"],
        "tokenizer_ids_equal": hf_ids == ids,
        "tokens": ev["tokens"],
        "seq_length": int(T),
        "logits_rel_vs_float64": r64,
        "logits_rel_vs_float32": r32,
        "loss_tabtron": ev["loss"],
        "loss_transformers_float64": loss,
        "loss_rel": abs(ev["loss"] - loss) / abs(loss),
        "greedy_generate_equal": ours_gen == hf_gen,
        "greedy_tokens": hf_gen,
        "tabtron_eval_seconds": round(secs, 2),
        "ok": hf_ids == ids and r64 <= TOL and abs(ev["loss"] - loss) / abs(loss) <= TOL and ours_gen == hf_gen,
    }


IMPORT_CASES = [
    # transformers' class defaults: parallel residual, rotary_pct 0.25, untied head
    ("neox-defaults", "GPTNeoXForCausalLM", dict(vocab_size=512, hidden_size=64, num_hidden_layers=2,
                                                 num_attention_heads=4, intermediate_size=128,
                                                 max_position_embeddings=32)),
    ("neox-sequential-tied-full-rotary", "GPTNeoXForCausalLM",
     dict(vocab_size=320, hidden_size=48, num_hidden_layers=3, num_attention_heads=3, intermediate_size=96,
          max_position_embeddings=24, use_parallel_residual=False, tie_word_embeddings=True, rotary_pct=1.0,
          rotary_emb_base=500.0, layer_norm_eps=1e-6)),
    ("gpt2-exact-gelu", "GPT2LMHeadModel", dict(vocab_size=300, n_embd=32, n_layer=2, n_head=4, n_positions=40,
                                               activation_function="gelu")),
]


def make_hf_model(torch, arch, kw, folder, seed):
    import transformers

    cls = getattr(transformers, arch)
    cfg_cls = transformers.GPTNeoXConfig if arch == "GPTNeoXForCausalLM" else transformers.GPT2Config
    torch.manual_seed(seed)
    model = cls(cfg_cls(**kw))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # larger random weights than the default init, so every tensor matters
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 1:
                p.copy_(1 + 0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    model.save_pretrained(folder)
    return model


def check_import(name, arch, kw, tabtron, torch, work, text):
    folder, ckpt = work / f"{name}.hf", work / f"{name}.ckpt"
    model = make_hf_model(torch, arch, kw, folder, seed=len(name))
    model = model.double().eval()
    T = kw.get("max_position_embeddings", kw.get("n_positions"))
    text_path = work / "import-text.txt"
    text_path.write_text(text)
    ids = list(text.encode("utf-8"))  # the vocabularies are < 50257: tabtron reads them byte-level
    imp, _ = tabtron("import-hf", folder, "--out", ckpt)
    dump = work / f"{name}.dump.safetensors"
    ev_ckpt = json.loads(tabtron("eval", ckpt, "--text", text_path, "--json", "--dump-logits", dump)[0])
    ev_dir = json.loads(tabtron("eval", folder, "--text", text_path, "--json")[0])
    loss, count = hf_loss(model, torch, ids, T)
    d, meta = read_safetensors(dump)
    r64 = max(rel(d["logits"][w], hf_logits(model, torch, d["input_ids"][w].tolist())) for w in range(d["logits"].shape[0]))
    saved = json.loads((folder / "config.json").read_text())
    return {
        "case": name,
        "architecture": arch,
        "saved_config_keys": sorted(saved),
        "text_ids_equal": d["text_ids"].tolist() == ids,
        "tokens": ev_ckpt["tokens"],
        "seq_length": int(meta["seq_length"]),
        "loss_transformers_float64": loss,
        "loss_tabtron_checkpoint": ev_ckpt["loss"],
        "loss_tabtron_hf_folder": ev_dir["loss"],
        "loss_rel": abs(ev_ckpt["loss"] - loss) / abs(loss),
        "logits_rel_vs_float64": r64,
        "import_output": imp.strip().splitlines()[0],
        "ok": d["text_ids"].tolist() == ids and r64 <= TOL and abs(ev_ckpt["loss"] - loss) / abs(loss) <= TOL
        and ev_ckpt["loss"] == ev_dir["loss"],
    }


def guarded(results, fn, *args):
    try:
        results.append(fn(*args))
    except Exception as e:  # one broken case must not hide the others' numbers
        results.append({"case": str(args[0]), "ok": False, "error": f"{type(e).__name__}: {e}"[-3000:]})
    print(json.dumps(results[-1]), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=Path, required=True)
    ap.add_argument("--tabtron", default="npx tabtron")
    ap.add_argument("--work", type=Path, default=Path("hf-check-work"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--dry-run", action="store_true", help="no torch: tabtron eval + dump self-checks only")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    tabtron = Tabtron(a.tabtron)
    cases = sorted(p for p in a.cases.iterdir() if (p / "hf" / "config.json").exists())
    if a.dry_run:
        for c in cases:
            dump = a.work / f"{c.name}.dump.safetensors"
            ev = json.loads(tabtron("eval", c / "hf", "--text", c / "text.txt", "--json", "--dump-logits", dump)[0])
            print(json.dumps({"case": c.name, **dump_self_check(dump, ev)}))
        return
    import torch
    import transformers

    torch.backends.cuda.matmul.allow_tf32 = False
    text = (cases[0] / "text.txt").read_text() if cases else "Call me Ishmael."
    exports, imports = [], []
    for c in cases:
        guarded(exports, check_export, c, tabtron, torch, a.work)
    for name, arch, kw in IMPORT_CASES:
        guarded(imports, check_import, name, arch, kw, tabtron, torch, a.work, text)
    result = {
        "what": "tabtron export-hf / import-hf / eval / generate against transformers (tools/hf/check_transformers.py)",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tolerance": TOL,
        "exports": exports,
        "imports": imports,
        "ok": all(r.get("ok") for r in exports + imports) and len(exports) > 0,
    }
    text_out = json.dumps(result, indent=1)
    if a.out:
        a.out.write_text(text_out + "\n")
    print(json.dumps({"ok": result["ok"]}))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
