#!/usr/bin/env bash
# Builds OpenWrt ipk packages without the SDK: cross-compiles the static
# binary for each OpenWrt architecture and assembles the archives the way
# current ipkg-build does (opkg-lede accepts nothing else):
#   outer file: gzip-compressed GNU tar of ./debian-binary ./data.tar.gz
#   ./control.tar.gz, in that order; inner tars GNU format, sorted, owner 0/0,
#   mtime SOURCE_DATE_EPOCH, "./" prefixed, gzip -n.
# The files are those openwrt/Makefile's install sections copy: the binary
# plus openwrt/files/ for mapehelper, openwrt/luci-proto-mape/htdocs/ under
# /www for luci-proto-mape.
#
# Also apk packages for OpenWrt 25.x into OUTDIR/apk/ARCH/NAME-VERSION.apk,
# built the way OpenWrt's package-pack.mk calls `apk mkpkg` (see pack_apk),
# with APK=/path/to/apk (apk-tools 3, not in Debian: `make ipk` builds it
# from ../shared/openwrt-pkgtools and sets APK).
#
# NEGATIVE (tests only, openwrt/test/pkg-install.sh): "noprerm" leaves out
# the package's own prerm, "noupgradeguard" its PKG_UPGRADE check,
# "nopostupgrade" the apk post-upgrade script, "conflicts" declares
# Conflicts: map as earlier releases did; the install tests must fail on
# such packages. BINARIES=DIR (tests too) takes the binaries from an earlier
# build of the same VERSION (its OUTDIR/bin) instead of linking them again.
#
# Usage: openwrt/ipk/build.sh OUTDIR VERSION ARCH...
#   ARCH: mipsel_24kc arm_cortex-a9_vfpv3-d16 aarch64_cortex-a72
#         aarch64_generic x86_64
set -euo pipefail

: "${APK:?APK=/path/to/apk (apk-tools 3) is required: make ipk builds it and sets it}"
negative="${NEGATIVE:-}"
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/arches/targets.sh
. "$top/scripts/arches/targets.sh" # arches_ldflags
out="$1"
version="$2"
shift 2
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -f "$out"/*.ipk
rm -rf "$out/apk"

# Reproducible archives: the time of the last commit, else a fixed date.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 1700000000)}"
export SOURCE_DATE_EPOCH="$epoch"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# goenv ARCH: the Go target of an OpenWrt architecture. The binary is pure
# Go and static, so only the instruction set matters: arm_cortex-a9_vfpv3-d16
# is ARMv7 with VFPv3 (GOARM=7 uses 16 double registers only), mipsel_24kc
# has no FPU in most SoCs, hence softfloat.
goenv() {
	case "$1" in
	mipsel_24kc) echo "GOARCH=mipsle GOMIPS=softfloat" ;;
	arm_cortex-a9_vfpv3-d16) echo "GOARCH=arm GOARM=7" ;;
	aarch64_cortex-a72 | aarch64_generic) echo "GOARCH=arm64" ;;
	x86_64) echo "GOARCH=amd64" ;;
	*)
		echo "unknown OpenWrt architecture: $1" >&2
		return 1
		;;
	esac
}

# build_binary ARCH: builds the static binary for ARCH (Go's build cache
# makes repeated builds cheap) and prints its path.
build_binary() {
	local env bin
	env="$(goenv "$1")"
	bin="$out/bin/$(echo "$env" | tr ' =' '_-')/mapehelper"
	mkdir -p "$(dirname "$bin")"
	if [ -n "${BINARIES:-}" ]; then
		cp "$BINARIES/${bin#"$out/bin/"}" "$bin"
		echo "$bin"
		return
	fi
	# shellcheck disable=SC2086 # $env is a list of assignments
	(cd "$top" && env $env GOOS=linux CGO_ENABLED=0 go build -trimpath -gcflags=all=-l \
		-ldflags "-s -w $(arches_ldflags "$1") -X main.version=$version" -o "$bin" ./cmd/mapehelper) >&2
	echo "$bin"
}

# tar_dir DIR FILE: a data or control tar as ipkg-build makes it.
tar_dir() {
	tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$SOURCE_DATE_EPOCH" -C "$1" -cf - . | gzip -n -9 >"$2"
}

# control_fields: prints "Field: value" lines in ipkg-build's order, leaving
# out empty ones. Values come from the variables named like the fields.
control_fields() {
	local f v
	for f in Package Version Depends Conflicts Provides Alternatives Source SourceName \
		License LicenseFiles Section Require-User SourceDateEpoch URL ABIVersion CPE-ID \
		Maintainer Architecture Installed-Size; do
		v="${fields[$f]:-}"
		[ -n "$v" ] && printf '%s: %s\n' "$f" "$v"
	done
	# Every description line starts with one space, the first one included.
	printf 'Description:'
	printf '%s\n' "${fields[Description]}" | sed 's/^/ /'
}

# write_wrapper FILE FUNCTION: the postinst/prerm package-pack.mk generates;
# it hands over to OpenWrt's default_postinst/default_prerm, which run the
# package's own postinst-pkg/prerm-pkg. Only the postinst honours
# IPKG_NO_SCRIPT.
write_wrapper() {
	{
		echo '#!/bin/sh'
		# shellcheck disable=SC2016 # expands when the script runs
		[ "$2" = default_postinst ] && echo '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0'
		# shellcheck disable=SC2016
		printf '%s\n' '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0' \
			'. ${IPKG_INSTROOT}/lib/functions.sh' "$2 \$0 \$@"
	} >"$1"
	chmod 0755 "$1"
}

# pack NAME ARCH DATADIR: writes $out/NAME_VERSION_ARCH.ipk from DATADIR and
# the control fields in "fields"; postinst-pkg and prerm-pkg from
# $postinst_pkg and $prerm_pkg if set.
pack() {
	local name="$1" arch="$2" data="$3" pk="$work/pk-$1-$2"
	rm -rf "$pk"
	mkdir -p "$pk/control"
	tar_dir "$data" "$pk/data.tar.gz"
	fields[Architecture]="$arch"
	fields[Installed-Size]="$(gzip -dc "$pk/data.tar.gz" | wc -c)"
	control_fields >"$pk/control/control"
	chmod 0644 "$pk/control/control"
	write_wrapper "$pk/control/postinst" default_postinst
	write_wrapper "$pk/control/prerm" default_prerm
	if [ -n "${postinst_pkg:-}" ]; then
		printf '%s' "$postinst_pkg" >"$pk/control/postinst-pkg"
		chmod 0755 "$pk/control/postinst-pkg"
	fi
	if [ -n "${prerm_pkg:-}" ]; then
		printf '%s\n' "$prerm_pkg" >"$pk/control/prerm-pkg"
		chmod 0755 "$pk/control/prerm-pkg"
	fi
	tar_dir "$pk/control" "$pk/control.tar.gz"
	printf '2.0\n' >"$pk/debian-binary"
	(cd "$pk" && tar --format=gnu --numeric-owner --owner=0 --group=0 \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - ./debian-binary ./data.tar.gz ./control.tar.gz) |
		gzip -n -9 >"$out/${name}_${version}_${arch}.ipk"
	echo "$out/${name}_${version}_${arch}.ipk"
}

# stage_tree SRC DEST: copies a file tree as the SDK's $(CP) does, with
# the modes normalised the way git stores them: 0755 for executables, 0644
# otherwise, directories 0755.
stage_tree() {
	local f rel
	mkdir -p "$2"
	(cd "$1" && find . -type f) | sort | while read -r rel; do
		f="$1/$rel"
		if [ -x "$f" ]; then
			install -D -m 0755 "$f" "$2/$rel"
		else
			install -D -m 0644 "$f" "$2/$rel"
		fi
	done
	find "$2" -type d -exec chmod 0755 {} +
}

# stage_mapehelper DIR BINARY: the mapehelper package: the binary and every
# file of openwrt/files (Package/mapehelper/install in openwrt/Makefile).
stage_mapehelper() {
	stage_tree "$top/openwrt/files" "$1"
	install -D -m 0755 "$2" "$1/usr/bin/mapehelper"
}

# stage_luci DIR: luci-proto-mape's files, laid out as luci.mk does
# (htdocs/ under /www, root/ under /).
stage_luci() {
	local src="$top/openwrt/luci-proto-mape"
	mkdir -p "$1"
	if [ -d "$src/htdocs" ]; then stage_tree "$src/htdocs" "$1/www"; fi
	if [ -d "$src/root" ]; then stage_tree "$src/root" "$1"; fi
}

# pack_apk NAME ARCH DATADIR DEPENDS PROVIDES: an apk v3 package as OpenWrt
# 25.x builds it (package-pack.mk): the files plus lib/apk/packages/NAME.list
# (and the empty conffile lists); post-install runs default_postinst and then
# the package's own postinst; post-upgrade is "export PKG_UPGRADE=1" plus the
# post-install body (apk runs it instead of post-install on an upgrade);
# pre-deinstall runs default_prerm and then the package's own prerm. A
# versioned provides makes apk treat the package as the owner of that name,
# so it conflicts with it.
pack_apk() {
	local name="$1" arch="$2" data="$3" depends="$4" provides="$5" d="$work/apk-$1-$2"
	rm -rf "$d"
	mkdir -p "$d" "$out/apk/$arch"
	cp -a "$data" "$d/files"
	mkdir -p "$d/files/lib/apk/packages"
	(cd "$d/files" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$d/list"
	mv "$d/list" "$d/files/lib/apk/packages/$name.list"
	: >"$d/files/lib/apk/packages/$name.conffiles"
	: >"$d/files/lib/apk/packages/$name.conffiles_static"
	chmod 0644 "$d/files/lib/apk/packages/"*
	find "$d/files" -type d -exec chmod 0755 {} +
	find "$d/files" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	{
		cat <<'EOF'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
EOF
		printf 'export pkgname="%s"\nadd_group_and_user\ndefault_postinst\n' "$name"
		printf '%s\n' "${postinst_pkg:-}" | sed '/^[[:space:]]*#!/d'
	} >"$d/post-install"
	{
		cat <<'EOF'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
EOF
		printf 'export pkgname="%s"\ndefault_prerm\n' "$name"
		printf '%s\n' "${prerm_pkg:-}" | sed '/^[[:space:]]*#!/d'
	} >"$d/pre-deinstall"
	{
		printf '#!/bin/sh\nexport PKG_UPGRADE=1\n'
		sed '/^[[:space:]]*#!/d' "$d/post-install"
	} >"$d/post-upgrade"
	local upgrade=(--script "post-upgrade:$d/post-upgrade")
	[ "$negative" = nopostupgrade ] && upgrade=()
	# shellcheck disable=SC2046 # one --info per provided name
	"$APK" mkpkg \
		--info "name:$name" \
		--info "version:$version" \
		--info "description:$(printf '%s' "${fields[Description]}" | tr '\n' ' ')" \
		--info "arch:$arch" \
		--info "license:${fields[License]}" \
		--info "origin:${fields[Source]}" \
		--info "url:${fields[URL]}" \
		--info "maintainer:${fields[Maintainer]}" \
		--info "depends:$depends" \
		${provides:+--info "provides:$provides"} \
		--script "post-install:$d/post-install" \
		"${upgrade[@]}" \
		--script "pre-deinstall:$d/pre-deinstall" \
		--files "$d/files" \
		--output "$out/apk/$arch/$name-$version.apk"
	echo "$out/apk/$arch/$name-$version.apk"
}

common_fields() {
	declare -gA fields=()
	fields[Version]="$version"
	fields[Source]="feeds/mapehelper/mapehelper"
	fields[SourceName]="$1"
	fields[License]="MIT"
	fields[LicenseFiles]="LICENSE"
	fields[SourceDateEpoch]="$SOURCE_DATE_EPOCH"
	fields[URL]="https://github.com/mapehelper/mapehelper"
	fields[Maintainer]="mapehelper maintainers"
}

umask 022
for arch in "$@"; do
	bin="$(build_binary "$arch")"
	data="$work/data-mapehelper-$arch"
	rm -rf "$data"
	stage_mapehelper "$data" "$bin"
	common_fields mapehelper
	fields[Package]=mapehelper
	fields[Depends]="libc, kmod-ip6-tunnel, kmod-nft-core, kmod-nft-nat, kmod-nf-conntrack-netlink, kmod-nft-connlimit, kmod-sched-core"
	# No Conflicts: map. The shared /lib/netifd/proto/map.sh already makes
	# opkg refuse either package next to the other (a file clash), and a
	# refused `opkg install map` stays in opkg's status as "install ...
	# not-installed", which a Conflicts: map would then hold against every
	# later upgrade of mapehelper (docs/openwrt.md).
	[ "$negative" = conflicts ] && fields[Conflicts]="map"
	fields[Provides]="map"
	fields[Section]="net"
	fields[Description]="$(cat "$here/description-mapehelper.txt")"
	postinst_pkg="$(cat "$here/postinst-mapehelper")"
	prerm_pkg="$(cat "$here/prerm-mapehelper")"
	[ "$negative" = noprerm ] && prerm_pkg=""
	[ "$negative" = noupgradeguard ] && prerm_pkg="$(printf '%s\n' "$prerm_pkg" | grep -v PKG_UPGRADE)"
	pack mapehelper "$arch" "$data"
	pack_apk mapehelper "$arch" "$data" "libc kmod-ip6-tunnel kmod-nft-core kmod-nft-nat kmod-nf-conntrack-netlink kmod-nft-connlimit kmod-sched-core" "map=$version"
done

if [ -d "$top/openwrt/luci-proto-mape" ]; then
	data="$work/data-luci"
	stage_luci "$data"
	common_fields luci-proto-mape
	fields[Package]=luci-proto-mape
	fields[Depends]="libc, mapehelper, luci-base"
	fields[Section]="luci"
	fields[Description]="$(cat "$here/description-luci.txt")"
	postinst_pkg="$(cat "$here/postinst-luci")"
	prerm_pkg=""
	pack luci-proto-mape all "$data"
	pack_apk luci-proto-mape noarch "$data" "libc mapehelper luci-base" ""
else
	echo "openwrt/luci-proto-mape/ does not exist yet: no luci-proto-mape ipk" >&2
fi
