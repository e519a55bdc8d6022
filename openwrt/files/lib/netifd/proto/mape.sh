#!/bin/sh
# shellcheck shell=dash # BusyBox ash: POSIX sh plus 'local', as dash
# netifd protocol handler for proto 'mape': MAP-E with every port set in use.
# Minimal configuration:
#   config interface 'wanmap'
#           option proto 'mape'
#           option tunlink 'wan6'
# The rule is found from the tunnel link's delegated prefix (or its address
# when there is only a /64); every option of the stock 'map' protocol
# overrides it. The work is done by mapehelper; see ../mapehelper.sh.

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

proto_mape_init_config() {
	mapehelper_init_config
}

proto_mape_setup() {
	mapehelper_setup "$1"
}

proto_mape_teardown() {
	mapehelper_teardown "$1"
}

[ -n "$INCLUDE_ONLY" ] || {
	add_protocol mape
}
