// Writes data/tokenizers/reference/chat_NAME.jsonl: each conversation rendered
// by tokenizer_config.json's chat_template through @huggingface/jinja (the
// template engine of transformers.js), with the ids of the rendered text.
//   node scripts/chat-template-reference.mjs NODE_MODULES_DIR OUT_DIR NAME=DIR...
// DIR holds tokenizer_config.json (and tokenizer.json for the ids).
import { createRequire } from "module";
import fs from "fs";
import path from "path";

const [nodeModules, outDir, ...specs] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeModules), "x.js"));
const { Template } = require("@huggingface/jinja");
const { TokenizerLoader } = require("@lenml/tokenizers");

const sys = { role: "system", content: "You are a careful assistant. Answer briefly." };
const conversations = [
  [{ role: "user", content: "Hello!" }],
  [sys, { role: "user", content: "What is 2+2?" }],
  [sys, { role: "user", content: "Hi" }, { role: "assistant", content: "Hello! How can I help?" },
   { role: "user", content: "Write a haiku about the sea." }],
  [{ role: "user", content: "  padded content \n" }, { role: "assistant", content: "\nreply with newlines\n\n" },
   { role: "user", content: "多语言：日本語、한국어, Ελληνικά, العربية 🙂" }],
  [{ role: "user", content: "Think first." },
   { role: "assistant", content: "<think>\nLet me think.\nStep 1.\n</think>\n\nThe answer is 4." },
   { role: "user", content: "And 3+3?" }],
  [{ role: "user", content: "q1" }, { role: "assistant", content: "<think>r1</think>a1" },
   { role: "user", content: "q2" }, { role: "assistant", content: "<think>\nr2\n</think>\n\na2" }],
  [{ role: "user", content: "q" }, { role: "assistant", content: "a", reasoning_content: "\nhidden reasoning\n" }],
  [sys, { role: "user", content: "Use the tool." }, { role: "assistant", content: "Calling." },
   { role: "tool", content: "{\"temp\": 21}" }, { role: "tool", content: "{\"wind\": 3}" },
   { role: "assistant", content: "<think>\nok\n</think>\n\nIt is 21 degrees." }],
  [{ role: "user", content: "<tool_response>\nraw\n</tool_response>" }, { role: "assistant", content: "<think>x</think>y" }],
  [{ role: "system", content: "first" }, { role: "user", content: "u" }, { role: "system", content: "second system" },
   { role: "assistant", content: "done" }],
  [{ role: "user", content: "code:\n```python\ndef f():\n    return 1\n```\n" }],
];
const variants = [
  { add_generation_prompt: true }, { add_generation_prompt: false },
  { add_generation_prompt: true, enable_thinking: false }, { add_generation_prompt: true, enable_thinking: true },
];

fs.mkdirSync(outDir, { recursive: true });
for (const spec of specs) {
  const [name, dir] = spec.split("=");
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const template = new Template(config.chat_template);
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: config,
  });
  const special = (v) => (v && typeof v === "object" ? v.content : v ?? "");
  const lines = [];
  for (const messages of conversations) {
    for (const variant of variants) {
      const text = template.render({
        messages, ...variant, bos_token: special(config.bos_token), eos_token: special(config.eos_token),
      });
      const ids = text.length ? tokenizer.encode(text, { add_special_tokens: false }) : [];
      lines.push(JSON.stringify({ messages, ...variant, text, ids }));
    }
  }
  fs.writeFileSync(path.join(outDir, `chat_${name}.jsonl`), lines.join("\n") + "\n");
  console.log(`${name}: ${lines.length} renders -> chat_${name}.jsonl`);
}
