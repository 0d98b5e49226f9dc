#!/usr/bin/env python3
"""Helpers for bench/sbom.sh (python3 stdlib only).

    benchlib.py evict PATH...                  drop PATHs (files, or every file below a directory)
                                               from the page cache: posix_fadvise(DONTNEED)
    benchlib.py layers LAYOUT                  print the layer blob paths of an OCI layout's
                                               (first) manifest, one per line
    benchlib.py parse-time FILE                print "wall user sys maxrss_kb" from a
                                               `/usr/bin/time -f '%e %U %S %M' -o FILE` file
    benchlib.py inflate FILE...                gunzip FILEs to nowhere with the stdlib's zlib
                                               (another decompression floor)
    benchlib.py count portcullis|syft JSON     print "total deb EXTRA" package counts; EXTRA is one
                                               token: types=T:N,...;owned=N;files=N;hashed=N;secrets=N;bytes=N
                                               (owned: packages another package owns, portcullis `owner`,
                                               syft `ownership-by-file-overlap` children; files/hashed: file
                                               entries and those with a digest; bytes: size of the document)
    benchlib.py report RESULTS COUNTS META     print the markdown report

RESULTS is a TSV written by sbom.sh, one row per timed run:
    section image source state tool run wall user sys rss_kb rc
(section: lab, floor, many, warmup; tool: portcullis, syft, floor). COUNTS is a TSV
"image source tool total deb [EXTRA]". META is a file of "key<TAB>value" lines. When the
SBOMs of the warm-up runs are still in RESULTS' folder (out/IMAGE.SOURCE.TOOL.json,
out/IMAGE.TOOL.json), the report also lists the packages (type, name, version) only one
tool found.
"""
import json
import math
import os
import statistics
import sys
from collections import defaultdict


# ---------------------------------------------------------------- small commands

def evict(paths):
    nfiles = nbytes = 0
    for p in paths:
        if os.path.isdir(p):
            todo = []
            for d, _, files in os.walk(p):
                todo.extend(os.path.join(d, f) for f in files)
        else:
            todo = [p]
        for f in todo:
            try:
                fd = os.open(f, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)  # dirty pages are not dropped by DONTNEED
            except OSError:
                pass
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            nbytes += os.fstat(fd).st_size
            os.close(fd)
            nfiles += 1
    print("%d files, %d bytes" % (nfiles, nbytes))


def layers(layout):
    blob = lambda d: os.path.join(layout, "blobs", *d.split(":", 1))
    with open(os.path.join(layout, "index.json")) as f:
        desc = json.load(f)["manifests"][0]
    with open(blob(desc["digest"])) as f:
        m = json.load(f)
    while "manifests" in m:  # nested index: take linux/amd64 or the first entry
        ms = m["manifests"]
        pick = next((x for x in ms if x.get("platform", {}).get("architecture") == "amd64"), ms[0])
        with open(blob(pick["digest"])) as f:
            m = json.load(f)
    for layer in m["layers"]:
        print(blob(layer["digest"]))


def inflate(paths):
    import zlib
    for p in paths:
        with open(p, "rb") as f:
            d = zlib.decompressobj(31)  # gzip wrapper
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                d.decompress(b)
                while d.unused_data:  # multi-member gzip
                    rest = d.unused_data
                    d = zlib.decompressobj(31)
                    d.decompress(rest)


def parse_time(path):
    # GNU time prepends "Command exited with non-zero status N" on failure: take the last line.
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    wall, user, sys_, rss = lines[-1].split()
    print(wall, user, sys_, rss)


def load_packages(tool, path):
    """(document, packages) of a portcullis JSON or a syft-json document."""
    with open(path) as f:
        doc = json.load(f)
    if tool == "portcullis":
        if isinstance(doc, list):
            doc = doc[0]
        return doc, doc["packages"]
    return doc, doc["artifacts"]


def count(tool, path):
    doc, pk = load_packages(tool, path)
    types = defaultdict(int)
    for p in pk:
        types[p.get("type") or "?"] += 1
    files = doc.get("files") or []
    if tool == "portcullis":
        owned = sum(1 for p in pk if p.get("owner"))
        hashed = sum(1 for f in files if f.get("sha256"))
        secrets = len(doc.get("secrets") or [])
    else:
        owned = len({r["child"] for r in doc.get("artifactRelationships") or []
                     if r.get("type") == "ownership-by-file-overlap"})
        hashed = sum(1 for f in files if f.get("digests"))
        secrets = len(doc.get("secrets") or [])
    extra = "types=%s;owned=%d;files=%d;hashed=%d;secrets=%d;bytes=%d" % (
        ",".join("%s:%d" % kv for kv in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))),
        owned, len(files), hashed, secrets, os.path.getsize(path))
    print(len(pk), sum(1 for p in pk if p.get("type") == "deb"), extra)


def parse_extra(tok):
    d = {}
    for part in tok.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            d[k] = v
    return d


def package_diff(pjson, sjson):
    """(only portcullis, only syft): sorted (type, name, version) tuples."""
    key = lambda p: (p.get("type") or "?", p.get("name") or "?", p.get("version") or "")
    ps = {key(p) for p in load_packages("portcullis", pjson)[1]}
    ss = {key(p) for p in load_packages("syft", sjson)[1]}
    return sorted(ps - ss), sorted(ss - ps)


# ---------------------------------------------------------------- report

def med(xs):
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "–" if x is None else ("%.2f s" % x if x < 100 else "%.0f s" % x)


def fmt_mb(kb):
    return "–" if kb is None else "%.0f MB" % (kb * 1024 / 1e6)


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return "%.2f" % (a / b)


def fmt_range(xs, f):
    if not xs:
        return "–"
    return "%s–%s" % (f(min(xs)).split()[0], f(max(xs)))


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


class Cell:
    """All timed runs of one (section, image, source, state, tool)."""

    def __init__(self):
        self.wall, self.cpu, self.rss, self.failed = [], [], [], 0

    def add(self, wall, user, sys_, rss, rc):
        if rc != 0:
            self.failed += 1
            return
        self.wall.append(wall)
        self.cpu.append(user + sys_)
        self.rss.append(rss)

    def m(self, attr):
        return med(getattr(self, attr))

    def show(self, attr, f):
        if self.failed and not getattr(self, attr):
            return "FAILED"
        s = f(self.m(attr))
        return s + (" (%d failed)" % self.failed if self.failed and attr == "wall" else "")


def report(results, counts_path, meta_path):
    cells = defaultdict(Cell)
    order = []
    with open(results) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            sec, img, src, state, tool, _run, wall, user, sys_, rss, rc = line.rstrip("\n").split("\t")
            key = (sec, img, src, state, tool)
            if key not in cells:
                order.append(key)
            cells[key].add(float(wall), float(user), float(sys_), int(rss), int(rc))
    counts = {}
    if os.path.exists(counts_path):
        with open(counts_path) as f:
            for line in f:
                if line.strip():
                    f_ = line.split()
                    img, src, tool, total, deb = f_[:5]
                    counts[(img, src, tool)] = (int(total), int(deb),
                                                parse_extra(f_[5]) if len(f_) > 5 else {})
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            for line in f:
                if "\t" in line:
                    k, v = line.rstrip("\n").split("\t", 1)
                    meta[k] = v

    def rows_of(sec):
        seen, out = set(), []
        for (s, img, src, state, _tool) in order:
            if s == sec and (img, src, state) not in seen:
                seen.add((img, src, state))
                out.append((img, src, state))
        return out

    out = []
    w = out.append

    # Decompression floor (per image, warm)
    floor = {}
    for (img, src, state) in rows_of("floor"):
        floor[(img, src)] = cells[("floor", img, src, state, "floor")]

    def floor_str(img):
        cs = [floor.get((img, k)) for k in ("seq", "par", "zlib")]
        if not any(cs):
            return "–"
        return " / ".join(fmt_s(c.m("wall")).replace(" s", "") if c else "–" for c in cs) + " s"

    lab = rows_of("lab")
    if lab:
        w("### Lab images: `portcullis sbom` vs `syft` (median of each cell)\n")
        w("Ratios are portcullis / syft (below 1 means portcullis is faster or smaller). "
          "CPU = user + sys. RSS = peak resident set. Floor = time to merely decompress all layer blobs "
          "of the OCI layout to /dev/null, warm: `zcat` sequential / `xargs -P` parallel zcat / python `zlib` sequential. Packages: deb packages "
          "(all packages, of any type) found by each tool.\n")
        w("| image | source | state | portcullis wall | CPU | RSS | syft wall | CPU | RSS "
          "| wall ratio | CPU ratio | RSS ratio | floor seq / par / zlib | pkgs portcullis deb (all) | pkgs syft deb (all) |")
        w("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for img, src, state in lab:
            p = cells[("lab", img, src, state, "portcullis")]
            s = cells[("lab", img, src, state, "syft")]
            pc = counts.get((img, src, "portcullis"))
            sc = counts.get((img, src, "syft"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                img, src, state,
                p.show("wall", fmt_s), p.show("cpu", fmt_s), p.show("rss", fmt_mb),
                s.show("wall", fmt_s), s.show("cpu", fmt_s), s.show("rss", fmt_mb),
                fmt_ratio(p.m("wall"), s.m("wall")), fmt_ratio(p.m("cpu"), s.m("cpu")),
                fmt_ratio(p.m("rss"), s.m("rss")),
                floor_str(img),
                "%d (%d)" % (pc[1], pc[0]) if pc else "–",
                "%d (%d)" % (sc[1], sc[0]) if sc else "–"))
        w("")
        # summary of ratios
        w("Ratio summary (portcullis / syft, over all image × source cells of a state; "
          "target: at most 0.5, aim 0.2):\n")
        w("| state | cells | wall ratio geomean | min | max | RSS ratio geomean | min | max | CPU ratio geomean |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for state in sorted({st for _, _, st in lab}):
            wr, rr, cr = [], [], []
            for img, src, st in lab:
                if st != state:
                    continue
                p = cells[("lab", img, src, st, "portcullis")]
                s = cells[("lab", img, src, st, "syft")]
                if p.wall and s.wall:
                    wr.append(p.m("wall") / s.m("wall"))
                    rr.append(p.m("rss") / s.m("rss"))
                    cr.append(p.m("cpu") / s.m("cpu"))
            if wr:
                w("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
                    state, len(wr), geomean(wr), min(wr), max(wr),
                    geomean(rr), min(rr), max(rr), geomean(cr)))
        w("")
        w("Spread of the timed runs (min–max; cold and warm runs counted separately):\n")
        w("| image | source | state | runs | portcullis wall | portcullis RSS | syft wall | syft RSS |")
        w("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for img, src, state in lab:
            p = cells[("lab", img, src, state, "portcullis")]
            s = cells[("lab", img, src, state, "syft")]
            w("| %s | %s | %s | %d + %d | %s | %s | %s | %s |" % (
                img, src, state, len(p.wall) + p.failed, len(s.wall) + s.failed,
                fmt_range(p.wall, fmt_s), fmt_range(p.rss, fmt_mb),
                fmt_range(s.wall, fmt_s), fmt_range(s.rss, fmt_mb)))
        w("")

    if floor:
        w("### Decompression floor (warm, OCI layout layer blobs → /dev/null)\n")
        w("| image | gzip MB | zcat sequential wall (min–max) | CPU | xargs -P%s zcat wall (min–max) | CPU "
          "| python zlib sequential wall (min–max) | CPU |" % meta.get("nproc", "N"))
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        imgs = []
        for (img, _src) in floor:
            if img not in imgs:
                imgs.append(img)
        for img in imgs:
            row = [img, meta.get("gzip_mb." + img, "–")]
            for k in ("seq", "par", "zlib"):
                c = floor.get((img, k))
                row += ["%s (%s)" % (fmt_s(c.m("wall")), fmt_range(c.wall, fmt_s)) if c else "–",
                        fmt_s(c.m("cpu")) if c else "–"]
            w("| " + " | ".join(row) + " |")
        w("")

    many = rows_of("many")
    if many:
        w("### Synthetic many-files image (warm, median)\n")
        w("| image | files | gzip MB | tar MB | portcullis wall | CPU | RSS | syft wall | CPU | RSS "
          "| wall ratio | RSS ratio | floor seq / par / zlib | pkgs portcullis deb (all) | pkgs syft deb (all) |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for img, src, state in many:
            p = cells[("many", img, src, state, "portcullis")]
            s = cells[("many", img, src, state, "syft")]
            pc = counts.get((img, src, "portcullis"))
            sc = counts.get((img, src, "syft"))
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                img, meta.get("files." + img, "–"), meta.get("gzip_mb." + img, "–"),
                meta.get("tar_mb." + img, "–"),
                p.show("wall", fmt_s), p.show("cpu", fmt_s), p.show("rss", fmt_mb),
                s.show("wall", fmt_s), s.show("cpu", fmt_s), s.show("rss", fmt_mb),
                fmt_ratio(p.m("wall"), s.m("wall")), fmt_ratio(p.m("rss"), s.m("rss")),
                floor_str(img),
                "%d (%d)" % (pc[1], pc[0]) if pc else "–",
                "%d (%d)" % (sc[1], sc[0]) if sc else "–"))
        w("")
        w("| image | runs | portcullis wall (min–max) | portcullis RSS (min–max) | syft wall (min–max) | syft RSS (min–max) |")
        w("| --- | ---: | ---: | ---: | ---: | ---: |")
        for img, src, state in many:
            p = cells[("many", img, src, state, "portcullis")]
            s = cells[("many", img, src, state, "syft")]
            w("| %s | %d + %d | %s | %s | %s | %s |" % (
                img, len(p.wall) + p.failed, len(s.wall) + s.failed,
                fmt_range(p.wall, fmt_s), fmt_range(p.rss, fmt_mb),
                fmt_range(s.wall, fmt_s), fmt_range(s.rss, fmt_mb)))
        w("")
    # Packages by type, and what only one tool found
    keys = []
    for (img, src, tool) in counts:
        if (img, src) not in keys:
            keys.append((img, src))
    if any(counts[k][2] for k in counts):
        w("### Packages by type (warm-up run of each cell)\n")
        w("Per image; sources are merged into one row when both tools report the same on each. "
          "Owned: packages that another package owns (portcullis `owner`; syft "
          "`ownership-by-file-overlap` relationships). Files: file entries in the document "
          "(with a digest). Doc: size of the JSON document.\n")
        w("| image | sources | portcullis by type | syft by type | owned portcullis / syft "
          "| files portcullis (with sha256) | files syft (with digests) | doc portcullis / syft | secrets portcullis |")
        w("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        rows = []  # (img, [srcs], p extra, s extra)

        def sig(e):
            return (e.get("types"), e.get("owned"), e.get("files"), e.get("hashed"), e.get("secrets"))
        for img, src in keys:
            pe = counts.get((img, src, "portcullis"), (0, 0, {}))[2]
            se = counts.get((img, src, "syft"), (0, 0, {}))[2]
            for r in rows:
                if r[0] == img and sig(r[2]) == sig(pe) and sig(r[3]) == sig(se):
                    r[1].append(src)
                    r[4].append((pe.get("bytes"), se.get("bytes")))
                    break
            else:
                rows.append((img, [src], pe, se, [(pe.get("bytes"), se.get("bytes"))]))

        def mb(b):
            if not b:
                return "–"
            b = int(b)
            return "%.1f MB" % (b / 1e6) if b >= 100000 else "%.0f KB" % (b / 1e3)

        def mbr(bs):
            xs = sorted({mb(b) for b in bs})
            return xs[0] if len(xs) == 1 else "%s–%s" % (xs[0].split()[0], xs[-1])
        for img, srcs, pe, se, sizes in rows:
            w("| %s | %s | %s | %s | %s / %s | %s (%s) | %s (%s) | %s / %s | %s |" % (
                img, ", ".join(srcs),
                (pe.get("types") or "–").replace(",", ", "), (se.get("types") or "–").replace(",", ", "),
                pe.get("owned", "–"), se.get("owned", "–"),
                pe.get("files", "–"), pe.get("hashed", "–"), se.get("files", "–"), se.get("hashed", "–"),
                mbr([b for b, _ in sizes]), mbr([b for _, b in sizes]), pe.get("secrets", "–")))
        w("")
    outdir = os.path.join(os.path.dirname(os.path.abspath(results)), "out")
    diffs = []
    for img, src in keys:
        cands = [(os.path.join(outdir, "%s.%s.%%s.json" % (img, src))),
                 (os.path.join(outdir, "%s.%%s.json" % img))]
        for c in cands:
            pj, sj = c % "portcullis", c % "syft"
            if os.path.exists(pj) and os.path.exists(sj):
                try:
                    op, os_ = package_diff(pj, sj)
                except (OSError, ValueError, KeyError):
                    break
                diffs.append((img, src, op, os_))
                break
    if diffs:
        w("### Packages only one tool reports (type, name, version)\n")
        same = [("%s %s" % (i, s_)) for i, s_, a, b in diffs if not a and not b]
        if same:
            w("Identical sets of (type, name, version): %s.\n" % ", ".join(same))
        for img, src, op, os_ in diffs:
            if op or os_:
                fm = lambda xs: ", ".join("%s %s %s" % t for t in xs[:15]) + (" …" if len(xs) > 15 else "") or "none"
                w("- %s %s: only portcullis (%d): %s; only syft (%d): %s" % (
                    img, src, len(op), fm(op), len(os_), fm(os_)))
        w("")
    print("\n".join(out))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "evict":
        evict(args)
    elif cmd == "layers":
        layers(args[0])
    elif cmd == "inflate":
        inflate(args)
    elif cmd == "parse-time":
        parse_time(args[0])
    elif cmd == "count":
        count(args[0], args[1])
    elif cmd == "report":
        report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
