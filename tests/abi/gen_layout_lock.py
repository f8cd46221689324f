#!/usr/bin/env python3
"""Generates tests/abi/layout_lock.c from the plugin ABI headers.

The committed layout_lock.c is the source of truth: it records the layout of
ABI 1.x as it was shipped. Run this script only when the ABI grows on purpose
(an appended field, function or constant, with MOOLAI_ABI_MINOR bumped), read
the diff, and commit the result together with the header change.

    tests/abi/gen_layout_lock.py                 # rewrite layout_lock.c
    tests/abi/gen_layout_lock.py --check         # exit 1 when it is stale

How: clang's JSON AST lists every struct, field and typedef with its type;
`clang -dM -E` lists every macro; a probe program built with the C compiler
prints sizes, offsets, alignments and macro values for this (64-bit) target.
"""
import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INCLUDE = os.path.normpath(os.path.join(HERE, "..", "..", "plugin_api", "include"))
DEFAULT_OUT = os.path.join(HERE, "layout_lock.c")
HEADERS = ["moolai/plugin_types.h", "moolai/plugin_api.h"]
# Macros that are not ABI values: include guards and the export attribute.
SKIP_MACROS = re.compile(r"^MOOLAI_PLUGIN_(TYPES|API)_H$|^MOOLAI_PLUGIN_EXPORT$")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, universal_newlines=True, **kw).stdout


def read_ast(clang, include):
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write("".join('#include "%s"\n' % h for h in HEADERS))
        src = f.name
    try:
        ast = json.loads(run([clang, "-std=c99", "-fsyntax-only", "-Xclang", "-ast-dump=json",
                              "-I", include, src]))
        macros = run([clang, "-std=c99", "-dM", "-E", "-I", include, src])
    finally:
        os.unlink(src)
    structs, typedefs = [], []
    for d in ast["inner"]:
        name = d.get("name", "")
        if not name.startswith("moolai_"):
            continue
        if d["kind"] == "RecordDecl" and d.get("completeDefinition"):
            fields = [(x["name"], x["type"]["qualType"]) for x in d.get("inner", [])
                      if x["kind"] == "FieldDecl"]
            structs.append((name, fields))
        elif d["kind"] == "TypedefDecl":
            qt = d["type"]["qualType"]
            if qt != "struct " + name:  # `typedef struct x x;` is not worth a line
                typedefs.append((name, qt))
    defines = []
    for line in macros.splitlines():
        m = re.match(r"#define (MOOLAI_\w+)(\(.*?\))?\s*(.*)$", line)
        if m and not m.group(2) and not SKIP_MACROS.match(m.group(1)):
            defines.append((m.group(1), m.group(3)))
    defines.sort()  # -dM lists macros in hash order; keep the file stable
    return structs, typedefs, defines


def probe(cc, include, structs, defines):
    lines = ['#include <stdio.h>', '#include <stddef.h>']
    lines += ['#include "%s"' % h for h in HEADERS]
    lines.append("int main(void) {")
    for s, fields in structs:
        lines.append('printf("S %s %%zu %%zu\\n", sizeof(%s), (size_t)__alignof__(%s));' % (s, s, s))
        for f, _ in fields:
            lines.append('printf("F %s %s %%zu\\n", offsetof(%s, %s));' % (s, f, s, f))
    for name, body in defines:
        if body.startswith('"'):
            lines.append('printf("D %s str %%zu\\n", sizeof(%s));' % (name, name))
        else:
            lines.append('printf("D %s %%s %%zu %%llu\\n", ((%s) - (%s) - 1 < 0) ? "signed" : "unsigned",'
                         ' sizeof(%s), (unsigned long long)(%s));' % (name, name, name, name, name))
    lines.append("return 0; }")
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        run([cc, "-std=c99", "-w", "-I", include, src, "-o", exe])
        out = run([exe])
    sizes, offsets, values = {}, {}, {}
    for line in out.splitlines():
        p = line.split()
        if p[0] == "S":
            sizes[p[1]] = (int(p[2]), int(p[3]))
        elif p[0] == "F":
            offsets[(p[1], p[2])] = int(p[3])
        else:
            values[p[1]] = p[2:]
    return sizes, offsets, values


def declarator(qual_type, var):
    """`T *var` declaring a pointer to a field of type qual_type."""
    if "(*)" in qual_type:  # function pointer: R (*)(A) -> R (**var)(A)
        return qual_type.replace("(*)", "(**%s)" % var, 1)
    return "%s *%s" % (qual_type, var)


def c_literal(value, signed, size):
    suffix = ("" if signed else "u") + ("ll" if size == 8 else "")
    if signed and value >= 1 << 63:
        return "(%d%s)" % (value - (1 << 64), suffix)
    return "%d%s" % (value, suffix)


def generate(structs, typedefs, defines, sizes, offsets, values):
    o = []
    w = o.append
    w("""/*
 * tests/abi/layout_lock.c -- the layout of the Moolai plugin ABI, locked.
 *
 * GENERATED by tests/abi/gen_layout_lock.py from moolai/plugin_types.h and
 * moolai/plugin_api.h, then COMMITTED: this file, not the headers, is the
 * record of what ABI 1.x shipped. It is compiled by gcc and clang, as C99
 * and as C++17, with -Wall -Wextra -Wpedantic -Wpadded -Werror (ctest
 * abi.layout_lock.*). A failure here means a header change moved, resized,
 * retyped or renumbered something a built plugin relies on: that is a new
 * MAJOR version, never a fix to this file. Appending a field, function or
 * constant (a new MINOR) is the one change that may regenerate it; then
 * abi.layout_lock.up_to_date says so, and the diff must show additions only.
 *
 * Checked: sizeof and alignment of every struct, offsetof and the exact
 * type of every field (a pointer to the field must convert to a pointer of
 * the locked type without a diagnostic), every typedef, and the value,
 * size and signedness of every #define constant.
 */
#include <stddef.h>
#include <stdint.h>

#include "moolai/plugin_api.h"
#include "moolai/plugin_types.h"

#ifdef __cplusplus
#define MOOLAI_LOCK(cond, msg) static_assert(cond, msg)
#else
/* With -std=c99 glibc's <sys/cdefs.h> turns _Static_assert into a bit-field
 * emulation that trips -Wpadded and drops the message; use the keyword the
 * compiler has (C11, accepted in C99 mode as an extension). */
#undef _Static_assert
#define MOOLAI_LOCK(cond, msg) __extension__ _Static_assert(cond, msg)
#endif
/* -1 / 2 is 0 in a signed type and huge in an unsigned one (no "< 0", which
 * -Wtype-limits flags for unsigned operands). */
#define MOOLAI_LOCK_SIGNED(x) (((x) - (x) - 1) / 2 == 0)

/* Proves that MOOLAI_LOCK fires in this language mode (ctest
 * abi.layout_lock.*.selftest compiles with this defined and expects it). */
#ifdef MOOLAI_LAYOUT_LOCK_SELFTEST
MOOLAI_LOCK(sizeof(moolai_str) == 0, "layout lock self-test fired");
#endif
""")
    w("/* ---- version ---- */")
    w('MOOLAI_LOCK(MOOLAI_ABI_MAJOR == %s, "MOOLAI_ABI_MAJOR");' % values["MOOLAI_ABI_MAJOR"][2])
    w('MOOLAI_LOCK(MOOLAI_ABI_MINOR == %s, "MOOLAI_ABI_MINOR: regenerate after an append, with the diff reviewed");'
      % values["MOOLAI_ABI_MINOR"][2])
    w("")
    w("/* ---- constants: value, size, signedness ---- */")
    for name, body in defines:
        v = values[name]
        if v[0] == "str":
            w('MOOLAI_LOCK(sizeof(%s) == %s, "%s: length");' % (name, v[1], name))
            lit = json.dumps(json.loads(body))
            w("#ifdef __cplusplus")
            w('MOOLAI_LOCK(moolai_lock_streq(%s, %s), "%s: text");' % (name, lit, name))
            w("#endif")
            continue
        if name in ("MOOLAI_ABI_MAJOR", "MOOLAI_ABI_MINOR"):
            continue
        signed, size, value = v[0] == "signed", int(v[1]), int(v[2])
        w('MOOLAI_LOCK(%s == %s, "%s: value");' % (name, c_literal(value, signed, size), name))
        w('MOOLAI_LOCK(sizeof(%s) == %d && %sMOOLAI_LOCK_SIGNED(%s), "%s: type");'
          % (name, size, "" if signed else "!", name, name))
    w("")
    for s, fields in structs:
        size, align = sizes[s]
        w("/* ---- %s ---- */" % s)
        w('MOOLAI_LOCK(sizeof(%s) == %d, "sizeof(%s)");' % (s, size, s))
        w('MOOLAI_LOCK(__alignof__(%s) == %d, "alignof(%s)");' % (s, align, s))
        for f, _ in fields:
            w('MOOLAI_LOCK(offsetof(%s, %s) == %d, "offsetof(%s, %s)");' % (s, f, offsets[(s, f)], s, f))
        w("")
    w("/* ---- field and typedef types ----")
    w(" * Each initialisation below is diagnosed (an error under -Werror, or in")
    w(" * C++ always) when the field's type differs from the locked one. */")
    for s, fields in structs:
        fn = "moolai_lock_types_%s" % s[len("moolai_"):]
        w("void %s(%s* s);" % (fn, s))
        w("void %s(%s* s) {" % (fn, s))
        for f, qt in fields:
            w("    %s = &s->%s;" % (declarator(qt, "f_" + f), f))
            w("    (void)f_%s;" % f)
        w("}")
    w("void moolai_lock_typedefs(%s);" % ", ".join("%s* t_%s" % (t, t) for t, _ in typedefs))
    w("void moolai_lock_typedefs(%s) {" % ", ".join("%s* t_%s" % (t, t) for t, _ in typedefs))
    for t, qt in typedefs:
        w("    %s = t_%s;" % (declarator(qt, "u_" + t), t))
        w("    (void)u_%s;" % t)
    w("}")
    text = "\n".join(o) + "\n"
    # The C++-only string check needs a helper; put it after the includes.
    helper = ("#ifdef __cplusplus\n"
              "constexpr bool moolai_lock_streq(const char* a, const char* b) {\n"
              "    return *a == *b && (*a == '\\0' || moolai_lock_streq(a + 1, b + 1));\n"
              "}\n#endif\n\n/* ---- version ---- */")
    return text.replace("/* ---- version ---- */", helper, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--include", default=DEFAULT_INCLUDE, help="plugin_api/include")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--clang", default="clang")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    a = ap.parse_args()
    structs, typedefs, defines = read_ast(a.clang, a.include)
    sizes, offsets, values = probe(a.cc, a.include, structs, defines)
    text = generate(structs, typedefs, defines, sizes, offsets, values)
    if not a.check:
        with open(a.out, "w") as f:
            f.write(text)
        print("wrote %s: %d structs, %d typedefs, %d constants" % (a.out, len(structs), len(typedefs), len(defines)))
        return 0
    with open(a.out) as f:
        old = f.read()
    if old == text:
        print("%s is up to date with the headers" % a.out)
        return 0
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                               "layout_lock.c (committed)", "layout_lock.c (from headers)"))
    print("\nlayout_lock.c does not match the headers. If the only changes are additions for a new\n"
          "MOOLAI_ABI_MINOR, regenerate with tests/abi/gen_layout_lock.py and commit; anything\n"
          "else is an ABI break.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
