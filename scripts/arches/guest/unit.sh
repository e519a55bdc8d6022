#!/bin/sh
# Guest scenario (vmtest.scenario=unit.sh) of scripts/arches/vm-unit.sh:
# runs each cross-built test binary in /usr/lib/mapehelper-tests as root on
# this architecture's kernel, the tests qemu-user cannot run (nf_tables
# over netlink, network namespaces). One "VMTEST PASS|FAIL unit PKG" line
# per binary; the exit status is non-zero when any failed.
rc=0
# The tunnel guard's tc modules are in the initramfs: a missing one is a failure here.
export MAPEHELPER_NEED_TC=1
# Modules beyond the data plane's (vm-unit.sh); those already loaded fail
# with "File exists", which is fine.
while read -r m; do
	insmod "/lib/modules/extra/$m" 2>/dev/null || true
done </etc/unit-modules.order
# Tests that need ip6_tunnel fail here instead of checking the fallback.
export MAPEHELPER_NEED_IP6TNL=1
cd /tmp || exit 1
for bin in /usr/lib/mapehelper-tests/*.test; do
	name="$(basename "$bin" .test)"
	out="/tmp/$name.out"
	start="$(date +%s)"
	"$bin" -test.v -test.count=1 -test.timeout=10m >"$out" 2>&1
	code=$?
	secs=$(($(date +%s) - start))
	pass="$(grep -c '^--- PASS' "$out")"
	skip="$(grep -c '^--- SKIP' "$out")"
	fail="$(grep -c '^--- FAIL' "$out")"
	skipped="$(awk '/^--- SKIP: /{printf "%s%s (%s)", sep, $3, prev; sep="; "} {sub(/^[ \t]+/, ""); prev=$0}' "$out")"
	if [ "$code" -eq 0 ] && [ "$fail" -eq 0 ]; then
		echo "VMTEST PASS unit $name: $pass passed, $skip skipped, ${secs}s${skipped:+; skipped: $skipped}"
	else
		rc=1
		echo "VMTEST FAIL unit $name: exit $code, $pass passed, $fail failed, $skip skipped, ${secs}s"
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP)|[[:space:]]+--- (PASS|SKIP))' "$out" | head -n 150 | sed 's/^/VMTEST   /'
	fi
done
exit "$rc"
