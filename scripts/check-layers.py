#!/usr/bin/env python3
"""The layering rule of each crate, checked: `CRATE/layers.txt` lists the crate's layers, lowest
first, each naming its files (`shape.rs`) and folders (`simd/`) under `CRATE/src`. A file may
import files of its own layer and of the layers below it, never above; every file belongs to
exactly one layer; and no files import each other in a circle.

Usage: scripts/check-layers.py [CRATE ...]   (default: kernels bench-harness)

An import is any path that starts at `crate::`, `super::` or `self::`, in a `use` tree or
written out in code; a name the crate root re-exports (`crate::ConvShape`) counts as an import
of the file that defines it. A parent module naming its child (`mod x;`, `x::f()`) is the module
tree, not an import, and a child naming its ancestors' items is not a circle. Unit tests
(`#[cfg(test)] mod`) are left out, like the integration tests. Prints every break
and circle and exits 1 if there is any.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def module_files(src):
    """Module path (tuple) -> file path relative to src."""
    out = {}
    for d, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rs"):
                rel = os.path.relpath(os.path.join(d, f), src)
                parts = rel[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                out[tuple(parts)] = rel.replace(os.sep, "/")
    return out


def strip(text):
    """Code without its unit tests (`#[cfg(test)] mod`, which may reach any layer, as
    integration tests do), comments, string and char literals (so paths in docs are not
    imports)."""
    text = re.split(r"#\[cfg\(test\)\]\s*mod\s", text)[0]
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return re.sub(r"'(?:\\.|[^'\\])'", "' '", text)


def use_paths(tree):
    """Expands a use tree (`a::{b, c::{d as e}}`) into its paths (lists of segments)."""
    tree = tree.strip()
    depth, brace = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                brace = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if brace is None:
        path = re.split(r"\s+as\s+", tree)[0].strip()
        return [[s for s in path.split("::") if s]] if path else []
    prefix = [s for s in tree[:brace].split("::") if s]
    inner, parts, depth, start = tree[brace + 1 : tree.rindex("}")], [], 0, 0
    for i, ch in enumerate(inner):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return [prefix + p for part in parts for p in use_paths(part)]


def paths(code):
    """Every path in `code` that starts at crate/super/self."""
    for m in re.finditer(r"\buse\s+([^;]*);", code):
        for p in use_paths(m.group(1)):
            if p and p[0] in ("crate", "super", "self"):
                yield p
    for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::\w+)+)", code):
        yield m.group(1).split("::")


def resolve(path, here, mods, reexports):
    """The module a path names an item of (the longest module prefix), or None for the root."""
    base, segs = list(here), list(path)
    head = segs.pop(0)
    if head == "crate":
        base = []
    elif head == "super":
        base = base[:-1]
        while segs and segs[0] == "super":
            segs.pop(0)
            base = base[:-1]
    target = tuple(base + segs)
    while target and target not in mods:
        target = target[:-1]
    if not target and segs and segs[0] in reexports and not base:
        return reexports[segs[0]]
    return target


def root_reexports(mods, src):
    """Names the crate root re-exports -> the module that defines them."""
    out = {}
    root = mods.get(())
    if root is None:
        return out
    code = strip(open(os.path.join(src, root)).read())
    for m in re.finditer(r"\bpub\s+use\s+([^;]*);", code):
        for p in use_paths(m.group(1)):
            if p and p[0] in ("crate", "self"):
                p = p[1:]
            target = tuple(p[:-1])
            while target and target not in mods:
                target = target[:-1]
            if target and p:
                out[p[-1]] = target
    return out


def edges(src):
    mods = module_files(src)
    reexports = root_reexports(mods, src)
    out = {}
    for here, rel in mods.items():
        code = strip(open(os.path.join(src, rel)).read())
        for p in paths(code):
            target = resolve(p, here, mods, reexports)
            if not target or target == here:
                continue
            if target == here[: len(target)] or here == target[: len(here)]:
                continue  # an ancestor's item, or a parent naming its child: the module tree
            out.setdefault(rel, {}).setdefault(mods[target], set()).add(p[-1])
    return sorted(mods.values()), out


def read_layers(path):
    layers = []
    for n, line in enumerate(open(path), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, sep, members = line.partition(":")
        if not sep or not members.split():
            sys.exit(f"{path}:{n}: expected `layer: file.rs folder/ ...`")
        layers.append((name.strip(), members.split()))
    return layers


def layer_of(rel, layers):
    hits = [
        i
        for i, (_, members) in enumerate(layers)
        for m in members
        if rel == m or (m.endswith("/") and rel.startswith(m))
    ]
    return hits


def circles(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(graph) | {w for t in graph.values() for w in t}):
        if v not in index:
            visit(v)
    return out


def check(crate):
    src = os.path.join(ROOT, crate, "src")
    layers = read_layers(os.path.join(ROOT, crate, "layers.txt"))
    files, graph = edges(src)
    problems = []
    where = {}
    for f in files:
        hits = layer_of(f, layers)
        if len(hits) != 1:
            names = [layers[i][0] for i in hits] or ["none"]
            problems.append(f"{crate}/src/{f}: in {len(hits)} layers ({', '.join(names)}); must be in one")
        else:
            where[f] = hits[0]
    count = 0
    for a, targets in sorted(graph.items()):
        for b, names in sorted(targets.items()):
            count += 1
            if a in where and b in where and where[b] > where[a]:
                problems.append(
                    f"{crate}/src/{a} ({layers[where[a]][0]}) imports {b} "
                    f"({layers[where[b]][0]}, above it): {', '.join(sorted(names))}"
                )
    for comp in circles(graph):
        problems.append(f"{crate}: import circle of {len(comp)} files: {', '.join(comp)}")
    print(f"{crate}: {len(layers)} layers, {len(files)} files, {count} imports, {len(problems)} breaks")
    for p in problems:
        print("  " + p)
    return len(problems)


def main():
    crates = sys.argv[1:] or ["kernels", "bench-harness"]
    sys.exit(1 if sum(check(c) for c in crates) else 0)


if __name__ == "__main__":
    main()
