#!/usr/bin/env python3
"""Regenerates policy/builtin.c from policy/builtin.json (the built-in
policies, edited as JSON). Run from the repository root after editing:
    python3 policy/gen_builtin.py
The unit test policy_builtin_test checks that the two agree."""
import os

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
text = open(os.path.join(root, "policy", "builtin.json"), encoding="utf-8").read()
data = text.encode("utf-8")


def c_literal(chunk):
    out = []
    for b in chunk:
        ch = chr(b)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= b < 127 and ch != "?":  # '?' would risk trigraphs
            out.append(ch)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


# ISO C guarantees string literals of 4095 bytes: one array element per
# line, long lines cut into pieces.
pieces = []
for line in data.splitlines(keepends=True):
    while len(line) > 2000:
        pieces.append(line[:2000])
        line = line[2000:]
    pieces.append(line)
with open(os.path.join(root, "policy", "builtin.c"), "w") as f:
    f.write("/* The built-in policies (docs/policy.md). GENERATED from policy/builtin.json\n"
            " * by policy/gen_builtin.py: edit the JSON, then regenerate. */\n"
            "#include \"policy.h\"\n\n"
            "static const char *const pieces[] = {\n")
    for p in pieces:
        f.write("\t" + c_literal(p) + ",\n")
    f.write("\tNULL,\n};\n\n"
            "int pol_builtin_text(lg_buf *b)\n{\n"
            "\tfor (size_t i = 0; pieces[i]; i++)\n"
            "\t\tif (lg_buf_adds(b, pieces[i]))\n"
            "\t\t\treturn -1;\n"
            "\treturn 0;\n}\n")
