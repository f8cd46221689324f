#!/usr/bin/env python3
"""The capability tables of plugin_api.h against the four places that repeat them.

moolai/plugin_api.h is the one source of a capability table (auth,
independence, messaging, observer, storage). Four places follow it by hand:

    sdk::<Capability>        sdk/include/moolai/sdk/capabilities.hpp
    make_<table>_table<T>()  sdk/include/moolai/sdk/export.hpp (the trampolines)
    the required entries     host/plugins/plugin_loader.cpp (MOOLAI_REQ lists)
    <Capability>Client       host/plugins/capability_clients.hpp

    capability_tables.py emit --out FILE   the entries as X-macros, for the
                                           compile-time checks (tests/abi/tables/)
    capability_tables.py check             names: every entry in every place and
                                           nothing else; parameters named as in C
    capability_tables.py selftest --compile-commands FILE
                                           proves `check` and the compile-time
                                           checks fail on a planted disagreement

The compile-time checks (tests/abi/tables/static_checks.cpp) cover what C++ can
see: order, count, member types. This script covers what it cannot: a method a
place has in excess, parameter names, the loader's list and which trampoline
calls which method.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

C_HEADER = "plugin_api/include/moolai/plugin_api.h"
SDK_CLASSES = "sdk/include/moolai/sdk/capabilities.hpp"
SDK_EXPORT = "sdk/include/moolai/sdk/export.hpp"
LOADER = "host/plugins/plugin_loader.cpp"
CLIENTS = "host/plugins/capability_clients.hpp"
STATIC_CHECKS = "tests/abi/tables/static_checks.cpp"

# table -> (SDK class, host client class)
TABLES = {
    "auth": ("Auth", "AuthClient"),
    "independence": ("IndependencePolicy", "IndependenceClient"),
    "messaging": ("Messaging", "MessagingClient"),
    "observer": ("Observer", "ObserverClient"),
    "storage": ("Storage", "StorageClient"),
}


class Entry:
    def __init__(self, name, params, required, since):
        self.name = name
        self.params = params  # [(type, name)] after self and call
        self.required = required
        self.since = since


class Problem(Exception):
    pass


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def blank_comments(text, line_comments):
    """Comments replaced by spaces, so positions still match `text`."""
    pattern = r"/\*.*?\*/|//[^\n]*" if line_comments else r"/\*.*?\*/"
    return re.sub(pattern, lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)


def split_top(params):
    """Splits a parameter list on the commas outside parentheses and <>."""
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def param_name(param):
    """The declared name of one C or C++ parameter, or None when unnamed."""
    param = param.split("=")[0].strip()
    m = re.match(r"^(.*[\s*&>])(\w+)$", param, re.S)
    if not m or not re.sub(r"\b(const|volatile)\b", "", m.group(1)).strip(" \t\n*&"):
        return None
    return m.group(2)


def matching(text, open_pos, open_ch="{", close_ch="}"):
    """Index of the bracket closing the one at open_pos."""
    depth = 0
    for i in range(open_pos, len(text)):
        if text[i] == open_ch:
            depth += 1
        elif text[i] == close_ch:
            depth -= 1
            if depth == 0:
                return i
    raise Problem("unbalanced %s at offset %d" % (open_ch, open_pos))


# ---- plugin_api.h -----------------------------------------------------------

def parse_c(text):
    """{table: [Entry]} in declaration order, from the typedef'd structs."""
    tables = {}
    for table in TABLES:
        struct = "moolai_%s_v1" % table
        m = re.search(r"typedef struct %s \{" % struct, text)
        if not m:
            raise Problem("%s: no `typedef struct %s {`" % (C_HEADER, struct))
        end = text.index("} %s;" % struct, m.end())
        body = text[m.end():end]
        # The banner comment above the typedef may say it for every function.
        banner = text[text.rfind("/* ====", 0, m.start()):m.start()]
        all_required = re.search(r"Every function is required", banner) is not None
        code = blank_comments(body, line_comments=False)
        comments = [(c.start(), c.end(), c.group(1)) for c in re.finditer(r"/\*(.*?)\*/", body, re.S)]
        entries, since, prev_end = [], None, 0
        for f in re.finditer(r"([^;]+);", code):
            decl = " ".join(f.group(1).split())
            start = f.start() + len(f.group(1)) - len(f.group(1).lstrip())
            before = [c for c in comments if prev_end <= c[0] and c[1] <= start]
            prev_end = f.end()
            for c in before:
                v = re.search(r"----\s*(\d+\.\d+)\s*----", c[2])
                if v:
                    since = v.group(1)
            fn = re.match(r"^moolai_status \(\*(\w+)\)\((.*)\)$", decl)
            if not fn:
                if entries or decl not in ("uint32_t struct_size", "uint32_t reserved"):
                    raise Problem("%s: %s: cannot read `%s;` (an entry is "
                                  "`moolai_status (*name)(moolai_instance* self, moolai_call* call, ...)`)"
                                  % (C_HEADER, struct, decl))
                continue
            name = fn.group(1)
            params = []
            for p in split_top(fn.group(2)):
                pn = param_name(p)
                if pn is None:
                    raise Problem("%s: %s.%s: parameter `%s` has no name" % (C_HEADER, struct, name, p))
                params.append((" ".join(p[:p.rindex(pn)].split()), pn))
            if params[:2] != [("moolai_instance*", "self"), ("moolai_call*", "call")]:
                raise Problem("%s: %s.%s does not start with (moolai_instance* self, moolai_call* call)"
                              % (C_HEADER, struct, name))
            doc = " ".join(before[-1][2].replace("*", " ").split()) if before else ""
            if doc.startswith("Required."):
                required = True
            elif doc.startswith("Optional."):
                required = False
            elif all_required:
                required = True
            else:
                raise Problem("%s: %s.%s: its comment starts with neither `Required.` nor `Optional.`"
                              % (C_HEADER, struct, name))
            if since is None:
                raise Problem("%s: %s.%s comes before any `---- 1.N ----` line" % (C_HEADER, struct, name))
            entries.append(Entry(name, params[2:], required, since))
        if not entries:
            raise Problem("%s: %s has no entries" % (C_HEADER, struct))
        tables[table] = entries
    return tables


def emit(tables):
    out = ["/* Generated by tests/abi/capability_tables.py from moolai/plugin_api.h; do not edit.",
           " * MOOLAI_TABLE_ENTRIES_<table>(X) calls X(table, name, index, required) for",
           " * every entry of moolai_<table>_v1, in declaration order. */",
           "#ifndef MOOLAI_GENERATED_CAPABILITY_TABLES_INC",
           "#define MOOLAI_GENERATED_CAPABILITY_TABLES_INC",
           "",
           "#define MOOLAI_TABLES(X) X(auth) X(independence) X(messaging) X(observer) X(storage)",
           ""]
    for table, entries in tables.items():
        out.append("#define MOOLAI_TABLE_COUNT_%s %du" % (table, len(entries)))
        out.append("#define MOOLAI_TABLE_ENTRIES_%s(X) \\" % table)
        for i, e in enumerate(entries):
            out.append("    X(%s, %s, %d, %d)%s" % (table, e.name, i, int(e.required),
                                                   " \\" if i + 1 < len(entries) else ""))
        out.append("")
    out.append("#endif")
    return "\n".join(out) + "\n"


# ---- the four places ----------------------------------------------------------

def class_body(text, cls, path):
    m = re.search(r"\bclass %s\s*(:[^{]*)?\{" % cls, text)
    if not m:
        raise Problem("%s: no class %s" % (path, cls))
    return text[m.end():matching(text, m.end() - 1)]


def methods(body, returns):
    """{name: [parameter declarations]} of the methods returning `returns`."""
    out = {}
    for m in re.finditer(r"\b%s\s+(\w+)\s*\(" % returns, body):
        close = matching(body, m.end() - 1, "(", ")")
        out[m.group(1)] = split_top(body[m.end():close])
    return out


def parse_sdk_classes(text):
    text = blank_comments(text, line_comments=True)
    out = {}
    for table, (cls, _) in TABLES.items():
        ms = methods(class_body(text, cls, SDK_CLASSES), r"virtual\s+Status")
        # The leading Call& is the SDK's, not an entry parameter.
        out[table] = {n: [param_name(p) for p in ps[1:]] for n, ps in ms.items()}
    return out


def parse_trampolines(text):
    """{table: {entry: method the trampoline calls}} from make_<table>_table()."""
    text = blank_comments(text, line_comments=True)
    # One-shape macros (MOOLAI_SDK_STR_FN(name)) must set and call the same name.
    macros = {}
    for m in re.finditer(r"#define (MOOLAI_SDK_\w+_FN)\((\w+)\)((?:[^\n]*\\\n)*[^\n]*)", text):
        arg, body = m.group(2), m.group(3)
        sets = re.findall(r"\bt\.(\w+)\s*=", body)
        calls = re.findall(r"&\w+::(\w+)", body)
        macros[m.group(1)] = sets == [arg] and calls == [arg]
    out = {}
    for table in TABLES:
        m = re.search(r"\bmake_%s_table\s*\(\s*\)[^{;]*\{" % table, text)
        if not m:
            raise Problem("%s: no make_%s_table()" % (SDK_EXPORT, table))
        body = text[m.end():matching(text, m.end() - 1)]
        body = re.sub(r"#(define|undef)(?:[^\n]*\\\n)*[^\n]*", lambda d: " " * len(d.group(0)), body)
        found = {}
        marks = [(x.start(), x.group(1), "=") for x in re.finditer(r"\bt\.(\w+)\s*=", body)]
        marks += [(x.start(), x.group(2), x.group(1)) for x in
                  re.finditer(r"\b(MOOLAI_SDK_\w+_FN)\(\s*(\w+)\s*\)", body)]
        marks.sort()
        for i, (pos, name, how) in enumerate(marks):
            if name == "struct_size":
                continue
            if how == "=":
                stop = marks[i + 1][0] if i + 1 < len(marks) else len(body)
                calls = re.findall(r"&\w+::(\w+)", body[pos:stop])
                found[name] = calls[0] if len(calls) == 1 else "(%s)" % ", ".join(calls)
            else:
                found[name] = name if macros.get(how) else "(macro %s)" % how
        out[table] = found
    return out


def parse_loader(text):
    text = blank_comments(text, line_comments=True)
    text = re.sub(r"#define(?:[^\n]*\\\n)*[^\n]*", "", text)
    aliases = dict(re.findall(r"\busing (\w+) = (moolai_\w+_v1)\s*;", text))
    out = {t: [] for t in TABLES}
    for struct, name in re.findall(r"\bMOOLAI_REQ\(\s*(\w+)\s*,\s*(\w+)\s*\)", text):
        struct = aliases.get(struct, struct)
        m = re.match(r"^moolai_(\w+)_v1$", struct)
        if not m or m.group(1) not in out:
            raise Problem("%s: MOOLAI_REQ(%s, %s) names no capability table" % (LOADER, struct, name))
        out[m.group(1)].append(name)
    return out


def parse_clients(text):
    text = blank_comments(text, line_comments=True)
    out = {}
    for table, (_, cls) in TABLES.items():
        # Only the public part lists entries; private helpers are the client's own.
        body = re.split(r"\bprivate\s*:", class_body(text, cls, CLIENTS))[0]
        ms = methods(body, "CallResult")
        out[table] = {n: [param_name(p) for p in ps] for n, ps in ms.items()}
    return out


# ---- the check ----------------------------------------------------------------

def check(texts):
    """Every disagreement as one line naming the entry and the place."""
    tables = parse_c(texts[C_HEADER])
    sdk = parse_sdk_classes(texts[SDK_CLASSES])
    tramp = parse_trampolines(texts[SDK_EXPORT])
    loader = parse_loader(texts[LOADER])
    clients = parse_clients(texts[CLIENTS])
    problems = []
    for table, entries in tables.items():
        sdk_cls, client_cls = TABLES[table]
        c_where = "moolai_%s_v1 (%s)" % (table, C_HEADER)
        places = [
            ("sdk::%s (%s)" % (sdk_cls, SDK_CLASSES), set(sdk[table])),
            ("the SDK's trampolines (make_%s_table in %s)" % (table, SDK_EXPORT), set(tramp[table])),
            ("%s (%s)" % (client_cls, CLIENTS), set(clients[table])),
        ]
        names = [e.name for e in entries]
        for where, have in places:
            for n in names:
                if n not in have:
                    problems.append("%s.%s: in %s, missing from %s" % (table, n, c_where, where))
            for n in sorted(have - set(names)):
                problems.append("%s.%s: in %s, not in %s" % (table, n, where, c_where))
        req_where = "the loader's required list (MOOLAI_REQ in %s)" % LOADER
        listed = loader[table]
        for e in entries:
            if e.required and e.name not in listed:
                problems.append("%s.%s: required in %s, missing from %s" % (table, e.name, c_where, req_where))
            if not e.required and e.name in listed:
                problems.append("%s.%s: optional in %s, yet in %s" % (table, e.name, c_where, req_where))
        for n in sorted(set(listed) - set(names)):
            problems.append("%s.%s: in %s, not in %s" % (table, n, req_where, c_where))
        for n in sorted({n for n in listed if listed.count(n) > 1}):
            problems.append("%s.%s: listed twice in %s" % (table, n, req_where))
        for n, calls in sorted(tramp[table].items()):
            if n in names and calls != n:
                problems.append("%s.%s: its trampoline (make_%s_table in %s) calls %s, not %s::%s"
                                % (table, n, table, SDK_EXPORT, calls, sdk_cls, n))
        # Parameter names as in C; a place may leave trailing ones out when it
        # supplies them itself (cookie), leave out row_size wherever it is
        # (the client's own sizeof), and leave one unnamed (a default
        # implementation that ignores it).
        for e in entries:
            c_names = [p[1] for p in e.params]
            for where, got in (("sdk::%s (%s)" % (sdk_cls, SDK_CLASSES), sdk[table].get(e.name)),
                               ("%s (%s)" % (client_cls, CLIENTS), clients[table].get(e.name))):
                if got is None:
                    continue
                keep = len(got) == len(c_names) or "row_size" in got
                want = c_names if keep else [c for c in c_names if c != "row_size"]
                ok = len(got) <= len(want) and all(g is None or g == c for g, c in zip(got, want))
                if not ok:
                    problems.append("%s.%s: %s names its parameters (%s); %s names them (%s)"
                                    % (table, e.name, where, ", ".join(g or "?" for g in got),
                                       c_where, ", ".join(c_names)))
    return tables, problems


def report(tables, texts):
    sdk = parse_sdk_classes(texts[SDK_CLASSES])
    tramp = parse_trampolines(texts[SDK_EXPORT])
    loader = parse_loader(texts[LOADER])
    clients = parse_clients(texts[CLIENTS])
    for table, entries in tables.items():
        print("%-12s C %2d (%d required)  sdk %2d  trampolines %2d  loader %2d  client %2d"
              % (table, len(entries), sum(e.required for e in entries), len(sdk[table]),
                 len(tramp[table]), len(loader[table]), len(clients[table])))


def load_texts(root):
    return {rel: read(root, rel) for rel in (C_HEADER, SDK_CLASSES, SDK_EXPORT, LOADER, CLIENTS)}


# ---- the self-test ------------------------------------------------------------

def mutate(texts, rel, old, new):
    if old not in texts[rel]:
        raise Problem("selftest: `%s` is no longer in %s; update the self-test" % (old.strip(), rel))
    out = dict(texts)
    out[rel] = texts[rel].replace(old, new, 1)
    return out


STORAGE_END = "    /* ---- 1.6+: APPEND ONLY below this line ---- */\n} moolai_storage_v1;"
NEW_C_ENTRY = ("    moolai_status (*selftest_only)(moolai_instance* self, moolai_call* call,\n"
               "                                    moolai_str record_json);\n\n")

# (what is planted, where, replaced text, replacement, message `check` must print)
NAME_CASES = [
    ("a C entry the other places lack", C_HEADER, STORAGE_END, NEW_C_ENTRY + STORAGE_END,
     ["storage.selftest_only: in moolai_storage_v1 (%s), missing from sdk::Storage" % C_HEADER,
      "storage.selftest_only: in moolai_storage_v1 (%s), missing from the SDK's trampolines" % C_HEADER,
      "storage.selftest_only: in moolai_storage_v1 (%s), missing from StorageClient" % C_HEADER,
      "storage.selftest_only: required in moolai_storage_v1 (%s), missing from the loader's required list"
      % C_HEADER]),
    ("an SDK method C lacks", SDK_CLASSES, "    virtual Status ping(Call& call) = 0;\n",
     "    virtual Status ping(Call& call) = 0;\n    virtual Status selftest_only(Call& call) = 0;\n",
     ["storage.selftest_only: in sdk::Storage (%s), not in moolai_storage_v1" % SDK_CLASSES]),
    ("a trampoline calling another method", SDK_EXPORT,
     "t.ping = [](I p, K c) noexcept { return invoke<T>(p, c, &S::ping); };",
     "t.ping = [](I p, K c) noexcept { return invoke<T>(p, c, &S::migrate); };",
     ["storage.ping: its trampoline (make_storage_table in %s) calls migrate, not Storage::ping" % SDK_EXPORT]),
    ("a missing loader requirement", LOADER, "MOOLAI_REQ(S, org_get),", "",
     ["storage.org_get: required in moolai_storage_v1 (%s), missing from the loader's required list" % C_HEADER]),
    ("an optional entry required by the loader", LOADER,
     "{MOOLAI_REQ(moolai_independence_v1, on_heartbeat)}",
     "{MOOLAI_REQ(moolai_independence_v1, on_heartbeat), MOOLAI_REQ(moolai_independence_v1, on_toggle)}",
     ["independence.on_toggle: optional in moolai_independence_v1 (%s), yet in the loader's required list"
      % C_HEADER]),
    ("a client parameter named a0", CLIENTS, "CallResult org_get(std::string_view organization_id) const;",
     "CallResult org_get(std::string_view a0) const;",
     ["storage.org_get: StorageClient (%s) names its parameters (a0); moolai_storage_v1 (%s) names them "
      "(organization_id)" % (CLIENTS, C_HEADER)]),
    ("a client method C lacks", CLIENTS, "    CallResult ping() const;\n",
     "    CallResult ping() const;\n    CallResult selftest_only() const;\n",
     ["storage.selftest_only: in StorageClient (%s), not in moolai_storage_v1" % CLIENTS]),
]

# (what is planted, where, replaced text, replacement, messages the compiler must print)
COMPILE_CASES = [
    ("a C entry the other places lack", C_HEADER, STORAGE_END, NEW_C_ENTRY + STORAGE_END,
     ["storage.selftest_only: sdk::Storage (%s) has no method of that name" % SDK_CLASSES,
      "storage.selftest_only: the SDK leaves it NULL; give it a trampoline in make_storage_table",
      "storage.selftest_only: StorageClient (%s) has no method of that name" % CLIENTS]),
    ("an SDK method with another parameter", SDK_CLASSES,
     "virtual Status org_get(Call& call, Str organization_id) = 0;",
     "virtual Status org_get(Call& call, Str organization_id, Str extra) = 0;",
     ["storage.org_get: sdk::Storage::org_get does not take what moolai_storage_v1.org_get takes"]),
    ("a trampoline left out", SDK_EXPORT, "    MOOLAI_SDK_STR_FN(org_get);\n", "",
     ["storage.org_get: the SDK leaves it NULL; give it a trampoline in make_storage_table"]),
    ("a client method with another parameter type", CLIENTS,
     "CallResult org_get(std::string_view organization_id) const;",
     "CallResult org_get(const std::string& organization_id) const;",
     ["storage.org_get: StorageClient::org_get does not take what moolai_storage_v1.org_get takes"]),
    ("a client method left out", CLIENTS, "    CallResult org_get(std::string_view organization_id) const;\n", "",
     ["storage.org_get: StorageClient (%s) has no method of that name" % CLIENTS]),
    ("a list that missed an entry of the header", "(misread header)", "org_get", "storage",
     ["moolai_storage_v1: sizeof counts another number of entries than the list",
      "storage.org_list: not at its place in moolai_storage_v1"]),
]

# A mutated copy is found before the original under the path it is
# included by, in a directory put first on the include path.
INCLUDED_AS = {
    C_HEADER: "moolai/plugin_api.h",
    SDK_CLASSES: "moolai/sdk/capabilities.hpp",
    SDK_EXPORT: "moolai/sdk/export.hpp",
    CLIENTS: "plugins/capability_clients.hpp",
}


def compile_command(db_path, source):
    with open(db_path, encoding="utf-8") as f:
        db = json.load(f)
    for e in db:
        if os.path.realpath(os.path.join(e["directory"], e["file"])) == os.path.realpath(source):
            args = e.get("arguments") or shlex.split(e["command"])
            # No object file, no dependency file, no source yet.
            out, skip = [], False
            for a in args:
                if skip:
                    skip = False
                elif a in ("-o", "-MF", "-MT", "-MQ"):
                    skip = True
                elif a in ("-c", "-MD", "-MMD") or os.path.realpath(os.path.join(e["directory"], a)) == \
                        os.path.realpath(source):
                    continue
                else:
                    out.append(a)
            return out, e["directory"]
    raise Problem("%s has no compile command for %s (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"
                  % (db_path, source))


def compile_case(root, cmd, cwd, source, texts, rel, old, new):
    """Compiles static_checks.cpp with `rel` mutated; returns (exit code, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        includes = []
        header = texts[C_HEADER]
        if rel == C_HEADER:
            header = mutate(texts, rel, old, new)[rel]
        tables = parse_c(header)
        if rel == "(misread header)":  # as if the reader had skipped entry `old` of table `new`
            if old not in [e.name for e in tables[new]]:
                raise Problem("selftest: %s.%s is no longer in %s; update the self-test" % (new, old, C_HEADER))
            tables[new] = [e for e in tables[new] if e.name != old]
        listing = emit(tables)
        os.makedirs(os.path.join(tmp, "gen"))
        with open(os.path.join(tmp, "gen", "capability_tables.inc"), "w", encoding="utf-8") as f:
            f.write(listing)
        includes.append(os.path.join(tmp, "gen"))
        if rel in INCLUDED_AS:
            dest = os.path.join(tmp, "mutated", INCLUDED_AS[rel])
            os.makedirs(os.path.dirname(dest))
            with open(dest, "w", encoding="utf-8") as f:
                f.write(header if rel == C_HEADER else mutate(texts, rel, old, new)[rel])
            if rel == C_HEADER:  # plugin_api.h includes its sibling plugin_types.h
                with open(os.path.join(os.path.dirname(dest), "plugin_types.h"), "w", encoding="utf-8") as f:
                    f.write(read(root, "plugin_api/include/moolai/plugin_types.h"))
            includes.append(os.path.join(tmp, "mutated"))
        first_flag = next(i for i, a in enumerate(cmd) if a.startswith("-"))  # after any launcher
        # A full compile, as the build does: with sanitizers, gcc -fsyntax-only
        # does not fold `&function != nullptr` into a constant.
        full = cmd[:first_flag] + ["-I" + d for d in includes] + cmd[first_flag:] + \
            ["-c", "-o", os.devnull, source]
        p = subprocess.run(full, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        return p.returncode, p.stdout


def selftest(root, db_path):
    failures = 0
    texts = load_texts(root)
    _, clean = check(texts)
    if clean:
        print("selftest: the tree itself disagrees; run `check` first", file=sys.stderr)
        return 1
    for what, rel, old, new, expected in NAME_CASES:
        _, got = check(mutate(texts, rel, old, new))
        missing = [x for x in expected if not any(line.startswith(x) for line in got)]
        status = "FAIL" if missing or not got else "ok"
        failures += status == "FAIL"
        print("%s  check on %s" % (status, what))
        for x in missing:
            print("      expected a line starting: %s\n      got: %s" % (x, "\n           ".join(got) or "nothing"))
    if not db_path:
        return 1 if failures else 0
    source = os.path.join(root, STATIC_CHECKS)
    cmd, cwd = compile_command(db_path, source)
    code, out = compile_case(root, cmd, cwd, source, texts, None, None, None)
    if code != 0:
        print("FAIL  compile-time checks on the tree as it is (must compile):\n%s" % out[-4000:])
        return 1
    print("ok  compile-time checks on the tree as it is")
    for what, rel, old, new, expected in COMPILE_CASES:
        code, out = compile_case(root, cmd, cwd, source, texts, rel, old, new)
        missing = [x for x in expected if x not in out]
        status = "FAIL" if missing or code == 0 else "ok"
        failures += status == "FAIL"
        print("%s  compile-time checks on %s" % (status, what))
        for x in missing:
            print("      expected the compiler to print: %s" % x)
        if status == "FAIL":
            print("      compiler exit %d, output:\n%s" % (code, out[-4000:]))
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["emit", "check", "selftest"])
    ap.add_argument("--root", default=ROOT, help="the source tree (default: this script's)")
    ap.add_argument("--out", help="emit: the file to write (only rewritten when it changes)")
    ap.add_argument("--compile-commands", help="selftest: compile_commands.json of a configured build")
    args = ap.parse_args()
    try:
        if args.mode == "emit":
            text = emit(parse_c(read(args.root, C_HEADER)))
            old = open(args.out, encoding="utf-8").read() if os.path.exists(args.out) else None
            if old != text:
                os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
                with open(args.out, "w", encoding="utf-8") as f:
                    f.write(text)
            return 0
        if args.mode == "check":
            texts = load_texts(args.root)
            tables, problems = check(texts)
            report(tables, texts)
            for p in problems:
                print(p)
            if problems:
                print("\n%d disagreement(s) with %s, the one source of the capability tables."
                      % (len(problems), C_HEADER))
                return 1
            return 0
        return selftest(args.root, args.compile_commands)
    except Problem as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
