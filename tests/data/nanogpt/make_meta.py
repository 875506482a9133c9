# Writes the meta.pkl fixtures of tests/cpp/test_data.cpp (nanoGPT's character-level meta.pkl) as
# nanoGPT's data/shakespeare_char/prepare.py writes them, in pickle protocols 2 to 5:
#   python3 tests/data/nanogpt/make_meta.py tests/data/nanogpt
# shakespeare-pN.pkl: the 65 characters of tiny Shakespeare; wide-pN.pkl: 300 characters (ids and
# memo indices past a byte); object.pkl: a dict that also holds an object (pickle code scalelab refuses).
import collections
import pickle
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
sets = {
    "shakespeare": "\n !$&',-.3:;?" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz",
    "wide": "".join(chr(0x100 + i) for i in range(300)),
}
for name, data in sets.items():
    # as in prepare.py
    chars = sorted(list(set(data)))
    vocab_size = len(chars)
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    meta = {"vocab_size": vocab_size, "itos": itos, "stoi": stoi}
    for protocol in (2, 3, 4, 5):
        with open(f"{out}/{name}-p{protocol}.pkl", "wb") as f:
            pickle.dump(meta, f, protocol=protocol)
with open(f"{out}/object.pkl", "wb") as f:
    pickle.dump({"vocab_size": 65, "order": collections.OrderedDict()}, f, protocol=4)
