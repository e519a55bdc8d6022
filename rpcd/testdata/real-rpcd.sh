#!/bin/sh
# Runs the rpcd plugin and the LuCI ACL under a real ubusd + rpcd built from
# OpenWrt's sources (libubox, ubus, uci, rpcd), without touching the host:
# the tools are installed into a scratch prefix, rpcd reads its plugin and
# ACL directories from that prefix and its /etc/config/rpcd from a private
# mount namespace. Not part of `make test`: CI cannot fetch those sources.
#
#   sh rpcd/testdata/real-rpcd.sh SRC_DIR BINARY
#
# SRC_DIR holds the four source trees (libubox ubus uci rpcd); BINARY is the
# built mapehelper. Needs root (unshare -m), cmake, libjson-c-dev, openssl.
set -eu

src=$(cd "$1" && pwd)
bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
wrapper=$(cd "$(dirname "$0")/../.." && pwd)/openwrt/files/usr/libexec/rpcd/mape
acl=$(cd "$(dirname "$0")/../.." && pwd)/openwrt/files/usr/share/rpcd/acl.d/luci-proto-mape.json
work=${WORK:-/tmp/mapehelper-real-rpcd}
prefix=$work/prefix
sock=$work/ubus.sock
fails=0
passes=0

build() { # source tree name, cmake options...
	d=$1
	shift
	mkdir -p "$work/build/$d"
	(cd "$work/build/$d" &&
		cmake -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" \
			-DCMAKE_C_FLAGS="-I$prefix/include" -DCMAKE_EXE_LINKER_FLAGS="-L$prefix/lib" \
			-DCMAKE_SHARED_LINKER_FLAGS="-L$prefix/lib" "$@" "$src/$d" >"$work/$d.log" 2>&1 &&
		make -j2 >>"$work/$d.log" 2>&1 && make install >>"$work/$d.log" 2>&1) ||
		{ echo "build $d failed, see $work/$d.log" >&2; exit 1; }
}

check() { # name, expected substring, command...
	name=$1 want=$2
	shift 2
	out=$("$@" 2>&1 | tr -d '\n\t ') || true
	case $out in
	*"$want"*) passes=$((passes + 1)); echo "ok   $name" ;;
	*) fails=$((fails + 1)); echo "FAIL $name: want $want, got $out" ;;
	esac
}

mkdir -p "$work"
if [ ! -x "$prefix/sbin/rpcd" ]; then
	build libubox -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF
	build ubus -DBUILD_LUA=OFF -DBUILD_EXAMPLES=OFF
	build uci -DBUILD_LUA=OFF
	build rpcd -DFILE_SUPPORT=OFF -DIWINFO_SUPPORT=OFF -DRPCSYS_SUPPORT=OFF -DUCODE_SUPPORT=OFF
fi

# The plugin exactly as packaged, pointed at the binary under test.
mkdir -p "$prefix/libexec/rpcd" "$prefix/share/rpcd/acl.d"
sed "s|exec /usr/bin/mapehelper|exec $bin|" "$wrapper" >"$prefix/libexec/rpcd/mape"
chmod 755 "$prefix/libexec/rpcd/mape"
cp "$acl" "$prefix/share/rpcd/acl.d/"

# A login whose only grant is the LuCI ACL group, as LuCI's users have.
rm -rf "${work:?}/etc"
cp -a /etc "$work/etc"
mkdir -p "$work/etc/config"
hash=$(openssl passwd -1 secret)
printf "config login\n\toption username 'luci'\n\toption password '%s'\n\tlist read 'luci-proto-mape'\n" "$hash" >"$work/etc/config/rpcd"

LD_LIBRARY_PATH=$prefix/lib
export LD_LIBRARY_PATH
rm -f "$sock"
"$prefix/sbin/ubusd" -s "$sock" &
ubusd=$!
sleep 0.5
unshare -m sh -c "mount --bind '$work/etc' /etc && exec '$prefix/sbin/rpcd' -s '$sock' -t 30" &
rpcd=$!
trap 'kill "$rpcd" "$ubusd" 2>/dev/null' EXIT
sleep 1
u() { "$prefix/bin/ubus" -s "$sock" "$@"; }

check "list declares calc and status" '"calc":{"ealen":"Integer"' u -v list mape
check "list declares status" '"status":{"interface":"String"}' u -v list mape
check "calc seed" '"ipv4":"14.8.52.86"' u call mape calc '{"prefix":"240b:12:3456:7800::/56"}'
check "calc seed ports" '"ports":240' u call mape calc '{"prefix":"240b:12:3456:7800::/56"}'
check "calc manual rule" '"br":"2001:db8::1"' u call mape calc '{"prefix":"240b:12:3456:7800::/56","peeraddr":"2001:db8::1","ipaddr":"14.8.0.0","ip4prefixlen":16,"ip6prefix":"240b:12::","ip6prefixlen":32,"ealen":24,"psidlen":8,"offset":4,"legacymap":true}'
check "calc no rule" '"code":"NO_MATCHING_PD"' u call mape calc '{"prefix":"2001:db8::/56"}'
# shellcheck disable=SC2016 # the $() is the hostile input, sent literally
check "calc hostile" '"code":"INVALID_INPUT"' u call mape calc '{"prefix":"$(reboot)"}'
check "calc unknown key" 'unknownfield' u call mape calc '{"prefix":"240b::/56","evil":"x"}'
big=$(awk 'BEGIN { s = "{\"prefix\":\""; for (i = 0; i < 70000; i++) s = s "a"; print s "\"}" }')
check "calc 70 kB input" '"code":"INPUT_TOO_LARGE' u call mape calc "$big"
check "status" '"interfaces":[' u call mape status

sid=$(u call session login '{"username":"luci","password":"secret"}' | sed -n 's/.*"ubus_rpc_session": "\([0-9a-f]*\)".*/\1/p')
access() { u call session access "{\"ubus_rpc_session\":\"$sid\",\"scope\":\"$1\",\"object\":\"$2\",\"function\":\"$3\"}"; }
check "ACL grants calc" '"access":true' access ubus mape calc
check "ACL grants status" '"access":true' access ubus mape status
check "ACL denies other methods" '"access":false' access ubus mape reboot
check "ACL denies network" '"access":false' access ubus network.interface up
check "ACL denies uci write" '"access":false' access uci network write
check "ACL denies file exec" '"access":false' access ubus file exec

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
