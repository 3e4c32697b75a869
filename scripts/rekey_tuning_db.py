#!/usr/bin/env python3
"""Rewrites a tuning database from the old canonical kernel keys to the new.

Until issue 18 KernelSpec::canonical() printed every field, defaults
included ("attention dtype=f32 heads=8 ... causal=1 window=0 ... probs=0");
now it omits every field at its default, names enum values, and uses the
JSON field names (compiler/lib/Lowering/KernelSpecFields.h). This script
converts each entry's "kernel" key to the new form and recomputes the hash
at the end of its "name". It was run once over bench/tuning/*.json; run it
over a database of your own made before that change, or tune again.

Usage: rekey_tuning_db.py FILE...   (rewrites each file in place)
"""
import json
import sys

# Per family: (old key, new key, default or None when required); the order
# is the new canonical order.
FIELDS = {
    "linear": [("in", "in", None), ("out", "out", None), ("bias", "bias", "1"),
               ("act", "activation", "none")],
    "layernorm": [("width", "width", None), ("residual", "residual", "0"),
                  ("eps", "epsilon", 1e-5)],
    "softmax": [("width", "width", None)],
    "add": [("width", "width", None)],
    "embedding": [("vocab", "vocab", None), ("width", "width", None),
                  ("scale", "scale", 1.0), ("sinusoidal", "sinusoidal", "1")],
    "attention": [("heads", "heads", None), ("kv_heads", "kv_heads", None),
                  ("head_dim", "head_dim", None),
                  ("value_dim", "value_dim", None),
                  ("scoring", "scoring", "dot"), ("scale", "scale", None),
                  ("causal", "causal", "0"), ("window", "window", "0"),
                  ("key_padding", "key_padding", "0"),
                  ("mods", "score_mods", ""), ("softcap", "softcap", 0.0),
                  ("predicate", "predicate", "-"),
                  ("empty_rows", "empty_rows", "zero"),
                  ("probs", "probs", "none")],
}
ENUMS = {"empty_rows": ["zero", "uniform"],
         "probs": ["none", "per_head", "head_mean"]}


def parse_old(text):
    """'attention dtype=f32 a=1 predicate=(or (le k q) 1) b=2' -> dict."""
    family, _, rest = text.partition(" ")
    fields, key, value = {}, None, ""
    for word in rest.split(" "):
        if key is not None and value.count("(") > value.count(")"):
            value += " " + word  # inside a predicate
            fields[key] = value
            continue
        key, _, value = word.partition("=")
        fields[key] = value
    return family, fields


def new_canonical(old):
    family, old_fields = parse_old(old)
    out = [family]
    if old_fields.pop("dtype") != "f32":
        out.append("dtype=f16")
    for old_key, new_key, default in FIELDS[family]:
        value = old_fields.pop(old_key)
        if new_key in ENUMS:
            value = ENUMS[new_key][int(value)]
        if new_key == "score_mods":
            value = value.rstrip(",")
        if new_key == "scale" and value == "-":
            continue  # additive scoring has no scale
        if isinstance(default, float):
            if float(value) == default:
                continue
        elif value == default:
            continue
        out.append(f"{new_key}={value}")
    assert not old_fields, f"unknown fields {old_fields} in {old!r}"
    return " ".join(out)


def fnv1a(text):
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def main():
    for path in sys.argv[1:]:
        db = json.load(open(path))
        keys = {}
        for entry in db["entries"]:
            old = entry["kernel"]
            if " dtype=" not in old:
                continue  # already the new form
            entry["kernel"] = keys.setdefault(old, new_canonical(old))
            entry["name"] = entry["name"][:-8] + "%08x" % fnv1a(entry["kernel"])
        with open(path, "w") as f:
            f.write(json.dumps(db, indent=1, sort_keys=False) + "\n")
        for old, new in keys.items():
            print(f"{path}: {old!r}\n  -> {new!r}")


if __name__ == "__main__":
    main()
