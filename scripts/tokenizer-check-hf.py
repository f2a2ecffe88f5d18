#!/usr/bin/env python3
"""Checks data/tokenizers/reference/*.jsonl (made with transformers.js) against
Hugging Face's own Rust tokenizer (the `tokenizers` Python package), so that
lockstep == transformers.js (tests/model/hf_tokenizer_reference_test.cc) also
means lockstep == HF tokenizers.

  python3 scripts/tokenizer-check-hf.py DATA_TOKENIZERS_DIR [NAME...]
DATA_TOKENIZERS_DIR holds NAME/tokenizer.json and reference/NAME.jsonl.
Prints mismatch counts; exits 1 on any mismatch.
"""
import json
import os
import sys

from tokenizers import Tokenizer


def main():
    root = sys.argv[1]
    names = sys.argv[2:] or ["qwen3", "llama3", "qwen2_5"]
    bad = 0
    for name in names:
        path = os.path.join(root, name, "tokenizer.json")
        if not os.path.exists(path):
            print(f"{name}: {path} absent, skipped")
            continue
        tok = Tokenizer.from_file(path)
        texts = enc = dec = 0
        for line in open(os.path.join(root, "reference", name + ".jsonl"), encoding="utf-8"):
            entry = json.loads(line)
            texts += 1
            ids = tok.encode(entry["text"], add_special_tokens=False).ids
            if ids != entry["ids"]:
                enc += 1
                if enc <= 3:
                    print(f"  encode differs: {entry['text']!r}\n    js {entry['ids']}\n    hf {ids}")
            if entry["ids"] and tok.decode(entry["ids"], skip_special_tokens=False) != entry["decoded"]:
                dec += 1
        print(f"{name}: {texts} texts, {enc} encode and {dec} decode mismatches vs HF tokenizers")
        bad += enc + dec
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
