#!/usr/bin/env python3
"""Hugging Face `generate` decode and prefill throughput: the baseline lockstep's decode
benchmark (bench/decode_throughput_bench) is compared with, run on the same GPU in the same
call. A random-initialised Qwen2-0.5B-shaped model (24 layers, hidden 896, 14 heads, 2 KV
heads, intermediate 4864, vocab 151,936, tied embeddings), sampled decoding at temperature 1
with every sequence forced to exactly --new-tokens tokens (no early EOS), so tokens/s =
batch * new_tokens / wall time of generate(). Prefill: one forward of batch x prompt tokens.

    python3 scripts/hf-decode-bench.py --batches 1,64,256 --out hf_decode.json

Needs torch + transformers and a CUDA GPU (the lent GPU machine has both).
"""
import argparse
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="1,64,256")
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="hf_decode.json")
    args = parser.parse_args()
    try:
        import torch
        from transformers import Qwen2Config, Qwen2ForCausalLM
    except ImportError as e:
        sys.exit(f"hf-decode-bench: needs torch and transformers ({e})")
    if not torch.cuda.is_available():
        sys.exit("hf-decode-bench: no CUDA GPU visible")

    torch.manual_seed(args.seed)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    config = Qwen2Config(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, vocab_size=151936,
                         tie_word_embeddings=True, max_position_embeddings=32768,
                         rope_theta=1000000.0, rms_norm_eps=1e-6)
    model = Qwen2ForCausalLM(config).to(device="cuda", dtype=dtype).eval()
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "dtype": args.dtype, "prompt_tokens": args.prompt_tokens,
               "new_tokens": args.new_tokens, "runs": []}
    import transformers
    results["transformers"] = transformers.__version__

    def timed(fn):
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        return time.perf_counter() - start, out

    for batch in [int(b) for b in args.batches.split(",")]:
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
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"hf-decode-bench: results in {args.out}")


if __name__ == "__main__":
    main()
