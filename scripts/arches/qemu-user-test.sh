#!/bin/sh
# shellcheck disable=SC1091 # targets.sh is checked with shellcheck -x by mk/arches.mk
# Runs the unit tests of every package for one target architecture under
# qemu-user (`go test -exec 'qemu-ARCH-static -cpu CPU'`), x86_64 natively,
# and prints the pass/skip/fail counts of the top-level tests.
#
# The run is unprivileged (user nobody), like a developer's `go test`
# without root: tests that need root and a network namespace skip exactly
# as they do natively for non-root (dataplane/nstest.Require), because
# qemu-user cannot run them anyway: it refuses every netlink protocol but
# ROUTE, AUDIT and KOBJECT_UEVENT, so nf_tables cannot be reached. Those
# tests run as root natively in `make unit`, and the kernel side of every
# architecture is proven by the VM test on that architecture's own kernel.
#
# Tests that exec the foreign binary from a shell script (openwrt/test)
# need the kernel's binfmt_misc to hand foreign ELF files to qemu; this
# script registers Debian's qemu-user-static entries when they are missing
# (root only). QEMU_CPU passes the CPU model to those children too.
#
# usage: scripts/arches/qemu-user-test.sh WORKDIR ARCH
# Under CI=true a missing qemu or binfmt_misc is a failure, never a skip.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/arches/targets.sh
. "$here/targets.sh"

[ "$#" -eq 2 ] || { echo "usage: $0 WORKDIR ARCH" >&2; exit 2; }
work="$1"
arch="$2"
goenv="$(arches_field "$arch" 2)"
qemu="$(arches_field "$arch" 3)"
cpu="$(arches_field "$arch" 4)"

missing() {
	if [ "${CI:-}" = true ]; then
		echo "arches: FAIL: $arch: $* (CI=true: a missing tool is a failure)" >&2
		exit 1
	fi
	echo "arches: SKIP: $arch: $* (not under CI; run 'make deps')" >&2
	exit 0
}

exec_flag=""
if [ -n "$qemu" ]; then
	command -v "qemu-$qemu-static" >/dev/null 2>&1 || missing "qemu-$qemu-static not installed"
	exec_flag="qemu-$qemu-static -cpu $cpu"
	bf=/proc/sys/fs/binfmt_misc
	if [ ! -e "$bf/register" ]; then
		mount -t binfmt_misc binfmt_misc "$bf" 2>/dev/null || missing "binfmt_misc not mounted and cannot be mounted"
	fi
	if [ ! -e "$bf/qemu-$qemu" ]; then
		conf="/usr/lib/binfmt.d/qemu-$qemu.conf"
		[ -f "$conf" ] || missing "$conf missing (qemu-user-static)"
		cat "$conf" >"$bf/register" 2>/dev/null || missing "cannot register $conf in binfmt_misc"
	fi
fi
id nobody >/dev/null 2>&1 || missing "no user nobody"
command -v setpriv >/dev/null 2>&1 || missing "setpriv (util-linux) not installed"

# nobody cannot read root's module cache: serve a copy of its download
# cache as a file:// proxy (go.sum still verifies every module), and give
# nobody its own build cache, kept between runs.
mkdir -p "$work"
work="$(cd "$work" && pwd)"
asnobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
# Below a private directory (a clone in /root) nobody reaches nothing: keep
# nobody's files in a shared temporary directory then.
if ! asnobody test -x "$work"; then
	work="${TMPDIR:-/var/tmp}/mapehelper-arches-user"
	mkdir -p "$work"
	chmod 755 "$work"
fi
rm -rf "$work/modproxy"
cp -a "$(go env GOMODCACHE)/cache/download" "$work/modproxy"
mkdir -p "$work/home" "$work/gocache" "$work/gomod"
chown -R 65534:65534 "$work/home" "$work/gocache" "$work/gomod"
chmod -R a+rX "$work/modproxy"
log="$work/unit-$arch.log"

# nobody must read the tree; a clone under a private home cannot be, so
# test a copy of it then (without build output and VM work files).
src="$repo"
if ! asnobody test -r "$repo/go.mod"; then
	src="$work/src"
	rm -rf "$src"
	mkdir -p "$src"
	(cd "$repo" && tar -cf - --exclude=./.git --exclude=./build --exclude=./vmtest/work .) | (cd "$src" && tar -xf -)
	chmod -R a+rX "$src"
	echo "arches: $repo is not readable by nobody; testing a copy in $src"
fi

start="$(date +%s)"
rc=0
# shellcheck disable=SC2086 # $goenv is a list of assignments
(cd "$src" && asnobody \
	env -i PATH="$(dirname "$(command -v go)"):/usr/sbin:/usr/bin:/sbin:/bin" HOME="$work/home" \
	GOCACHE="$work/gocache" GOMODCACHE="$work/gomod" GOPROXY="file://$work/modproxy" GOSUMDB=off \
	GOFLAGS=-buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0 QEMU_CPU="$cpu" $goenv \
	go test -count=1 -v -timeout 15m ${exec_flag:+-exec "$exec_flag"} ./...) >"$log" 2>&1 || rc=$?
end="$(date +%s)"

pass="$(grep -c '^--- PASS' "$log" || true)"
skip="$(grep -c '^--- SKIP' "$log" || true)"
fail="$(grep -c '^--- FAIL' "$log" || true)"
pkgok="$(grep -c '^ok ' "$log" || true)"
pkgfail="$(grep -c '^FAIL[[:space:]]' "$log" || true)"
echo "arches: unit $arch (${exec_flag:-native}): $pass passed, $skip skipped, $fail failed top-level tests; $pkgok packages ok, $pkgfail failed; $((end - start))s (log $log)"
if [ "$skip" -gt 0 ]; then
	echo "arches: skipped (as in a native run without root), with the reason the test gave:"
	awk '/^--- SKIP: /{print "  " $3 ": " prev} {sub(/^[ \t]+/, ""); prev=$0}' "$log"
fi
if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$pkgfail" -ne 0 ]; then
	echo "arches: FAIL: unit tests under $arch:" >&2
	grep -E '^(--- FAIL|FAIL|panic:)' "$log" >&2 || tail -n 30 "$log" >&2
	exit 1
fi
