#!/bin/sh
# lib/ is grouped by layer (LIB_LAYERS in the Makefile, lowest first): a
# file may include the headers of its own layer and of the layers below it,
# never those above, and no module reaches itself through its includes.
. "$(dirname "$0")/lib.sh"

layers=$(sed -n 's/^LIB_LAYERS *= *//p' "$TOP/Makefile")
ok "the Makefile names the layers of lib/" test -n "$layers"

# Prints one line per breach; nothing when the rules hold.
check() {  # MODE
    python3 - "$TOP/lib" "$1" $layers <<'PY'
import os, re, sys
top, mode, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
rank = {l: i for i, l in enumerate(layers)}
where, deps = {}, {}
for entry in sorted(os.listdir(top)):
    p = os.path.join(top, entry)
    if mode == "placed" and os.path.isfile(p) and entry.endswith((".c", ".h")):
        print("lib/%s is in no layer" % entry)
    if os.path.isdir(p) and entry in rank:
        for f in sorted(os.listdir(p)):
            if f.endswith((".c", ".h")):
                where[f] = entry
for f, layer in where.items():
    text = open(os.path.join(top, layer, f), encoding="utf-8").read()
    mod = f.rsplit(".", 1)[0]
    for h in re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
        if h not in where:
            if mode == "below":
                print("lib/%s/%s includes %s, which is in no layer" % (layer, f, h))
            continue
        if mode == "below" and rank[where[h]] > rank[layer]:
            print("lib/%s/%s (%s) includes %s of the higher layer %s" % (layer, f, layer, h, where[h]))
        deps.setdefault(mod, set()).add(h.rsplit(".", 1)[0])
# A header without a .c of its own (report_model.h) is a private part of the
# module whose sources include it: its includes count as theirs.
modules = {f.rsplit(".", 1)[0] for f in where if f.endswith(".c")}
def expand(m, seen):
    out = set()
    for n in deps.get(m, ()):
        if n in modules:
            out.add(n)
        elif n not in seen:
            seen.add(n)
            out |= expand(n, seen)
    return out
deps = {m: expand(m, {m}) - {m} for m in list(deps) if m in modules}
if mode == "acyclic":
    state = {}
    def visit(m, path):
        state[m] = 1
        for n in sorted(deps.get(m, ())):
            if state.get(n) == 1:
                print("cycle: " + " -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2
    for m in sorted(deps):
        if m not in state:
            visit(m, [m])
PY
}

is "$(check placed)" "" "every library file lives in the folder of its layer"
is "$(check below)" "" "each layer includes only its own headers and those of the layers below it"
is "$(check acyclic)" "" "no library module includes itself through other modules"

# The deprecated ENGINE API lives in the one file that talks to tokens.
is "$(grep -rlE --include='*.[ch]' 'ENGINE_|openssl/engine\.h' "$TOP/lib" "$TOP/bin" | sed "s|^$TOP/||")" "lib/pki/pkcs11.c" \
   "only lib/pki/pkcs11.c uses OpenSSL's ENGINE API"

# The checker itself sees a breach: a low layer reaching up is named.
mkdir -p "$T/lib/core" "$T/lib/pki"
printf '#include "b.h"\n' > "$T/lib/core/a.c"
printf '#include "a.h"\n' > "$T/lib/pki/b.h"
printf '#include "a.h"\n' > "$T/lib/pki/b.c"
: > "$T/lib/core/a.h"
out=$(TOP=$T; layers="core pki"; check below)
like "$out" 'lib/core/a.c \(core\) includes b.h of the higher layer pki' "the check names a file that includes a higher layer"
out=$(TOP=$T; layers="core pki"; check acyclic)
like "$out" 'cycle: a -> b -> a' "the check names a cycle of includes"

done_testing
