#!/usr/bin/env python3
"""lockstep vs transformers on random-initialised Llama, Qwen2 and Qwen3 models,
and a Llama with llama3 rope_scaling.

Run on a machine with torch + transformers (no internet needed):
  python3 scripts/hf-parity.py --tool build/bin/hf_parity_tool --work /tmp/hf-parity

For each family: transformers builds a tiny model of the real architecture with
random weights (norm gains and biases perturbed too, so a misplaced norm or a
dropped bias shows), save_pretrained writes it (Qwen2 sharded via
max_shard_size; the llama3-rope model has original_max_position_embeddings
64, so the scaling changes most frequencies at the tested positions), and lockstep's hf_parity_tool loads the directory and prints
logits. Checks:
  * float32 logits: max |lockstep - hf| / max |hf| per sequence <= 1e-5;
  * bfloat16 (both sides load the f32 checkpoint and round to bf16 with RNE, and
    store activations in bf16 between ops): same relative error <= 2e-2 (a few
    bf16 ulps of the logit scale), and top-1 agreement reported;
  * greedy continuations (float32, 12 tokens) identical to model.generate;
  * a checkpoint written by lockstep (SaveModelDir, sharded) loads in
    transformers with no missing/unexpected keys and the same float32 logits,
    and generation_config.json files are read by both sides.
Prints a report and exits 1 if any check fails.
"""
import argparse
import copy
import json
import os
import subprocess
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

F32_TOL = 1e-5
BF16_TOL = 2e-2
GREEDY_STEPS = 12
LLAMA3_ROPE_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 64}


def family_configs():
    common = dict(vocab_size=211, hidden_size=64, intermediate_size=112, num_hidden_layers=3,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-6, bos_token_id=0, eos_token_id=1)
    return [
        ("llama", transformers.LlamaConfig(**common, rope_theta=500000.0,
                                           tie_word_embeddings=False), None),
        ("qwen2", transformers.Qwen2Config(**common, rope_theta=1000000.0,
                                           tie_word_embeddings=True), "20KB"),
        ("qwen3", transformers.Qwen3Config(**common, head_dim=24, rope_theta=1000000.0,
                                           tie_word_embeddings=True), None),
        ("llama3-rope-scaling", llama3_scaled_config(common), None),
    ]


def llama3_scaled_config(common):
    """Llama with Llama-3.1's rope scaling; original_max_position_embeddings is small so the
    scaled wavelengths differ from plain RoPE at every position the check uses."""
    scaling = dict(LLAMA3_ROPE_SCALING)
    if int(transformers.__version__.split(".")[0]) >= 5:  # v5 names it rope_parameters
        return transformers.LlamaConfig(**common, rope_parameters=dict(scaling, rope_theta=500000.0),
                                        tie_word_embeddings=False)
    return transformers.LlamaConfig(**common, rope_theta=500000.0, rope_scaling=scaling,
                                    tie_word_embeddings=False)


def build_model(config, seed):
    torch.manual_seed(seed)
    try:
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    except TypeError:  # older transformers
        config._attn_implementation = "eager"
        model = AutoModelForCausalLM.from_config(config)
    model = model.to(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.rand_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.05 * torch.randn_like(p))
    model.eval()
    return model


def tool(args, *argv):
    out = subprocess.run([args.tool, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"hf_parity_tool {' '.join(argv[:2])} failed: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip() else None


def hf_logits(model, seqs):
    with torch.no_grad():
        return [model(torch.tensor([s])).logits[0].float() for s in seqs]


def rel_err(ours, ref):
    ours = torch.tensor(ours, dtype=torch.float32)
    return ((ours - ref).abs().max() / ref.abs().max()).item(), ours


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--work", default="/tmp/hf-parity")
    args = parser.parse_args()
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    g = torch.Generator().manual_seed(1234)
    failures = []
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")

    def check(ok, what):
        print(("  ok   " if ok else "  FAIL ") + what)
        if not ok:
            failures.append(what)

    for family, config, shard in family_configs():
        try:
            run_family(args, family, config, shard, g, check)
        except Exception as e:  # report and go on with the next family
            check(False, f"{family}: {type(e).__name__}: {e}")

    print(f"\n{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


def run_family(args, family, config, shard, g, check):
    seqs = [torch.randint(2, config.vocab_size, (n,), generator=g).tolist() for n in (1, 9, 40)]
    ids_arg = ";".join(",".join(map(str, s)) for s in seqs)
    model = build_model(config, seed=len(family))
    hf_dir = os.path.join(args.work, family + "-hf")
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(hf_dir, **kwargs)  # safetensors by default
    files = sorted(os.listdir(hf_dir))
    print(f"{family}: saved by transformers: {', '.join(files)}")
    with open(os.path.join(hf_dir, "config.json")) as f:
        print(f"  config.json: {f.read()}".replace("\n", " "))

    ref32 = hf_logits(model, seqs)
    ours = tool(args, "logits", hf_dir, "f32", ids_arg, str(GREEDY_STEPS))
    # transformers 5 keeps it in rope_parameters, 4 in rope_scaling.
    scaling = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None)
    if scaling and scaling.get("rope_type", scaling.get("type")) == "llama3":
        read = ours["config"].get("rope_scaling") or {}
        same = all(abs(float(read.get(k, -1)) - float(v)) < 1e-12
                   for k, v in LLAMA3_ROPE_SCALING.items() if k != "rope_type")
        check(read.get("rope_type") == "llama3" and same,
              f"{family}: lockstep read rope_scaling {read} from config.json")
    errs = [rel_err(o, r)[0] for o, r in zip(ours["logits"], ref32)]
    check(max(errs) <= F32_TOL,
          f"{family} f32 logits: max rel err {max(errs):.2e} (tol {F32_TOL:g}) over lengths 1/9/40")
    with torch.no_grad():
        greedy_ok = True
        # No eos, so both sides continue for exactly GREEDY_STEPS tokens.
        gen_config = copy.deepcopy(model.generation_config)
        gen_config.eos_token_id = None
        gen_config.pad_token_id = 0
        for s, mine in zip(seqs, ours["greedy"]):
            gen = model.generate(torch.tensor([s]), generation_config=gen_config,
                                 max_new_tokens=GREEDY_STEPS, do_sample=False)
            theirs = gen[0, len(s):].tolist()
            greedy_ok &= theirs == mine
        check(greedy_ok, f"{family} greedy continuations ({GREEDY_STEPS} tokens x 3) identical")
    check("generation_config" in ours and ours["generation_config"].get("eos_token_id") == 1,
          f"{family} transformers' generation_config.json read: {ours.get('generation_config')}")

    model16 = copy.deepcopy(model).to(torch.bfloat16)
    ref16 = hf_logits(model16, seqs)
    ours16 = tool(args, "logits", hf_dir, "bf16", ids_arg)
    errs16, top1, total = [], 0, 0
    for o, r in zip(ours16["logits"], ref16):
        e, t = rel_err(o, r)
        errs16.append(e)
        top1 += (t.argmax(-1) == r.argmax(-1)).sum().item()
        total += r.shape[0]
    check(max(errs16) <= BF16_TOL,
          f"{family} bf16 logits: max rel err {max(errs16):.2e} (tol {BF16_TOL:g}), "
          f"top-1 agreement {top1}/{total}")

    ls_dir = os.path.join(args.work, family + "-lockstep")
    tool(args, "init", hf_dir, ls_dir, "f32", "7", "60000")
    loaded, info = AutoModelForCausalLM.from_pretrained(
        ls_dir, attn_implementation="eager", output_loading_info=True)
    loaded = loaded.to(torch.float32)
    bad_keys = {k: v for k, v in info.items() if v}
    check(not bad_keys, f"{family} lockstep-saved checkpoint ({', '.join(sorted(os.listdir(ls_dir)))}) "
          f"loads in transformers; loading problems: {bad_keys or 'none'}")
    loaded.eval()
    ref_ls = hf_logits(loaded, seqs)
    ours_ls = tool(args, "logits", ls_dir, "f32", ids_arg)
    errs_ls = [rel_err(o, r)[0] for o, r in zip(ours_ls["logits"], ref_ls)]
    check(max(errs_ls) <= F32_TOL,
          f"{family} lockstep-saved checkpoint: f32 logits max rel err {max(errs_ls):.2e}")
    check(loaded.generation_config.eos_token_id == [1, 2],
          f"{family} lockstep's generation_config.json read by transformers: "
          f"eos {loaded.generation_config.eos_token_id}")


if __name__ == "__main__":
    main()
