"""A compiled attnc model in Python: load the library `attnc compile --shared`
built and its weights, run its functions on numpy arrays, decode greedily.

Inputs are passed to the C API as pointers into the caller's arrays (no
copy when they are C-contiguous float32 / int32 already; other dtypes are
converted once). Outputs are written by the runtime into numpy arrays this
module allocates and are returned as views of them. What each function
takes and returns comes from the manifest the library embeds
(docs/manifest.md); every runtime failure is raised as attnc.Error with the
runtime's own message."""
import ctypes
import json
import os
from ctypes import POINTER, c_char_p, c_int, c_int32, c_int64, c_void_p

import numpy as np

from ._capi import Error, check, load_library

# A model with bf16 activations (dtype bf16) takes and returns float32: the
# runtime rounds its inputs to bf16 and widens its outputs.
_NUMPY = {"f32": np.float32, "bf16": np.float32, "i32": np.int32}


class Function:
    """One function of the manifest: its inputs and outputs in order."""

    def __init__(self, entry):
        values = {v["id"]: v for v in entry["values"]}
        self.name = entry["name"]
        self.kind = entry.get("kind", "")
        self.model = entry.get("model", "")
        self.max_len = entry.get("max_len")
        self.inputs = [(i["name"], i.get("role", ""), values[i["value"]])
                       for i in entry["inputs"]]
        self.outputs = [(o["name"], o.get("role", ""), values[o["value"]])
                        for o in entry["outputs"]]

    def input_names(self):
        return [name for name, _, _ in self.inputs]

    def output_names(self):
        return [name for name, _, _ in self.outputs]

    def __repr__(self):
        return (f"Function({self.name}: {self.input_names()} -> "
                f"{self.output_names()})")


class Model:
    """A compiled model with its weights bound.

        model = attnc.Model("out/libnet.so", "model/net.safetensors")
        memory = model.run("net_encode", src_tokens=src,
                           src_lengths=lengths)["memory"]
    """

    def __init__(self, library, weights, model=None):
        """`model`: the one model of the library to prepare (its `model`
        name in the .attn file); None prepares all. Greedy decoding needs
        a library of one model, or one named."""
        self.library_path = os.fspath(library)
        self._lib = load_library(self.library_path)
        self._registry = self._lib.attnc_library_registry()
        manifest = json.loads(self._registry.contents.manifest_json)
        self.unit = manifest["unit"]
        # The Halide target the kernels were compiled for (full string).
        self.halide_target = self._registry.contents.halide_target.decode()
        self.functions = {f["name"]: Function(f)
                          for f in manifest.get("functions", [])}
        handle = c_void_p()
        path = os.fsencode(os.fspath(weights))
        if model is None:
            check(self._lib, self._lib.attnc_model_load(
                self._registry, path, ctypes.byref(handle)))
        else:
            check(self._lib, self._lib.attnc_model_load_model(
                self._registry, path, model.encode(), ctypes.byref(handle)))
            self.functions = {name: f for name, f in self.functions.items()
                              if f.model == model}
        self._handle = handle

    @classmethod
    def load(cls, folder, weights, model=None):
        """The library `attnc compile model.attn --shared -o folder` built
        (the folder's one lib<unit>.so), with the weights file `weights`."""
        libs = [f for f in os.listdir(folder)
                if f.startswith("lib") and f.endswith(".so")]
        if len(libs) != 1:
            raise Error(f"{folder}: expected one lib<unit>.so, found "
                        f"{sorted(libs)}")
        return cls(os.path.join(folder, libs[0]), weights, model)

    def close(self):
        if getattr(self, "_handle", None):
            self._lib.attnc_model_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_threads(self, threads):
        """Threads the kernels may use (Halide's pool, process-wide)."""
        check(self._lib, self._lib.attnc_set_threads(int(threads)))

    def function(self, kind=None, name=None):
        """The function called `name`, or the only one of `kind`
        ("encode", "decode", "attention")."""
        if name is not None:
            if name not in self.functions:
                raise Error(f"unit '{self.unit}' has no function '{name}'; it "
                            f"has {sorted(self.functions)}")
            return self.functions[name]
        found = [f for f in self.functions.values() if f.kind == kind]
        if len(found) != 1:
            raise Error(f"unit '{self.unit}' has {len(found)} functions of "
                        f"kind '{kind}'; name one of "
                        f"{sorted(self.functions)}")
        return found[0]

    # -- running ------------------------------------------------------------

    def run(self, function, inputs=None, **named):
        """Runs `function` (a name) on whole sequences; inputs by name (a dict
        or keywords), numpy arrays or anything np.asarray takes. Returns
        {output name: numpy array}."""
        fn = self.function(name=function)
        given = dict(inputs or {}, **named)
        unknown = set(given) - set(fn.input_names())
        if unknown:
            raise Error(f"function {fn.name} has no input(s) "
                        f"{sorted(unknown)}; it takes {fn.input_names()}")
        arrays, largest = [], 1
        for name, _, value in fn.inputs:
            if name not in given:
                raise Error(f"function {fn.name}: missing input '{name}'; it "
                            f"takes {fn.input_names()}")
            array = np.ascontiguousarray(given[name],
                                         dtype=_NUMPY[value["dtype"]])
            arrays.append(array)
            # Dynamic extents only (-1 in the manifest): batch, lengths.
            largest = max([largest] + [n for n, d in zip(array.shape,
                                                          value["shape"])
                                       if d < 0])
        n_in, n_out = len(arrays), len(fn.outputs)
        names = (c_char_p * n_in)(*[n.encode() for n in fn.input_names()])
        dtypes = (c_int * n_in)(*[int(a.dtype == np.int32) for a in arrays])
        ranks = (c_int * n_in)(*[a.ndim for a in arrays])
        shapes_keep = [(c_int64 * max(a.ndim, 1))(*a.shape) for a in arrays]
        shapes = (POINTER(c_int64) * n_in)(
            *[ctypes.cast(s, POINTER(c_int64)) for s in shapes_keep])
        data = (c_void_p * n_in)(*[a.ctypes.data for a in arrays])
        # Every dynamic extent of an output is one of an input's (batch,
        # a sequence length), so this bounds each output.
        buffers = []
        for _, _, value in fn.outputs:
            count = int(np.prod([d if d >= 0 else largest
                                 for d in value["shape"]]))
            buffers.append(np.empty(max(count, 1), dtype=np.float32))
        out_names = (c_char_p * n_out)(*[n.encode()
                                         for n in fn.output_names()])
        out_data = (c_void_p * n_out)(*[b.ctypes.data for b in buffers])
        capacity = (c_int64 * n_out)(*[b.size for b in buffers])
        out_shapes = ((c_int64 * 4) * n_out)()
        check(self._lib, self._lib.attnc_model_run(
            self._handle, fn.name.encode(), n_in, names, dtypes, ranks,
            shapes, data, n_out, out_names, out_data, capacity, out_shapes))
        results = {}
        for i, (name, _, value) in enumerate(fn.outputs):
            rank = len(value["shape"])
            shape = tuple(out_shapes[i][d] for d in range(rank))
            results[name] = buffers[i][:int(np.prod(shape))].reshape(shape)
        return results

    def greedy_decode(self, src_tokens, src_lengths=None, bos=1, eos=2,
                      max_steps=64, return_probs=False):
        """Greedy decoding of an encoder-decoder model with the runtime's
        key/value cache: encodes once, then one token per step. Returns one
        int32 array per sequence: the tokens after bos, ending with eos
        unless max_steps ran out first.

        With return_probs, returns (tokens, probs): probs maps each
        attention-probability output of the decode function (blocks with
        `probs = head_mean | per_head`) to its value over the decoded
        sequences, [batch, steps, src_len] (or [batch, heads, steps, ...]);
        row t is the step that produced token t, rows past a sequence's
        count are padding. They come from one more encode and one
        whole-sequence decode of bos + tokens, which attend exactly as the
        cached steps did."""
        src = np.ascontiguousarray(src_tokens, dtype=np.int32)
        if src.ndim != 2:
            raise Error(f"src_tokens must be [batch, src_len], got shape "
                        f"{src.shape}")
        batch, length = src.shape
        if src_lengths is None:
            src_lengths = np.full(batch, length, dtype=np.int32)
        lengths = np.ascontiguousarray(src_lengths, dtype=np.int32)
        tokens = np.empty((batch, max(int(max_steps), 1)), dtype=np.int32)
        counts = np.empty(batch, dtype=np.int64)
        check(self._lib, self._lib.attnc_model_greedy_decode(
            self._handle, src.ctypes.data_as(POINTER(c_int32)),
            lengths.ctypes.data_as(POINTER(c_int32)), batch, length,
            int(bos), int(eos), int(max_steps),
            tokens.ctypes.data_as(POINTER(c_int32)),
            counts.ctypes.data_as(POINTER(c_int64))))
        result = [tokens[b, :counts[b]] for b in range(batch)]
        if not return_probs:
            return result
        return result, self._decode_probs(src, lengths, tokens, counts, bos)

    def _decode_probs(self, src, src_lengths, tokens, counts, bos):
        encode, decode = self.function(kind="encode"), \
            self.function(kind="decode")
        names = [n for n, role, _ in decode.outputs
                 if role == "attention_probs"]
        if not names:
            raise Error(f"{decode.name} returns no attention probabilities; "
                        "give its blocks probs = head_mean or per_head")
        steps = max(int(counts.max()), 1)
        tgt = np.full((src.shape[0], steps), bos, dtype=np.int32)
        tgt[:, 1:] = tokens[:, :steps - 1]
        roles = {role: name for name, role, _ in encode.inputs}
        memory_name = [n for n, role, _ in encode.outputs
                       if role == "memory"][0]
        memory = self.run(encode.name, {roles["src_tokens"]: src,
                                        roles["src_lengths"]: src_lengths})
        inputs = {}
        for name, role, _ in decode.inputs:
            inputs[name] = {"tgt_tokens": tgt,
                            "tgt_lengths": np.maximum(counts, 1),
                            "memory": memory[memory_name],
                            "src_lengths": src_lengths}[role]
        out = self.run(decode.name, inputs)
        return {name: out[name] for name in names}

    def generate(self, prompt, prompt_lengths=None, eos=2, max_steps=64):
        """Greedy decoding of a decoder-only model (a `decode` function
        without memory) with the runtime's key/value cache: each prompt goes
        through the cache one token per step, then one step per generated
        token. `prompt` [batch, len] holds at least one token per sequence
        (e.g. bos); `prompt_lengths` [batch] how many of them each sequence
        uses (default: all). Returns the generated tokens per sequence, as
        greedy_decode. A model whose self-attention does not hide later
        keys (exported without mask="causal") cannot be decoded through a
        cache; it is decoded by running the whole prefix each step."""
        prompt = np.ascontiguousarray(prompt, dtype=np.int32)
        if prompt.ndim != 2:
            raise Error(f"prompt must be [batch, len], got shape "
                        f"{prompt.shape}")
        batch, length = prompt.shape
        lengths = np.full(batch, length, np.int32) if prompt_lengths is None \
            else np.ascontiguousarray(prompt_lengths, dtype=np.int32)
        if lengths.shape != (batch,):
            raise Error(f"prompt_lengths must be [{batch}], got shape "
                        f"{lengths.shape}")
        tokens = np.empty((batch, max(int(max_steps), 1)), dtype=np.int32)
        counts = np.empty(batch, dtype=np.int64)
        try:
            check(self._lib, self._lib.attnc_model_generate(
                self._handle, prompt.ctypes.data_as(POINTER(c_int32)),
                lengths.ctypes.data_as(POINTER(c_int32)), batch, length,
                int(eos), int(max_steps),
                tokens.ctypes.data_as(POINTER(c_int32)),
                counts.ctypes.data_as(POINTER(c_int64))))
        except Error as e:
            if "cannot be decoded one token at a time" not in str(e):
                raise
            return self._generate_whole(prompt, lengths, eos, max_steps)
        return [tokens[b, :counts[b]] for b in range(batch)]

    def _generate_whole(self, prompt, lengths, eos, max_steps):
        """generate for models the cache cannot decode: the whole prefix
        each step (quadratic in its length)."""
        fn = self.function(kind="decode")
        batch, length = prompt.shape
        lengths = lengths.copy()
        buffer = np.zeros((batch, length + max_steps), dtype=np.int32)
        buffer[:, :length] = prompt
        out = [[] for _ in range(batch)]
        done = np.zeros(batch, dtype=bool)
        for _ in range(max_steps):
            width = int(lengths.max())
            result = self.run(fn.name, {fn.inputs[0][0]: buffer[:, :width],
                                        fn.inputs[1][0]: lengths})
            scores = result[fn.outputs[0][0]]
            for b in range(batch):
                if done[b]:
                    continue
                token = int(np.argmax(scores[b, lengths[b] - 1]))
                out[b].append(token)
                buffer[b, lengths[b]] = token
                lengths[b] += 1
                done[b] = token == eos
            if done.all():
                break
        return [np.array(tokens, dtype=np.int32) for tokens in out]
