# shellcheck shell=sh disable=SC2034,SC2154 # sourced by vmtest/run.sh and build-initramfs.sh, which set $here
# The amd64 profile under the OpenWrt arch name, with its own work
# directory (vmtest/work/x86_64), so the arches suites (scripts/arches)
# can boot the x86_64 kernel while the amd64 VM test runs beside them.
# shellcheck source=vmtest/arch/amd64.sh
. "$here/arch/amd64.sh"
