#!/bin/sh
# Tests run.sh's answer to a guest kernel that locks up, with a stand-in
# qemu first in PATH (no VM boots): one lockup is reported and the run
# repeated once (PASS if the repeat passes); two in a row fail, with the
# kernel's report printed. Run by `make vmtest` before the real VM.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
# fakeqemu LOCKUPS: a qemu whose first LOCKUPS runs print a soft lockup
# and stop, and whose later runs pass.
fakeqemu() {
	cat >"$tmp/bin/qemu-system-x86_64" <<-EOF2
		#!/bin/sh
		n=\$(cat "$tmp/runs" 2>/dev/null || echo 0)
		echo \$((n + 1)) >"$tmp/runs"
		echo "VMTEST step capacity (t=6s)"
		if [ "\$n" -lt $1 ]; then
			echo "[   46.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [ksoftirqd/0:14]"
			echo "[   46.1] Call Trace: retry-test-marker"
			exit 0
		fi
		echo "VMTEST PASS fake"
		echo "VMTEST END rc=0"
	EOF2
	chmod 755 "$tmp/bin/qemu-system-x86_64"
	rm -f "$tmp/runs"
}
fail=0
check() { # NAME CONDITION-RESULT DETAIL
	if [ "$2" = 1 ]; then echo "retry-test: PASS $1"; else echo "retry-test: FAIL $1: $3"; fail=1; fi
}
fakeqemu 1
rc=0
PATH="$tmp/bin:$PATH" VMTEST_WORK="$tmp/work" sh "$here/run.sh" -t 60 >"$tmp/out" 2>&1 || rc=$?
if grep -q '^vmtest: SKIP' "$tmp/out"; then
	cat "$tmp/out" # no kernel image here, and not under CI (run.sh fails there)
	exit 0
fi
check "one lockup: repeated once, then PASS" "$([ "$rc" = 0 ] && [ "$(cat "$tmp/runs")" = 2 ] && grep -q retry-test-marker "$tmp/out" && [ -f "$tmp/work/console.lockup.log" ] && echo 1)" \
	"rc=$rc runs=$(cat "$tmp/runs"); $(tail -n 3 "$tmp/out")"
fakeqemu 2
rc=0
PATH="$tmp/bin:$PATH" VMTEST_WORK="$tmp/work" sh "$here/run.sh" -t 60 >"$tmp/out" 2>&1 || rc=$?
check "two lockups: FAIL with the kernel's report" "$([ "$rc" != 0 ] && [ "$(cat "$tmp/runs")" = 2 ] && grep -q 'FAIL: the guest did not finish' "$tmp/out" && grep -q retry-test-marker "$tmp/out" && echo 1)" \
	"rc=$rc runs=$(cat "$tmp/runs"); $(tail -n 3 "$tmp/out")"
exit "$fail"
