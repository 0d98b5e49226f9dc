#!/usr/bin/env bash
# Rebuilds the Go test binaries in this directory from src/ (see README.md).
# Needs Debian's golang-go (go1.19); no network: the one dependency is a
# local module pulled in with a `replace` directive.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work="$tmp/repo"
mkdir "$work"
cp -r "$here/src/." "$work/"
cd "$work"
# A clean repository with a fixed commit, so vcs.revision and vcs.time are
# stable and vcs.modified is false (build outputs and caches stay outside it).
export GIT_AUTHOR_DATE=2024-01-02T03:04:05Z GIT_COMMITTER_DATE=2024-01-02T03:04:05Z
git init -q .
git -c user.name=portcullis -c user.email=tests@portcullis.invalid add -A
git -c user.name=portcullis -c user.email=tests@portcullis.invalid commit -qm 'test binaries'
export GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 GOCACHE="$tmp/cache"
out="$tmp/out"
mkdir "$out"
cd hello
flags="-s -w -X main.version=v1.2.3"
# No -trimpath: only then does Go record -ldflags in the build info.
GOOS=linux GOARCH=amd64 go build -ldflags="$flags" -o "$out/hello-ldflags-linux-amd64" .
# -trimpath drops -ldflags from the build info; the VCS stamp remains.
GOOS=windows GOARCH=amd64 go build -trimpath -ldflags="$flags" -o "$out/hello-vcs-windows-amd64.exe" .
GOOS=darwin GOARCH=arm64 go build -trimpath -buildvcs=false -ldflags="$flags" -o "$out/hello-devel-darwin-arm64" .
cp "$out"/hello-* "$here/"
