#!/usr/bin/env python3
"""Hugging Face `generate` decode and prefill throughput: the baseline lockstep's decode
benchmark (bench/decode_throughput_bench) is compared with, run on the same GPU in the same
call. A random-initialised Qwen2-0.5B-shaped model (24 layers, hidden 896, 14 heads, 2 KV
heads, intermediate 4864, vocab 151,936, tied embeddings), sampled decoding at temperature 1
with every sequence forced to exactly --new-tokens tokens (no early EOS), so tokens/s =
batch * new_tokens / wall time of generate().

Prefill, as generate() does it before its first token: one forward of --prefill-batches x
--prefill-tokens random prompt tokens with use_cache=True and the LM head on the last
position only (logits_to_keep=1), then one sampled token per sequence; tokens/s = batch *
prompt tokens / the median of --prefill-reps such calls (torch.cuda.synchronize around
each), after one warm-up call that is not counted. decode_throughput_bench measures the
same thing on lockstep's engine (same defaults: batches 1,8,32, 512-token prompts, 5 reps).

    python3 scripts/hf-decode-bench.py --batches 1,64,256 --out hf_decode.json
    python3 scripts/hf-decode-bench.py --summarize decode_lockstep.json hf_decode.json

--summarize prints the decode and prefill tables of one lockstep + one HF result file (what
scripts/gpu-check.sh puts in summary.txt); it needs neither torch nor a GPU. Measuring needs
torch + transformers and a CUDA GPU (the lent GPU machine has both).
"""
import argparse
import inspect
import json
import statistics
import sys
import time


def parse_batches(text, flag):
    """Comma-separated positive integers; "" is none."""
    if not text:
        return []
    try:
        values = [int(b) for b in text.split(",")]
    except ValueError:
        values = [0]
    if any(v < 1 for v in values):
        sys.exit(f"hf-decode-bench: {flag}: comma-separated positive integers, got {text!r}")
    return values


def measure(args):
    try:
        import torch
        import transformers
        from transformers import Qwen2Config, Qwen2ForCausalLM
    except ImportError as e:
        sys.exit(f"hf-decode-bench: needs torch and transformers ({e})")
    if not torch.cuda.is_available():
        sys.exit("hf-decode-bench: no CUDA GPU visible")
    decode_batches = parse_batches(args.batches, "--batches")
    prefill_batches = parse_batches(args.prefill_batches, "--prefill-batches")

    torch.manual_seed(args.seed)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    config = Qwen2Config(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                         tie_word_embeddings=True, max_position_embeddings=32768,
                         rope_theta=1000000.0, rms_norm_eps=1e-6)
    model = Qwen2ForCausalLM(config).to(device="cuda", dtype=dtype).eval()
    # generate() computes the LM head on the last position only during prefill; a plain
    # forward does so when asked (transformers >= 4.50).
    keeps_last_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "transformers": transformers.__version__,
               "attn_implementation": getattr(model.config, "_attn_implementation", None),
               "dtype": args.dtype, "prompt_tokens": args.prompt_tokens,
               "new_tokens": args.new_tokens, "runs": [],
               "prefill_prompt_tokens": args.prefill_tokens, "prefill_reps": args.prefill_reps,
               "prefill_logits_to_keep": 1 if keeps_last_logits else None,
               "prefill_runs": []}

    def timed(fn):
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        return time.perf_counter() - start, out

    def write_results():
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)

    for batch in decode_batches:
        prompts = torch.randint(0, config.vocab_size, (batch, args.prompt_tokens), device="cuda")
        mask = torch.ones_like(prompts)

        def generate(new_tokens):
            return model.generate(input_ids=prompts, attention_mask=mask, do_sample=True,
                                  temperature=1.0, top_k=0, top_p=1.0,
                                  max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                  pad_token_id=0, eos_token_id=None)

        with torch.no_grad():
            timed(lambda: generate(8))  # warm-up: kernels, allocator, cuBLAS handles
            seconds, out = timed(lambda: generate(args.new_tokens))
            generated = (out.shape[1] - args.prompt_tokens) * batch
            timed(lambda: model(input_ids=prompts, attention_mask=mask))
            prefill_seconds, _ = timed(lambda: model(input_ids=prompts, attention_mask=mask))
        run = {"batch": batch, "decode_seconds": seconds, "generated_tokens": int(generated),
               "decode_tokens_per_s": generated / seconds,
               "prefill_tokens_per_s": batch * args.prompt_tokens / prefill_seconds}
        results["runs"].append(run)
        print(f"hf-decode-bench: batch {batch:4d}: decode {run['decode_tokens_per_s']:10.0f} "
              f"tok/s ({generated} tokens in {seconds:.2f} s), prefill "
              f"{run['prefill_tokens_per_s']:10.0f} tok/s", flush=True)
        write_results()

    failed = False
    for batch in prefill_batches:
        try:
            run = measure_prefill(torch, model, config, batch, args, timed, keeps_last_logits)
        except Exception as e:  # an OOM at one batch must not lose the others
            failed = True
            run = {"batch": batch, "prompt_tokens": args.prefill_tokens,
                   "error": f"{type(e).__name__}: {e}"}
            print(f"hf-decode-bench: prefill batch {batch:4d}: FAILED {run['error']}",
                  flush=True)
            torch.cuda.empty_cache()
        else:
            print(f"hf-decode-bench: prefill batch {batch:4d} x {args.prefill_tokens} tokens: "
                  f"{run['prefill_tokens_per_s']:10.0f} tok/s (median "
                  f"{1e3 * run['median_seconds']:.2f} ms, min {1e3 * min(run['seconds']):.2f} "
                  f"ms, {len(run['seconds'])} reps)", flush=True)
        results["prefill_runs"].append(run)
        write_results()
    write_results()
    print(f"hf-decode-bench: results in {args.out}")
    return 1 if failed else 0


def measure_prefill(torch, model, config, batch, args, timed, keeps_last_logits):
    """Median wall time of a use_cache forward over batch x prefill_tokens prompts plus one
    sampled token per sequence (what generate() does before its first decode step)."""
    prompts = torch.randint(0, config.vocab_size, (batch, args.prefill_tokens), device="cuda")
    mask = torch.ones_like(prompts)
    extra = {"logits_to_keep": 1} if keeps_last_logits else {}
    logits_positions = set()  # positions the LM head ran on: 1 when logits_to_keep held

    def prefill():
        out = model(input_ids=prompts, attention_mask=mask, use_cache=True, **extra)
        logits_positions.add(out.logits.shape[1])
        probs = torch.softmax(out.logits[:, -1, :].float(), dim=-1)
        return torch.multinomial(probs, num_samples=1)

    with torch.no_grad():
        _, first_tokens = timed(prefill)  # warm-up: not counted
        seconds = [timed(prefill)[0] for _ in range(args.prefill_reps)]
    if tuple(first_tokens.shape) != (batch, 1):
        raise RuntimeError(f"sampled tokens of shape {tuple(first_tokens.shape)}, "
                           f"expected ({batch}, 1)")
    median = statistics.median(seconds)
    tokens = batch * args.prefill_tokens
    return {"batch": batch, "prompt_tokens": args.prefill_tokens, "tokens": tokens,
            "lm_head_positions": sorted(logits_positions), "seconds": seconds,
            "median_seconds": median, "prefill_tokens_per_s": tokens / median}


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return {}, f"{path}: {e}"


def rate(value):
    return f"{value:,.0f}" if value else "-"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def summarize(lockstep_path, hf_path):
    """Prints the decode and the prefill table: lockstep invariant / fast vs HF, per batch."""
    lockstep, lockstep_error = load_json(lockstep_path)
    hf, hf_error = load_json(hf_path)
    for error in (lockstep_error, hf_error, lockstep.get("error"), hf.get("error")):
        if error:
            print(f"hf-decode-bench: {error}")

    for key in ("dtype", "prompt_tokens", "new_tokens", "prefill_prompt_tokens", "prefill_reps"):
        if lockstep and hf and lockstep.get(key) != hf.get(key):
            print(f"hf-decode-bench: NOT COMPARABLE: {key} is {lockstep.get(key)} for lockstep, "
                  f"{hf.get(key)} for HF")

    # Decode: lockstep runs with CUDA graphs when both graph settings were measured.
    decode = {}
    for run in lockstep.get("runs", []):
        key = (run["mode"], run["batch"])
        if key not in decode or run.get("graphs"):
            decode[key] = run["decode_tokens_per_s"]
    hf_decode = {run["batch"]: run["decode_tokens_per_s"] for run in hf.get("runs", [])}
    print(f"decode tokens/s ({lockstep.get('dtype', hf.get('dtype', '?'))}, "
          f"{lockstep.get('prompt_tokens', '?')}-token prompts, "
          f"{lockstep.get('new_tokens', '?')} new tokens; HF: generate):")
    print_table(decode, hf_decode, "HF generate")

    prefill = {(run["mode"], run["batch"]): run.get("prefill_tokens_per_s")
               for run in lockstep.get("prefill_runs", [])}
    hf_prefill = {run["batch"]: run.get("prefill_tokens_per_s")
                  for run in hf.get("prefill_runs", [])}
    for run in hf.get("prefill_runs", []):
        if "error" in run:
            print(f"hf-decode-bench: HF prefill batch {run['batch']}: {run['error']}")
    print(f"prefill tokens/s ({lockstep.get('prefill_prompt_tokens', '?')}-token prompts, "
          f"until every first token is sampled, median of "
          f"{lockstep.get('prefill_reps', '?')} after a warm-up; HF: use_cache forward, "
          f"logits_to_keep={hf.get('prefill_logits_to_keep')}, + sampling):")
    print_table(prefill, hf_prefill, "HF forward")


def print_table(lockstep, hf, hf_name):
    batches = sorted({batch for _, batch in lockstep} | set(hf))
    print(f"| batch | lockstep invariant | lockstep fast | invariant/fast | {hf_name} "
          f"| invariant/HF |")
    print("|---:|---:|---:|---:|---:|---:|")
    for batch in batches:
        invariant = lockstep.get(("invariant", batch))
        fast = lockstep.get(("fast", batch))
        print(f"| {batch} | {rate(invariant)} | {rate(fast)} | {ratio(invariant, fast)} "
              f"| {rate(hf.get(batch))} | {ratio(invariant, hf.get(batch))} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="1,64,256", help='decode batches ("" skips)')
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--prefill-batches", default="1,8,32", help='prefill batches ("" skips)')
    parser.add_argument("--prefill-tokens", type=int, default=512)
    parser.add_argument("--prefill-reps", type=int, default=5)
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="hf_decode.json")
    parser.add_argument("--summarize", nargs=2, metavar=("LOCKSTEP_JSON", "HF_JSON"),
                        help="print the decode and prefill tables of two result files")
    args = parser.parse_args()
    if args.summarize:
        summarize(*args.summarize)
        return 0
    if args.prefill_tokens < 1 or args.prefill_reps < 1:
        sys.exit("hf-decode-bench: --prefill-tokens and --prefill-reps must be >= 1")
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
