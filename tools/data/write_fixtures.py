"""Writes the small Megatron/GPT-NeoX "mmap" indexed datasets that tabtron's tests read.

Needs only numpy. The writer below produces the same bytes as GPT-NeoX's
MMapIndexedDatasetBuilder (megatron/data/indexed_dataset.py): tokens appended to <prefix>.bin
as the builder's dtype, then <prefix>.idx = b"MMIDIDX\\x00\\x00", version 1 (<Q), the dtype
code (<B), the sequence count and the doc_idx length (<Q each), sizes as int32, pointers
(running byte offsets) as int64 and doc_idx as int64. It is written from the format, not
imported from NeoX, so that it runs anywhere numpy does.

    python3 tools/data/write_fixtures.py [out_dir]     (default: tools/data/fixtures)
"""

import json
import os
import struct
import sys

import numpy as np

# GPT-NeoX's codes (Megatron-LM swaps 6 and 7: float64 / float32)
NEOX_DTYPE_CODES = {np.uint8: 1, np.int8: 2, np.int16: 3, np.int32: 4, np.int64: 5,
                    np.float32: 6, np.float64: 7, np.uint16: 8}


class Builder:
    """Streams sequences into <prefix>.bin; finalize() writes <prefix>.idx."""

    def __init__(self, prefix, dtype):
        self.prefix = prefix
        self.dtype = dtype
        self.bin = open(prefix + ".bin", "wb")
        self.sizes = []
        self.doc_idx = [0]

    def add_item(self, tokens):
        arr = np.asarray(tokens, dtype=self.dtype)
        self.bin.write(arr.tobytes(order="C"))
        self.sizes.append(arr.size)

    def end_document(self):
        self.doc_idx.append(len(self.sizes))

    def finalize(self, modes=None):
        self.bin.close()
        itemsize = np.dtype(self.dtype).itemsize
        pointers = np.zeros(len(self.sizes), dtype=np.int64)
        if self.sizes:
            np.cumsum(np.array(self.sizes[:-1], dtype=np.int64), out=pointers[1:])
        pointers *= itemsize
        with open(self.prefix + ".idx", "wb") as f:
            f.write(b"MMIDIDX\x00\x00")
            f.write(struct.pack("<Q", 1))
            f.write(struct.pack("<B", NEOX_DTYPE_CODES[self.dtype]))
            f.write(struct.pack("<Q", len(self.sizes)))
            f.write(struct.pack("<Q", len(self.doc_idx)))
            f.write(np.array(self.sizes, dtype=np.int32).tobytes(order="C"))
            f.write(pointers.tobytes(order="C"))
            f.write(np.array(self.doc_idx, dtype=np.int64).tobytes(order="C"))
            if modes is not None:  # Megatron-LM's multimodal datasets append one int8 per sequence
                f.write(np.array(modes, dtype=np.int8).tobytes(order="C"))


def documents(seed, count, vocab, max_len, eod):
    rng = np.random.RandomState(seed)
    docs = []
    for _ in range(count):
        n = int(rng.randint(1, max_len + 1))
        # a skewed unigram distribution (learnable), ending with the end-of-document token
        ids = np.minimum((rng.zipf(1.3, size=n) - 1) % vocab, vocab - 1)
        docs.append(list(ids.astype(np.int64)) + [eod])
    return docs


def write(prefix, dtype, docs, split_doc=None, modes=False):
    b = Builder(prefix, dtype)
    for i, doc in enumerate(docs):
        if i == split_doc:  # one document of two sequences (as sentence-split preprocessing writes)
            half = len(doc) // 2
            b.add_item(doc[:half])
            b.add_item(doc[half:])
        else:
            b.add_item(doc)
        b.end_document()
    b.finalize(modes=[0] * len(b.sizes) if modes else None)
    return b


def summary(prefix, dtype):
    """What `tabtron data inspect --json` must print for this dataset."""
    import hashlib

    with open(prefix + ".idx", "rb") as f:
        f.read(9 + 8 + 1)
        n, d = struct.unpack("<QQ", f.read(16))
    tokens = np.fromfile(prefix + ".bin", dtype=dtype)
    return {
        "format": "megatron-mmap",
        "dtype": np.dtype(dtype).name,
        "sequences": int(n),
        "documents": int(d) - 1,
        "tokens": int(tokens.size),
        "sha256_tokens_u32le": hashlib.sha256(tokens.astype("<u4").tobytes()).hexdigest(),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "fixtures")
    os.makedirs(out, exist_ok=True)
    gpt2_vocab, gpt2_eod = 50257, 50256
    sets = {
        # GPT-2 ids (uint16, as NeoX picks for vocabularies under 65500); document 7 has two sequences
        "alpha_text_document": (np.uint16, documents(1, 48, gpt2_vocab, 90, gpt2_eod), 7, False),
        # a second, smaller dataset for blending
        "beta_text_document": (np.uint16, documents(2, 20, gpt2_vocab, 40, gpt2_eod), None, False),
        # int32 tokens, as NeoX writes for vocabularies of 65500 ids or more
        "wide_text_document": (np.int32, documents(3, 12, 100000, 30, 99999), None, False),
        # Megatron-LM's multimodal layout: the same tables plus one int8 mode per sequence
        "modes_text_document": (np.uint16, documents(4, 6, gpt2_vocab, 20, gpt2_eod), None, True),
    }
    summaries = {}
    for name, (dtype, docs, split_doc, modes) in sets.items():
        prefix = os.path.join(out, name)
        write(prefix, dtype, docs, split_doc, modes)
        summaries[name] = summary(prefix, dtype)
    with open(os.path.join(out, "inspect.json"), "w") as f:
        json.dump(summaries, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(summaries, indent=1))


if __name__ == "__main__":
    main()
