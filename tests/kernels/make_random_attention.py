#!/usr/bin/env python3
"""Draws random attention configurations for the randomized kernel test.

Writes random_attention.attn (one attention block per configuration, which
attnc compiles at build time) and random_attention.json (the same
configurations as plain data, plus the run-time shapes to test them on).
RandomAttentionTest.cpp rebuilds each configuration from the JSON alone,
never from the compiler's view of the .attn file, and checks the compiled
kernel against the double-precision reference; so the front end, MLIR
generation, the passes and the Halide lowering are all under test.

What is drawn, following docs/dsl.md: masks (causal, key_padding,
window(n), predicates with + - * / % on negative values, variable divisors,
min, max, comparisons, && || !), score modifiers in any order (softcap,
alibi, bias), head counts that are not powers of two, grouped-query
attention, head dims, scales, empty-row policies, probabilities; lengths 1
to 1000, batches with unequal key lengths, decode offsets, and inputs
scaled up to 30.

The output is deterministic for a seed: rerun with the same seed to
regenerate the committed files, or with another to explore.

    tests/kernels/make_random_attention.py [--seed N] [--count N]
"""

import argparse
import json
import os
import random

VARS = ["b", "h", "q", "k"]


def const(value):
    return ["const", value]


def int_expr(rng, depth):
    """A random integer expression tree over the indices."""
    if depth <= 0 or rng.random() < 0.3:
        if rng.random() < 0.65:
            return ["var", VARS.index(rng.choice("qkqkhb"))]
        return const(rng.randint(-9, 40))
    kind = rng.random()
    if kind < 0.35:  # division or remainder, which C defines oddly
        if rng.random() < 0.2:  # a divisor that varies, possibly 0
            divisor = int_expr(rng, depth - 1)
        else:
            divisor = const(rng.choice([-7, -5, -3, -2, 2, 3, 4, 5, 6, 7, 9,
                                        16, 50]))
        return [rng.choice(["div", "rem"]), int_expr(rng, depth - 1), divisor]
    if kind < 0.75:
        op = rng.choice(["add", "sub", "sub", "mul"])
        x = int_expr(rng, depth - 1)
        # Products stay small: one factor is a constant.
        y = const(rng.randint(-3, 4)) if op == "mul" else int_expr(rng,
                                                                   depth - 1)
        return [op, x, y]
    if kind < 0.85:
        return ["sub", const(0), int_expr(rng, depth - 1)]  # unary minus
    return [rng.choice(["min", "max"]), int_expr(rng, depth - 1),
            int_expr(rng, depth - 1)]


def condition(rng, depth):
    """A random condition tree."""
    kind = rng.random()
    if depth <= 0 or kind < 0.55:
        return [rng.choice(["eq", "ne", "lt", "le", "gt", "ge"]),
                int_expr(rng, 2), int_expr(rng, 2)]
    if kind < 0.9:
        return [rng.choice(["and", "or"]), condition(rng, depth - 1),
                condition(rng, depth - 1)]
    return ["xor", condition(rng, depth - 1), const(1)]  # !c


def uses_index(tree):
    return tree is not None and (tree[0] == "var" or any(
        isinstance(t, list) and uses_index(t) for t in tree[1:]))


SPELLING = {"add": "+", "sub": "-", "mul": "*", "div": "/", "rem": "%",
            "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">",
            "ge": ">=", "and": "&&", "or": "||"}


def render(tree):
    """The .attn text of a predicate tree."""
    op = tree[0]
    if op == "var":
        return VARS[tree[1]]
    if op == "const":
        return "(%d)" % tree[1] if tree[1] < 0 else str(tree[1])
    if op == "sub" and tree[1] == const(0):
        return "(-%s)" % render(tree[2])
    if op in ("min", "max"):
        return "%s(%s, %s)" % (op, render(tree[1]), render(tree[2]))
    if op == "xor" and tree[2] == ["const", 1]:
        return "!(%s)" % render(tree[1])
    return "(%s %s %s)" % (render(tree[1]), SPELLING[op], render(tree[2]))


def parse_pinned(text):
    """A tree from a tiny prefix notation, e.g. "(eq (div k 3) 0)"."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()

    def walk(i):
        if tokens[i] == "(":
            op = tokens[i + 1]
            a, i = walk(i + 2)
            b, i = walk(i)
            return [op, a, b], i + 1  # skip ")"
        token = tokens[i]
        if token in VARS:
            return ["var", VARS.index(token)], i + 1
        return ["const", int(token)], i + 1

    return walk(0)[0]


# Cases that once failed, pinned so they are checked whatever the seed:
# (name, fields, predicate in prefix notation or None, shapes).
PINNED = [
    ("e_div3", {}, "(eq (div k 3) 0)", [(1, 6, 6), (1, 7, 7)]),
    ("e_rel_div3", {}, "(eq (div (sub k q) 3) 0)", [(1, 6, 6), (2, 70, 70)]),
    ("e_block50", {}, "(eq (div q 50) (div k 50))", [(1, 7, 7), (1, 130, 130)]),
    ("e_rem3", {}, "(eq (rem k 3) 0)", [(1, 7, 7)]),
    ("e_neg_rem", {}, "(or (eq (rem (sub k q) 5) -2) (eq (rem (sub q k) -4) 0))",
     [(1, 9, 9), (1, 65, 65)]),
    ("e_var_div", {}, "(le (div k (sub q 3)) 1)", [(1, 9, 9)]),
    ("e_always", {}, "(eq q q)", [(1, 5, 5)]),
    ("e_never", {}, "(ne q q)", [(1, 5, 5)]),
    ("e_alibi3", {"heads": 3, "causal": True, "score_mods": ["alibi"]}, None,
     [(1, 40, 40)]),
    ("e_alibi6", {"heads": 6, "score_mods": ["alibi"]}, None, [(1, 40, 40)]),
    ("e_alibi12", {"heads": 12, "score_mods": ["alibi"]}, None, [(1, 9, 9)]),
    ("e_nan_padding", {"heads": 4, "key_padding": True}, None,
     [(1, 12, 12, [5])]),
    ("e_nan_window", {"heads": 2, "causal": True, "window": 3}, None,
     [(1, 5, 12)]),
    ("e_tiny_logits", {"heads": 2, "key_padding": True,
                       "score_mods": ["bias"]}, None,
     [(2, 9, 9, [9, 4], -7e29), (1, 9, 9, [9], -1e37)]),
    ("e_probs_large", {"heads": 1, "head_dim": 64, "probs": "per_head"}, None,
     [(1, 200, 200, None, 0.0, 30.0)]),
]


def pinned_blocks():
    for name, fields, predicate, shapes in PINNED:
        block = {"name": name, "heads": 1, "kv_heads": 1, "head_dim": 16,
                 "causal": False, "key_padding": False, "window": 0,
                 "predicate": None, "score_mods": [], "softcap": 0.0,
                 "scale": None, "empty_rows": "zero", "probs": "none"}
        block.update(fields)
        block["kv_heads"] = block.get("kv_heads", block["heads"])
        if predicate:
            block["predicate"] = parse_pinned(predicate)
        block["shapes"] = []
        for i, shape in enumerate(shapes):
            batch, q_len, kv_len = shape[:3]
            lengths = shape[3] if len(shape) > 3 and shape[3] else [kv_len]
            block["shapes"].append({
                "batch": batch, "q_len": q_len, "kv_len": kv_len,
                "kv_lengths": lengths * (batch // len(lengths)),
                "q_offset": 0, "magnitude": shape[5] if len(shape) > 5 else 1.0,
                "bias_offset": shape[4] if len(shape) > 4 else 0.0,
                "seed": 1000 + 17 * i})
        yield block


def block_text(block):
    terms = []
    if block["causal"]:
        terms.append("causal")
    if block["key_padding"]:
        terms.append("key_padding")
    if block["window"]:
        terms.append("window(%d)" % block["window"])
    if block["predicate"]:
        terms.append("predicate(b, h, q, k) { %s }" % render(block["predicate"]))
    lines = ["attention %s {" % block["name"],
             "  heads = %d; kv_heads = %d; head_dim = %d;" %
             (block["heads"], block["kv_heads"], block["head_dim"])]
    if terms:
        lines.append("  mask = %s;" % " & ".join(terms))
    mods = block["score_mods"]
    if mods:
        spelled = ["softcap(%s)" % block["softcap"] if m == "softcap" else m
                   for m in mods]
        lines.append("  score_mod = [%s];" % ", ".join(spelled))
    if block["scale"] is not None:
        lines.append("  scoring = dot(scale = %s);" % block["scale"])
    if block["empty_rows"] != "zero":
        lines.append("  empty_rows = %s;" % block["empty_rows"])
    if block["probs"] != "none":
        lines.append("  probs = %s;" % block["probs"])
    lines.append("}")
    return "\n".join(lines)


def draw_block(rng, index):
    heads = rng.choice([1, 2, 3, 4, 5, 6, 8, 12])
    kv_heads = rng.choice([d for d in range(1, heads + 1) if heads % d == 0])
    head_dim = rng.choice([8, 16, 16, 32, 32, 64, 80])
    block = {"name": "r%02d" % index, "heads": heads, "kv_heads": kv_heads,
             "head_dim": head_dim, "causal": False, "key_padding": False,
             "window": 0, "predicate": None, "score_mods": [], "softcap": 0.0,
             "scale": None, "empty_rows": "zero", "probs": "none"}
    if rng.random() < 0.4:
        block["causal"] = True
    if rng.random() < 0.4:
        block["key_padding"] = True
    if rng.random() < 0.25:
        block["window"] = rng.choice([1, 2, 5, 17, 64, 300])
    if rng.random() < 0.6:
        # A body without an index is constant, which Sema folds or refuses.
        while not uses_index(block["predicate"]):
            block["predicate"] = condition(rng, 2)
    mods = []
    for mod in ["softcap", "alibi", "bias"]:
        if rng.random() < 0.3:
            mods.append(mod)
    rng.shuffle(mods)
    block["score_mods"] = mods
    if "softcap" in mods:
        block["softcap"] = rng.choice([5.0, 20.0, 50.0])
    if rng.random() < 0.3:
        block["scale"] = rng.choice([0.02, 0.1, 0.5])
    if rng.random() < 0.25:
        block["empty_rows"] = "uniform"
    if rng.random() < 0.25:
        block["probs"] = rng.choice(["per_head", "head_mean"])

    # Run-time shapes: keep heads * head_dim * q_len * kv_len moderate, so
    # the double reference stays fast.
    shapes = []
    budget = 2e7 / (heads * max(head_dim, 16))
    for _ in range(3):
        scale = rng.choice([1.0, 1.0, 5.0, 30.0])
        batch = rng.choice([1, 1, 2, 3])
        q_len = rng.choice([1, 2, 7, 33, 64, 65, 130, 257, 1000])
        kv_len = q_len if rng.random() < 0.7 else rng.choice([1, 9, 64, 200,
                                                            1000])
        while batch * q_len * kv_len > budget and max(q_len, kv_len) > 1:
            if q_len >= kv_len:
                q_len = max(1, q_len // 2)
            else:
                kv_len = max(1, kv_len // 2)
        lengths = [rng.randint(0, kv_len) for _ in range(batch)]
        offset = 0
        if q_len < kv_len and rng.random() < 0.5:
            offset = kv_len - q_len  # a decode step, or a chunk of them
        shapes.append({"batch": batch, "q_len": q_len, "kv_len": kv_len,
                       "kv_lengths": lengths, "q_offset": offset,
                       "magnitude": scale, "bias_offset": 0.0,
                       "seed": rng.randint(1, 10**6)})
    block["shapes"] = shapes
    return block


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--out", default=os.path.dirname(
        os.path.abspath(__file__)))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    blocks = list(pinned_blocks())
    blocks += [draw_block(rng, i) for i in range(args.count)]
    texts = [block_text(block) for block in blocks]
    header = ("# Generated by make_random_attention.py --seed %d --count %d;"
              " do not edit.\n# RandomAttentionTest.cpp checks every block"
              " against the reference,\n# rebuilt from"
              " random_attention.json.\n\n" % (args.seed, args.count))
    with open(os.path.join(args.out, "random_attention.attn"), "w") as f:
        f.write(header + "\n\n".join(texts) + "\n")
    with open(os.path.join(args.out, "random_attention.json"), "w") as f:
        json.dump({"seed": args.seed, "blocks": blocks}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
