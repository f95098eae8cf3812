"""Expected samples of GPT-NeoX's data pipeline for tabtron's tests (numpy only).

Reimplements, from reading GPT-NeoX's sources (megatron/data/data_utils.py, gpt2_dataset.py,
blendable_dataset.py, helpers.cpp) and without importing them, what NeoX's training loop
draws for a config: the sample counts per split from train_iters / eval_interval / eval_iters /
train_batch_size, the document split of `data_path` by `split`, each GPT2Dataset's doc_idx,
sample_idx and shuffle_idx from np.random.RandomState(seed), blending of `train_data_paths` by
`train_data_weights` (or weight_by_num_documents), and the tokens of dataset[i].

    python3 tools/data/neox_indices.py [fixtures_dir]   → <fixtures_dir>/neox_indices.json
"""

import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class Indexed:
    """Reads a mmap .idx/.bin pair the way NeoX's MMapIndexedDataset does."""

    dtypes = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 8: np.uint16}

    def __init__(self, prefix):
        with open(prefix + ".idx", "rb") as f:
            assert f.read(9) == b"MMIDIDX\x00\x00"
            assert struct.unpack("<Q", f.read(8)) == (1,)
            (code,) = struct.unpack("<B", f.read(1))
            self.dtype = self.dtypes[code]
            self.n = struct.unpack("<Q", f.read(8))[0]
            self.d = struct.unpack("<Q", f.read(8))[0]
            offset = f.tell()
        buf = np.memmap(prefix + ".idx", mode="r", order="C")
        self.sizes = np.frombuffer(buf, dtype=np.int32, count=self.n, offset=offset)
        self.pointers = np.frombuffer(buf, dtype=np.int64, count=self.n, offset=offset + self.sizes.nbytes)
        self.bin = np.memmap(prefix + ".bin", mode="r", order="C")

    def get(self, i, offset=0, length=None):
        ptr, size = self.pointers[i], self.sizes[i]
        if length is None:
            length = size - offset
        ptr += offset * np.dtype(self.dtype).itemsize
        return np.frombuffer(self.bin, dtype=self.dtype, count=length, offset=ptr)


def num_epochs(tokens_per_epoch, seq_length, num_samples):
    epochs, total = 0, 0
    while True:
        epochs += 1
        total += tokens_per_epoch
        if ((total - 1) // seq_length) >= num_samples:
            return epochs


def build_doc_idx(documents, epochs, rng):
    doc_idx = np.mgrid[0:epochs, 0 : len(documents)][1]
    doc_idx[:] = documents
    doc_idx = doc_idx.reshape(-1).astype(np.int32)
    rng.shuffle(doc_idx)
    return doc_idx


def build_sample_idx(sizes, doc_idx, seq_length, epochs, tokens_per_epoch):
    # the C++ helper's loop (build_sample_idx_int32), in Python
    num_samples = (epochs * tokens_per_epoch - 1) // seq_length
    sample_idx = np.zeros([num_samples + 1, 2], dtype=np.int32)
    doc_pos, offset = 0, 0
    for s in range(1, num_samples + 1):
        remaining = seq_length + 1
        while remaining != 0:
            length = int(sizes[doc_idx[doc_pos]]) - offset
            remaining -= length
            if remaining <= 0:
                offset += remaining + length - 1
                remaining = 0
            else:
                doc_pos += 1
                offset = 0
        sample_idx[s] = (doc_pos, offset)
    return sample_idx


def build_shuffle_idx(size, rng):
    idx = np.arange(start=0, stop=size, step=1, dtype=np.uint32)
    rng.shuffle(idx)
    return idx


class GPT2Dataset:
    def __init__(self, indexed, documents, num_samples, seq_length, seed):
        self.indexed, self.seq_length = indexed, seq_length
        tokens_per_epoch = int(np.sum(indexed.sizes[documents]))
        self.epochs = num_epochs(tokens_per_epoch, seq_length, num_samples)
        rng = np.random.RandomState(seed=seed)
        self.doc_idx = build_doc_idx(documents, self.epochs, rng)
        self.sample_idx = build_sample_idx(indexed.sizes, self.doc_idx, seq_length, self.epochs, tokens_per_epoch)
        self.shuffle_idx = build_shuffle_idx(self.sample_idx.shape[0] - 1, rng)

    def __len__(self):
        return min(self.shuffle_idx.shape[0] - 1, self.sample_idx.shape[0] - 1)

    def __getitem__(self, idx):
        try:
            idx = self.shuffle_idx[idx]
        except IndexError:
            return self[idx % len(self)]
        df, of = self.sample_idx[idx]
        dl, ol = self.sample_idx[idx + 1]
        get = self.indexed.get
        if df == dl:
            sample = get(self.doc_idx[df], offset=of, length=ol - of + 1)
        else:
            parts = [get(self.doc_idx[df], offset=of)]
            parts += [get(self.doc_idx[i]) for i in range(df + 1, dl)]
            parts.append(get(self.doc_idx[dl], length=ol + 1))
            sample = np.concatenate(parts)
        if len(sample) < self.seq_length + 1:
            sample = np.pad(sample, (0, self.seq_length + 1 - len(sample)), mode="constant", constant_values=0)
        return np.array(sample[: self.seq_length + 1], dtype=np.int64)


class Blendable:
    def __init__(self, datasets, weights):
        self.datasets = datasets
        self.size = sum(len(d) for d in datasets)
        weights = np.array(weights, dtype=np.float64)
        weights /= np.sum(weights)
        self.dataset_index = np.zeros(self.size, dtype=np.uint8)
        self.dataset_sample_index = np.zeros(self.size, dtype=np.int64)
        current = [0] * len(datasets)
        for i in range(self.size):  # helpers.cpp build_blending_indices
            at = max(float(i), 1.0)
            best, best_error = 0, weights[0] * at - current[0]
            for d in range(1, len(datasets)):
                error = weights[d] * at - current[d]
                if error > best_error:
                    best, best_error = d, error
            self.dataset_index[i] = best
            self.dataset_sample_index[i] = current[best]
            current[best] += 1

    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        if idx >= self.size:
            return self[idx % self.size]
        return self.datasets[self.dataset_index[idx]][self.dataset_sample_index[idx]]


def split_documents(splits_string, size):
    if splits_string.find(",") != -1:
        splits = [float(s) for s in splits_string.split(",")]
    elif splits_string.find("/") != -1:
        splits = [float(s) for s in splits_string.split("/")]
    else:
        splits = [float(splits_string)]
    while len(splits) < 3:
        splits.append(0.0)
    splits = splits[:3]
    total = sum(splits)
    splits = [s / total for s in splits]
    index = [0]
    for i, s in enumerate(splits):
        index.append(index[i] + int(round(s * float(size))))
    diff = index[-1] - size
    for i in range(1, len(index)):
        index[i] -= diff
    return index


def normalized_weights_and_num_samples(weights, num_samples):
    total = sum(weights)
    weights = [w / total for w in weights]
    return weights, [int(math.ceil(num_samples * w * 1.005)) for w in weights]


def weights_by_num_docs(counts, alpha):
    if len(counts) == 1:
        return [1.0]
    total = sum(counts)
    unbiased = [i / total for i in counts]
    probs = [i**alpha for i in unbiased]
    total = sum(probs)
    probs = [i / total for i in probs]
    weights = [p * (1 - q) for p, q in zip(probs, unbiased)]
    total = sum(weights)
    return [w / total for w in weights]


def build(case, fixtures):
    c = case["config"]
    batch = c["train_batch_size"]
    eval_iters = (c["train_iters"] // c["eval_interval"] + 1) * c["eval_iters"]
    counts = [c["train_iters"] * batch, eval_iters * batch, c["eval_iters"] * batch]
    seq, seed = c["seq_length"], c["seed"]
    names = ["train", "valid", "test"]
    out = {}
    if "data_path" in c:
        indexed = Indexed(os.path.join(fixtures, c["data_path"]))
        bounds = split_documents(c["split"], indexed.sizes.shape[0])
        out["bounds"] = bounds
        for k, name in enumerate(names):
            if bounds[k + 1] > bounds[k]:
                docs = np.arange(start=bounds[k], stop=bounds[k + 1], step=1, dtype=np.int32)
                out[name] = GPT2Dataset(indexed, docs, counts[k], seq, seed)
            else:
                out[name] = None
    else:
        for k, name in enumerate(names):
            paths = c[name + "_data_paths"]
            indexed = [Indexed(os.path.join(fixtures, p)) for p in paths]
            weights = c.get(name + "_data_weights") or [1.0] * len(paths)
            if c.get("weight_by_num_documents"):
                weights = weights_by_num_docs([ix.sizes.shape[0] for ix in indexed], c.get("weighted_sampler_alpha", 1.0))
            weights, samples = normalized_weights_and_num_samples(weights, counts[k])
            parts = []
            for ix, n in zip(indexed, samples):
                docs = np.arange(start=0, stop=ix.sizes.shape[0], step=1, dtype=np.int32)
                parts.append(GPT2Dataset(ix, docs, n, seq, seed))
            out[name] = Blendable(parts, weights)
    return out


def describe(ds, take):
    if ds is None:
        return None
    if isinstance(ds, Blendable):
        return {
            "length": len(ds),
            "dataset_index": ds.dataset_index[:take].tolist(),
            "dataset_sample_index": ds.dataset_sample_index[:take].tolist(),
            "parts": [describe(d, 0) for d in ds.datasets],
            "samples": [ds[i].tolist() for i in range(take)],
        }
    return {
        "length": len(ds),
        "epochs": ds.epochs,
        "doc_idx": ds.doc_idx.tolist(),
        "sample_idx": ds.sample_idx.reshape(-1).tolist(),
        "shuffle_idx": ds.shuffle_idx.tolist(),
        "samples": [ds[i].tolist() for i in range(take)],
    }


BASE = {"train_iters": 20, "train_batch_size": 4, "eval_interval": 10, "eval_iters": 2, "seq_length": 16, "seed": 1234}

CASES = [
    {"name": "split 8,1,1: several epochs",
     "config": {**BASE, "data_path": "alpha_text_document", "split": "8,1,1", "train_iters": 60}},
    {"name": "split 969,30,1: an empty test split",
     "config": {**BASE, "data_path": "alpha_text_document", "split": "969,30,1", "seed": 7, "seq_length": 8}},
    {"name": "split 1,1: a tie rounded to even",
     "config": {**BASE, "data_path": "alpha_text_document", "split": "1,1", "train_iters": 3, "seq_length": 32}},
    {"name": "split 1/2/2 on int32 tokens", "config": {**BASE, "data_path": "wide_text_document", "split": "1/2/2",
                                                       "train_iters": 7, "seq_length": 4}},
    {"name": "blend 3:1",
     "config": {**BASE, "train_data_paths": ["alpha_text_document", "beta_text_document"], "train_data_weights": [3, 1],
                "valid_data_paths": ["beta_text_document"], "test_data_paths": ["alpha_text_document"]}},
    {"name": "blend by number of documents",
     "config": {**BASE, "train_data_paths": ["alpha_text_document", "beta_text_document"],
                "valid_data_paths": ["beta_text_document", "alpha_text_document"], "valid_data_weights": [1, 4],
                "test_data_paths": ["beta_text_document"], "weight_by_num_documents": True,
                "weighted_sampler_alpha": 0.3, "seed": 99}},
]


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures")
    results = []
    for case in CASES:
        built = build(case, fixtures)
        entry = {"name": case["name"], "config": case["config"]}
        if "bounds" in built:
            entry["bounds"] = built["bounds"]
        for name in ["train", "valid", "test"]:
            ds = built[name]
            entry[name] = describe(ds, min(len(ds), 24) if ds is not None else 0)
        results.append(entry)
    with open(os.path.join(fixtures, "neox_indices.json"), "w") as f:
        json.dump(results, f, separators=(",", ":"))
        f.write("\n")
    for r in results:
        print(r["name"], {k: (r[k] or {}).get("length") for k in ["train", "valid", "test"]})


if __name__ == "__main__":
    main()
