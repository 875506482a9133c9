# nanoGPT's get_batch (train.py) over the same corpus file with numpy, on one core: random
# offsets, then x/y slices of a np.memmap cast to int64, stacked. Also the vectorised fancy-indexing
# form. Throughput per CPU-second of this thread. Usage: /usr/bin/python3 numpy_peer.py corpus.tok [seconds]
import struct
import sys
import time

import numpy as np

path = sys.argv[1]
budget = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
with open(path, "rb") as f:
    header = f.read(128)
magic, version, width, vocab, tokens, documents, meta_offset, meta_bytes, starts_offset, tokens_offset = \
    struct.unpack_from("<8sIIqqqqqqq", header)
assert magic == b"SCLCORP1"
dtype = {1: np.uint8, 2: np.uint16, 4: np.uint32}[width]
data = np.memmap(path, dtype=dtype, mode="r", offset=tokens_offset, shape=(tokens,))
T, B = 1024, 32


def nanogpt():
    ix = np.random.randint(len(data) - T - 1, size=(B,))
    x = np.stack([data[i:i + T].astype(np.int64) for i in ix])
    y = np.stack([data[i + 1:i + 1 + T].astype(np.int64) for i in ix])
    return x, y


def fancy():
    ix = np.random.randint(len(data) - T - 1, size=(B,))
    return data[ix[:, None] + np.arange(T + 1)].astype(np.int32)


def run(name, fn, ids_per_call, bytes_per_id):
    for _ in range(5):
        fn()
    start = time.thread_time()
    calls = 0
    while time.thread_time() - start < budget:
        for _ in range(8):
            fn()
        calls += 8
    s = time.thread_time() - start
    ids = calls * ids_per_call
    print("%-44s %10.1f M tokens/s %8.2f GB/s" % (name, ids / s / 1e6, ids * bytes_per_id / s / 1e9))


w = "uint%d" % (8 * width)
run("peer: numpy nanoGPT get_batch (%s, int64)" % w, nanogpt, 2 * B * T, 8)
run("peer: numpy fancy indexing (%s, int32)" % w, fancy, B * (T + 1), 4)
