"""Prints a .attn file whose constant and whose mask predicate each have
exactly N terms (operands and operators; argv[1]), shaped for the deepest
trees the parser allows: about 190 unary minus signs (the nesting limit is
200) on top of a flat chain of additions."""
import sys


def chain(first, count):
    """`first + 1 + ... + 1` with `count` operands: 2 * count - 1 terms."""
    return " + ".join([first] + ["1"] * (count - 1))


def deep(first, terms):
    """`- - ... - (first + 1 + ...)` with exactly `terms` terms."""
    unary = 190 if (terms - 190) % 2 == 1 else 191
    return "- " * unary + "(" + chain(first, (terms - unary + 1) // 2) + ")"


n = int(sys.argv[1])
print("const n = %s;" % deep("1", n))
# The field's value has five more terms (`predicate`, `b`, `h`, `q`, `k`),
# and `k <=` two.
print("attention a {\n  heads = 2;\n  head_dim = 8;\n"
      "  mask = predicate(b, h, q, k) { k <= %s };\n}" % deep("q", n - 7))
