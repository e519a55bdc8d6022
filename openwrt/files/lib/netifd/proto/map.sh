#!/bin/sh
# shellcheck shell=dash # BusyBox ash: POSIX sh plus 'local', as dash
# netifd protocol handler for proto 'map', replacing the stock map package's
# handler: existing MAP-E / lw4o6 configurations keep working unchanged, now
# with SNAT over every port set and working ping. Same implementation as
# proto 'mape' (../mapehelper.sh); only the protocol name differs.

# shellcheck disable=SC1091 # OpenWrt's own libraries, not in this tree
[ -n "$INCLUDE_ONLY" ] || {
	. /lib/functions.sh
	. /lib/functions/network.sh
	. ../netifd-proto.sh
	init_proto "$@"
}
# netifd runs handlers from /lib/netifd/proto, like ../netifd-proto.sh above.
# shellcheck source=openwrt/files/lib/netifd/mapehelper.sh
. ../mapehelper.sh

proto_map_init_config() {
	mapehelper_init_config
}

proto_map_setup() {
	mapehelper_setup "$1"
}

proto_map_teardown() {
	mapehelper_teardown "$1"
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol map
}
