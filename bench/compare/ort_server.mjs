// ONNX Runtime (onnxruntime-node, pinned in package-lock.json) as a timing
// server for bench/compare/worker.py. One JSON request per stdin line, one
// JSON reply per stdout line:
//   {"op": "load", "id": k, "model": path, "threads": n,
//    "inputs": {name: {"file": path, "dims": [...], "type": "float32"|"int32"}}}
//   {"op": "run", "id": k}                -> {"ms": t}  (one timed session.run)
//   {"op": "dump", "id": k, "file": path} -> {}          (writes "output" as raw f32)
// The worker interleaves these with its own implementations, so timings of
// all of them are taken back to back.
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import ort from "onnxruntime-node";

const sessions = new Map();
const reply = (value) => process.stdout.write(JSON.stringify(value) + "\n");

async function handle(request) {
  if (request.op === "load") {
    const session = await ort.InferenceSession.create(request.model, {
      intraOpNumThreads: request.threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      // Idle intra-op workers must not spin while the other implementations
      // are timed (ONNX Runtime's counterpart of OMP_WAIT_POLICY=PASSIVE).
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
    const feeds = {};
    for (const [name, input] of Object.entries(request.inputs)) {
      const bytes = readFileSync(input.file);
      const Array = input.type === "int32" ? Int32Array : Float32Array;
      const data = new Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      feeds[name] = new ort.Tensor(input.type, data, input.dims);
    }
    sessions.set(request.id, { session, feeds, last: null });
    return {};
  }
  const entry = sessions.get(request.id);
  if (!entry) throw new Error(`no session ${request.id}`);
  if (request.op === "run") {
    const start = process.hrtime.bigint();
    entry.last = await entry.session.run(entry.feeds, ["output"]);
    return { ms: Number(process.hrtime.bigint() - start) / 1e6 };
  }
  if (request.op === "dump") {
    const output = entry.last ?? (await entry.session.run(entry.feeds, ["output"]));
    const data = output.output.data;
    writeFileSync(request.file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return {};
  }
  throw new Error(`unknown op ${request.op}`);
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  try {
    reply({ ok: true, ...(await handle(JSON.parse(line))) });
  } catch (error) {
    reply({ ok: false, error: String(error?.message ?? error) });
  }
}
