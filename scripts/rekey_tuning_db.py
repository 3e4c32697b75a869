#!/usr/bin/env python3
"""Rewrites a tuning database from the old canonical kernel keys to the new.

Two changes of issue 18, applied in order to each entry that needs them:
1. KernelSpec::canonical() printed every field, defaults included
   ("attention dtype=f32 heads=8 ... causal=1 window=0 ... probs=0"); now it
   omits every field at its default, names enum values, and uses the JSON
   field names (compiler/lib/Lowering/KernelSpecFields.h).
2. The kernel spec lost its `causal` and `window` fields: the front end
   expands those mask terms into the predicate they are defined as (its
   prelude), so "causal=1 window=64 predicate=P" is now
   "predicate=(and (and (le k q) (and (lt (sub q k) 64) (lt (sub k q) 64))) P)",
   and the kernel name says "_mask" instead of "_causal", "_window64" and
   "_predicate".
The script converts each entry's "kernel" key and recomputes the hash at
the end of its "name". It was run over bench/tuning/*.json; run it over a
database of your own made before these changes, or tune again.

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


def split_fields(text):
    """'attention a=1 predicate=(or (le k q) 1) b=2' -> [(key, value)]."""
    family, _, rest = text.partition(" ")
    fields = []
    for word in rest.split(" ") if rest else []:
        if fields and fields[-1][1].count("(") > fields[-1][1].count(")"):
            fields[-1] = (fields[-1][0], fields[-1][1] + " " + word)
            continue
        key, _, value = word.partition("=")
        fields.append((key, value))
    return family, fields


def without_mask_fields(new_key):
    """Step 2: causal and window into the predicate; None if neither."""
    family, fields = split_fields(new_key)
    values = dict(fields)
    if family != "attention" or ("causal" not in values and
                                 "window" not in values):
        return None
    terms = []
    if values.get("causal") == "1":
        terms.append("(le k q)")
    if "window" in values:
        w = values["window"]
        terms.append(f"(and (lt (sub q k) {w}) (lt (sub k q) {w}))")
    if "predicate" in values:
        terms.append(values["predicate"])
    predicate = terms[0]
    for term in terms[1:]:
        predicate = f"(and {predicate} {term})"
    out, placed = [family], False
    # The canonical order: predicate follows softcap and score_mods.
    after = ["heads", "kv_heads", "head_dim", "value_dim", "scoring", "scale",
             "key_padding", "segments", "score_mods", "softcap"]
    for key, value in fields:
        if key in ("causal", "window", "predicate"):
            continue
        if not placed and key not in after and key != "dtype":
            out.append(f"predicate={predicate}")
            placed = True
        out.append(f"{key}={value}")
    if not placed:
        out.append(f"predicate={predicate}")
    return " ".join(out)


def renamed(name):
    """'attention_h8kv8d64_causal_window64_f32_0123abcd' ->
    'attention_h8kv8d64_mask_f32_0123abcd' (hash recomputed by the caller)."""
    words = name.split("_")
    kept = [w for w in words if w != "causal" and w != "predicate"
            and not (w.startswith("window") and w[6:].isdigit())]
    at = 2
    while at < len(kept) and kept[at] in ("additive", "padded", "segments"):
        at += 1
    return "_".join(kept[:at] + ["mask"] + kept[at:])


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
            key = old
            if " dtype=" in key:
                key = new_canonical(key)
            masked = without_mask_fields(key)
            if masked is not None:
                key = masked
                entry["name"] = renamed(entry["name"])
            if key == old:
                continue  # already the new form
            keys[old] = key
            entry["kernel"] = key
            entry["name"] = entry["name"][:-8] + "%08x" % fnv1a(key)
        with open(path, "w") as f:
            f.write(json.dumps(db, indent=1, sort_keys=False) + "\n")
        for old, new in keys.items():
            print(f"{path}: {old!r}\n  -> {new!r}")


if __name__ == "__main__":
    main()
