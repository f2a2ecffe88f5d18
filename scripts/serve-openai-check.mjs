// A smoke check of `lockstep serve` with the official `openai` npm client (v4):
//   npm install openai@4 && node scripts/serve-openai-check.mjs PORT MODEL [API_KEY]
// Lists models, asks for completions (n = 2, logprobs), a chat completion with
// logprobs, the same chat streamed (its text must equal the non-streamed one),
// and prints the errors of an unknown model, n too large and a wrong key.
import OpenAI from 'openai';
const [port, model, key = 'none'] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: key });
const models = await client.models.list();
console.log('models:', models.data.map(m => m.id));
const c = await client.completions.create({ model: model, prompt: 'Hello', max_tokens: 6, seed: 3, logprobs: 1, n: 2 });
console.log('completion:', JSON.stringify(c.choices.map(x => [x.text, x.finish_reason, x.logprobs.token_logprobs.length])), c.usage);
const chat = await client.chat.completions.create({ model: model, messages: [{ role: 'user', content: 'Hi!' }], max_tokens: 6, seed: 3, logprobs: true });
console.log('chat:', JSON.stringify(chat.choices[0].message), chat.choices[0].logprobs.content.length, chat.usage);
const stream = await client.chat.completions.create({ model: model, messages: [{ role: 'user', content: 'Hi!' }], max_tokens: 6, seed: 3, stream: true, stream_options: { include_usage: true } });
let text = '', chunks = 0, usage = null;
for await (const chunk of stream) { chunks++; if (chunk.usage) usage = chunk.usage; for (const ch of chunk.choices) text += ch.delta?.content ?? ''; }
console.log('stream:', chunks, 'chunks, text equal to non-streamed:', text === chat.choices[0].message.content, usage);
try { await client.completions.create({ model: 'gpt-4', prompt: 'x' }); } catch (e) { console.log('error:', e.status, e.code, e.message); }
try { await client.completions.create({ model: model, prompt: 'x', n: 1000 }); } catch (e) { console.log('error:', e.status, e.param, e.message); }
const bad = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'wrong-' + key, maxRetries: 0 });
try { await bad.models.list(); } catch (e) { console.log('error:', e.status, e.code); }
