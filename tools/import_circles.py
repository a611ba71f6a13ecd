#!/usr/bin/env python3
"""File-level import circles inside each crate of the workspace.

    python3 tools/import_circles.py [SRC_DIR ...]     (default: crates/*/src)

An edge a.rs -> b.rs when a.rs names, in a `use` or in its code, a path (`crate::…`,
`super::…`, `self::…`, or one through a child module, `child::…`) that resolves to an item
defined in b.rs; a path through a `use` re-export is followed to the file that defines the
item. Not edges: a parent's `mod child;`, a `pub use` the file's own code does not use (a
module's facade), a `macro_rules!` body (its paths belong where it is expanded), a macro path
(`crate::params!`), test modules (`#[cfg(test)] mod … { … }`). Prints each set of files that
import each other in a loop (a strongly connected component of more than one file) with the
edges inside it, then the count; exits 1 when there is any. Text-based: it reads no macro
expansion and no glob import (`use super::*`), so it can miss an edge, never invent one that
the code does not name. `--with-reexports` counts facade re-exports as edges too.
"""
import os, re, sys
from collections import defaultdict

def strip(src):
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    src = re.sub(r'"(?:\\.|[^"\\])*"', '""', src)
    return src

def blocks(src, opening, inner):
    """`src` with the body of every block whose head matches `opening` (up to its `{`, braces
    balanced) replaced by `inner(head, body)`."""
    out, i = [], 0
    for m in re.finditer(opening, src):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while j < len(src) and depth:
            depth += {'{': 1, '}': -1}.get(src[j], 0)
            j += 1
        out.append(src[i:m.start()])
        out.append(inner(src[m.start():m.end()], src[m.end():j]))
        i = j
    out.append(src[i:])
    return ''.join(out)

def cut_test_mods(src):
    # `#[cfg(test)] mod NAME { … }`: not the file's imports
    return blocks(src, r'#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{', lambda h, b: '')

def cut_macros(src):
    # a macro_rules! body's paths belong to where it is expanded, not to this file
    return blocks(src, r'macro_rules!\s*\w+\s*\{', lambda h, b: '')

def inline_super(src):
    # inside a (non-test) inline `mod NAME { … }`, `super::` is the file's own module
    return blocks(src, r'\bmod\s+\w+\s*\{', lambda h, b: h + b.replace('super::', 'self::'))

class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}   # module path tuple -> file
        self.text = {}
        roots = [r for r in ('lib.rs', 'main.rs') if os.path.exists(os.path.join(src, r))]
        self.load((), os.path.join(src, roots[0]), src)

    def load(self, mpath, f, dirpath):
        t = inline_super(cut_macros(cut_test_mods(strip(open(f).read()))))
        self.files[mpath] = f
        self.text[mpath] = t
        for m in re.finditer(r'(?:#\[path\s*=\s*""\]\s*)?(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', t):
            name = m.group(1)
            for cand in (os.path.join(dirpath, name + '.rs'), os.path.join(dirpath, name, 'mod.rs')):
                if os.path.exists(cand):
                    sub = os.path.join(dirpath, name)
                    self.load(mpath + (name,), cand, sub)
                    break
        # inline modules (non-test) are treated as part of the file

    def child_mods(self, mpath):
        return {p[-1] for p in self.files if len(p) == len(mpath) + 1 and p[:-1] == mpath}

    def reexports(self, mpath):
        """name -> absolute path tuple of the `use` items of module mpath (pub or private)."""
        out = {}
        for m in re.finditer(r'\buse\s+([^;]+);', self.text[mpath]):
            for full in expand(m.group(1).replace('\n', ' ')):
                segs = [s.strip() for s in full.split('::') if s.strip()]
                alias = None
                if segs and ' as ' in segs[-1]:
                    last, alias = [x.strip() for x in segs[-1].split(' as ')]
                    segs[-1] = last
                if not segs or segs[-1] in ('*', 'self'): continue
                ab = self.absolute(mpath, segs)
                if ab is not None:
                    out[alias or segs[-1]] = ab
        return out

    def absolute(self, mpath, segs):
        if segs[0] == 'crate': return ((), tuple(segs[1:]))
        if segs[0] in ('super', 'self'):
            p = list(mpath)
            k = 0
            while k < len(segs) and segs[k] in ('super', 'self'):
                if segs[k] == 'super' and p: p.pop()
                k += 1
            return (tuple(p), tuple(segs[k:]))
        if segs[0] in self.child_mods(mpath):
            return (mpath, tuple(segs))
        return None

    def resolve(self, base, rest, depth=0):
        """The file (module path) defining base::rest."""
        m = base
        rest = list(rest)
        while rest:
            s = rest[0]
            if s in self.child_mods(m):
                m = m + (s,); rest.pop(0); continue
            re_ = self.reexports(m) if depth < 12 else {}
            if s in re_ and not re.search(r'\b(struct|enum|fn|trait|type|const|static|macro_rules!)\s+' + s + r'\b', self.text[m]):
                b, r = re_[s]
                return self.resolve(b, list(r) + rest[1:], depth + 1)
            return m
        return m

def expand(tree):
    tree = tree.strip()
    i = tree.find('{')
    if i < 0:
        return [tree]
    prefix = tree[:i]
    body = tree[i + 1:tree.rfind('}')]
    parts, depth, cur = [], 0, ''
    for ch in body:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        depth += ch == '{'; depth -= ch == '}'
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        if p.strip():
            for e in expand(p):
                out.append(prefix + e if e.strip() != 'self' else prefix.rstrip(':'))
    return out

def edges(c):
    E = defaultdict(set)
    for mpath, t in c.text.items():
        paths = []
        body = re.sub(r'\buse\s+[^;]+;', '', t)
        body = re.sub(r'\bmod\s+\w+\s*;', '', body)
        for m in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', t):
            for e in expand(m.group(2).replace('\n', ' ')):
                # a re-export is the module's facade, not an import, unless the file's own code
                # uses the name too
                name = e.split(' as ')[-1].split('::')[-1].strip()
                if m.group(1) and not FACADE and not re.search(r'\b' + re.escape(name) + r'\b', body):
                    continue
                paths.append(e)
        # (a macro path, `crate::params!`, names the crate root, where #[macro_export] puts it)
        paths += re.findall(r'\b(?:crate|super|self)(?:::\w+)+(?![\w!])', body)
        kids = c.child_mods(mpath)
        if kids:
            alt = '|'.join(sorted(kids))
            paths += re.findall(r'(?<![\w:])(?:' + alt + r')(?:::\w+)+(?![\w!])', body)
        for p in paths:
            segs = [s.strip() for s in p.split('::') if s.strip()]
            if segs and ' as ' in segs[-1]: segs[-1] = segs[-1].split(' as ')[0].strip()
            if not segs: continue
            if segs[-1] == '*': segs = segs[:-1]
            ab = c.absolute(mpath, segs)
            if ab is None: continue
            tgt = c.resolve(*ab)
            # a path to a child module of mpath itself (self::child) is not an import circle
            if tgt != mpath:
                E[mpath].add((tgt, '::'.join(segs)))
    return E

def sccs(nodes, adj):
    index, low, st, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
        for w in adj.get(v, ()):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = st.pop(); on.discard(w); comp.append(w)
                if w == v: break
            out.append(comp)
    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index: visit(v)
    return out

FACADE = '--with-reexports' in sys.argv
total = 0
dirs = [a for a in sys.argv[1:] if not a.startswith('--')]
if not dirs:
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'crates')
    dirs = sorted(os.path.join(root, c, 'src') for c in os.listdir(root)
                  if os.path.isdir(os.path.join(root, c, 'src')))
for src in dirs:
    c = Crate(src)
    E = edges(c)
    adj = {k: {t for t, _ in v} for k, v in E.items()}
    for comp in sccs(list(c.files), adj):
        if len(comp) < 2: continue
        total += 1
        rel = lambda m: os.path.relpath(c.files[m], src)
        print(f'{src}: circle of {len(comp)} files: ' + ', '.join(sorted(rel(m) for m in comp)))
        cs = set(comp)
        for a in sorted(comp):
            for t, p in sorted(E[a]):
                if t in cs:
                    print(f'    {rel(a)} -> {rel(t)}   ({p})')
print(f'{total} circle(s)')
sys.exit(1 if total else 0)
