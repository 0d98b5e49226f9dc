#!/usr/bin/env python3
"""Write a synthetic OCI image layout with many small files (python3 stdlib only).

    bench/many_files.py OUT_DIR [--files N] [--layers 3] [--seed 1]

The layout has N regular files (4 bytes .. 4 KiB each, log-uniform sizes,
text content) spread evenly over LAYERS gzip layers, in directories
/srv/data<L>/<a>/<b>/<c>/ (depth 5, 50 files per leaf directory), plus, in the
first layer, a minimal /etc/os-release (Debian 12) and /var/lib/dpkg/status with
two packages. Everything is deterministic for a given (N, LAYERS, SEED): fixed
mtimes, uid/gid 0, seeded contents. It writes blobs/sha256/*, a config with the
layers' diff_ids and history, a manifest, index.json (ref.name "latest") and
oci-layout, and a marker file OUT_DIR/.complete holding the parameters and sizes, so a
second call with the same parameters returns at once.

Content is chosen so no syft/portcullis cataloger other than os-release/dpkg
triggers: names end in .dat/.txt/.log, contents are plain text.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import sys
import tarfile

MTIME = 1_700_000_000  # fixed, for reproducible layers
FILES_PER_DIR = 50
EXTS = (".dat", ".txt", ".log")

OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""

DPKG_STATUS = b"""Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 343
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files

Package: hostname
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 46
Maintainer: Michael Meskes <meskes@debian.org>
Architecture: amd64
Version: 3.23+nmu1
Description: utility to set/show the host name or domain name

"""


class HashingWriter:
    """File-like sink computing sha256 + size of what is written, forwarding to `out`."""

    def __init__(self, out):
        self.out = out
        self.h = hashlib.sha256()
        self.n = 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        if self.out is not None:
            self.out.write(b)
        return len(b)

    def flush(self):
        if self.out is not None:
            self.out.flush()


def dir_info(name):
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    ti.mtime = MTIME
    ti.uname = ti.gname = "root"
    return ti


def file_info(name, size, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mode = mode
    ti.mtime = MTIME
    ti.uname = ti.gname = "root"
    return ti


def write_layer(path_tmp, layer_idx, nfiles, rng, corpus, extra_files):
    """Write one gzip layer to path_tmp; return (blob digest, blob size, diff_id)."""
    with open(path_tmp, "wb") as raw:
        blob = HashingWriter(raw)
        gz = gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=6, mtime=0)
        diff = HashingWriter(gz)
        tar = tarfile.open(fileobj=diff, mode="w|", format=tarfile.GNU_FORMAT)
        seen_dirs = set()

        def ensure_dirs(path):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen_dirs:
                    seen_dirs.add(d)
                    tar.addfile(dir_info(d + "/"))

        for name, data in extra_files:
            ensure_dirs(name)
            tar.addfile(file_info(name, len(data)), io.BytesIO(data))

        clen = len(corpus)
        for i in range(nfiles):
            leaf = i // FILES_PER_DIR
            a, b, c = (leaf // 256) % 256, (leaf // 16) % 16, leaf % 16
            name = "srv/data%d/%02x/%x/%x/f%06d%s" % (layer_idx, a, b, c, i, EXTS[i % 3])
            ensure_dirs(name)
            # log-uniform size in [4, 4096]
            size = int(4 * (1024 ** rng.random()))
            off = rng.randrange(0, clen - size)
            data = corpus[off:off + size]
            tar.addfile(file_info(name, size), io.BytesIO(data))
        tar.close()
        gz.close()
    return "sha256:" + blob.h.hexdigest(), blob.n, "sha256:" + diff.h.hexdigest(), diff.n


def put_blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=300_000)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    params = {"files": args.files, "layers": args.layers, "seed": args.seed,
              "generator": 1}
    marker = os.path.join(args.out, ".complete")
    if os.path.exists(marker):
        try:
            with open(marker) as f:
                if json.load(f).get("params") == params:
                    print("many_files: %s is up to date (%d files)" % (args.out, args.files),
                          file=sys.stderr)
                    return
        except (OSError, ValueError):
            pass
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    blobs = os.path.join(args.out, "blobs", "sha256")
    os.makedirs(blobs)

    rng = random.Random(args.seed)
    # Text corpus: pseudo-random words, so layers compress like ordinary text files.
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(4000)]
    corpus = " ".join(rng.choice(words) + ("\n" if rng.random() < 0.08 else "")
                      for _ in range(400_000)).encode()

    per_layer = [args.files // args.layers] * args.layers
    per_layer[-1] += args.files - sum(per_layer)
    layers, diff_ids, history = [], [], []
    tar_bytes = 0
    for li in range(args.layers):
        extra = [("etc/os-release", OS_RELEASE), ("var/lib/dpkg/status", DPKG_STATUS)] if li == 0 else []
        tmp = os.path.join(blobs, ".layer%d.tmp" % li)
        digest, size, diff_id, usize = write_layer(tmp, li, per_layer[li], rng, corpus, extra)
        os.rename(tmp, os.path.join(blobs, digest.split(":", 1)[1]))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": digest, "size": size})
        diff_ids.append(diff_id)
        tar_bytes += usize
        history.append({"created": "2023-11-14T22:13:20Z",
                        "created_by": "bench/many_files.py layer %d: %d files" % (li, per_layer[li])})
        print("many_files: layer %d: %d files, %.1f MB gzip, %.1f MB tar"
              % (li, per_layer[li], size / 1e6, usize / 1e6), file=sys.stderr)

    config = {
        "created": "2023-11-14T22:13:20Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cdigest, csize = put_blob(blobs, json.dumps(config, separators=(",", ":")).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdigest, "size": csize},
        "layers": layers,
    }
    mdigest, msize = put_blob(blobs, json.dumps(manifest, separators=(",", ":")).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(marker, "w") as f:
        json.dump({"params": params,
                   "stats": {"files": args.files, "layers": args.layers,
                             "gzip_bytes": sum(l["size"] for l in layers),
                             "tar_bytes": tar_bytes}}, f)
    print("many_files: wrote %s (manifest %s)" % (args.out, mdigest), file=sys.stderr)


if __name__ == "__main__":
    main()
