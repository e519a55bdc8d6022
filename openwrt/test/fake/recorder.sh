#!/bin/sh
# shellcheck shell=dash # BusyBox ash: POSIX sh plus 'local', as dash
# A stand-in for netifd's side of the protocol-handler contract, sourced
# before a handler with INCLUDE_ONLY=1. Every proto_* call (and the jshn
# calls a handler makes inside proto_add_data) is appended to $RECORD (format
# below), so tests compare exactly what netifd would receive.
# The jshn subset keeps the loaded document in a variable and answers with jq.
# Also stands in for /lib/functions.sh (config_*) and network.sh.

# _rec NAME ARGS...: one record per call: the number of words, then each
# word, every one followed by a NUL byte (the one byte no shell string can
# hold), so quotes, newlines and leading dashes survive byte for byte.
_rec() {
	printf '%s\0' "$#" "$@" >>"$RECORD"
}

proto_config_add_string() { _rec proto_config_add_string "$@"; }
proto_config_add_int() { _rec proto_config_add_int "$@"; }
proto_config_add_boolean() { _rec proto_config_add_boolean "$@"; }
proto_config_add_array() { _rec proto_config_add_array "$@"; }
proto_init_update() { _rec proto_init_update "$@"; }
proto_add_ipv4_address() { _rec proto_add_ipv4_address "$@"; }
proto_add_ipv6_address() { _rec proto_add_ipv6_address "$@"; }
proto_add_ipv4_route() { _rec proto_add_ipv4_route "$@"; }
proto_add_ipv6_route() { _rec proto_add_ipv6_route "$@"; }
proto_add_data() { _rec proto_add_data "$@"; }
proto_close_data() { _rec proto_close_data "$@"; }
proto_add_tunnel() { _rec proto_add_tunnel "$@"; }
proto_close_tunnel() { _rec proto_close_tunnel "$@"; }
proto_send_update() { _rec proto_send_update "$@"; }
proto_notify_error() { _rec proto_notify_error "$@"; }
proto_block_restart() { _rec proto_block_restart "$@"; }
proto_setup_failed() { _rec proto_setup_failed "$@"; }
proto_add_host_dependency() { _rec proto_add_host_dependency "$@"; }
proto_run_command() { _rec proto_run_command "$@"; }
proto_kill_command() { _rec proto_kill_command "$@"; }

# jshn subset.
_JSHN_DOC='{}'
json_init() { _JSHN_DOC='{}'; }
json_load() { _JSHN_DOC="$1"; }
json_dump() { printf '%s\n' "$_JSHN_DOC"; }
json_add_string() { _rec json_add_string "$@"; }
json_add_int() { _rec json_add_int "$@"; }
json_add_boolean() { _rec json_add_boolean "$@"; }
json_add_object() { _rec json_add_object "$@"; }
json_close_object() { _rec json_close_object "$@"; }
json_add_array() { _rec json_add_array "$@"; }
json_close_array() { _rec json_close_array "$@"; }
# json_get_var VAR KEY: like jshn, scalars only; absent keys give "".
json_get_var() {
	local __v
	__v="$(printf '%s' "$_JSHN_DOC" | jq -r --arg k "$2" \
		'.[$k] | if . == null then "" elif type == "boolean" then (if . then 1 else 0 end) else tostring end')"
	eval "$1=\$__v"
}
json_get_vars() {
	local __k
	for __k in "$@"; do
		json_get_var "$__k" "$__k"
	done
}

# /lib/functions/network.sh: the IPv6 uplink is whatever the test says.
network_find_wan6() {
	eval "$1=\${FAKE_WAN6:-}"
	[ -n "${FAKE_WAN6:-}" ]
}

# /lib/functions.sh, over a UCI "network" package given as JSON in
# $FAKE_UCI: {"section": {".type": "interface", "option": "value", ...}}.
config_load() { _rec config_load "$@"; }
config_get() {
	local __v
	__v="$(printf '%s' "$FAKE_UCI" | jq -r --arg s "$2" --arg o "$3" '.[$s][$o] // "" | tostring')"
	eval "$1=\$__v"
}
config_foreach() {
	local __fn="$1" __type="$2" __s
	shift 2
	for __s in $(printf '%s' "$FAKE_UCI" | jq -r --arg t "$__type" 'to_entries[] | select(.value[".type"] == $t) | .key'); do
		"$__fn" "$__s" "$@"
	done
}

# /sbin/ifup (a function, so BusyBox's own ifup applet cannot win).
ifup() { _rec ifup "$@"; }
