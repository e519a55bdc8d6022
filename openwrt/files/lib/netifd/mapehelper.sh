#!/bin/sh
# shellcheck shell=dash # BusyBox ash: POSIX sh plus 'local', as dash
# Shared netifd glue for the protocol handlers proto/mape.sh and proto/map.sh.
#
# The handlers stay thin: they find the tunnel link's device and IPv6 prefix
# (ubus + jsonfilter, the way OpenWrt's own scripts do), hand the interface's
# options to `mapehelper up --netifd` as JSON on stdin and turn its one-line
# JSON answer into proto_* calls. The binary computes the rule, creates the
# tunnel and installs the SNAT rules; netifd adds the IPv4 address, the
# default route and the firewall zone from what we report.
#
# Option values never pass through eval or an unquoted expansion: they reach
# the binary inside the JSON that netifd itself produced, and the binary's
# answer is read field by field with jsonfilter.
#
# Error codes (proto_notify_error), documented in docs/openwrt.md: the
# binary's ({"code":"CODE","error":"message"} on stdout, e.g.
# INVALID_MAP_RULE, NO_MATCHING_PD, UNSUPPORTED_TYPE, NO_KERNEL_SUPPORT,
# BUSY), and the handler's own, from the same list (LuCI translates them):
#   NO_TUNLINK      no usable tunnel link: none configured and no IPv6
#                   uplink found, or the option is not an interface name
#   MISSING_PREFIX  the tunnel link has no global IPv6 prefix or address yet
#   FAILED          mapehelper failed without saying why
# Only BUSY (another up/down of the same interface holds its lock, or fw4
# holds /var/run/fw4.lock for 20 s) is worth an automatic retry; every
# other error blocks restarts until the next ifup. A failed setup leaves
# nothing of the interface: netifd always runs teardown before setup, so
# there is no previous setup to fall back to.

MAPEHELPER_BIN=mapehelper

# mapehelper_init_config declares every option of the stock map protocol
# (so existing configs keep working) and marks the protocol as device-less:
# the binary creates the tunnel device.
mapehelper_init_config() {
	# shellcheck disable=SC2034 # read by netifd-proto.sh's add_protocol
	no_device=1
	# shellcheck disable=SC2034
	available=1

	proto_config_add_string "maptype"
	proto_config_add_string "type"
	proto_config_add_string "rule"
	proto_config_add_string "ipaddr"
	proto_config_add_int "ip4prefixlen"
	proto_config_add_string "ip6prefix"
	proto_config_add_int "ip6prefixlen"
	proto_config_add_string "peeraddr"
	proto_config_add_int "ealen"
	proto_config_add_int "psidlen"
	proto_config_add_int "psid"
	proto_config_add_int "offset"
	proto_config_add_boolean "legacymap"
	proto_config_add_string "tunlink"
	proto_config_add_int "mtu"
	proto_config_add_int "ttl"
	proto_config_add_string "zone"
	proto_config_add_string "encaplimit"
	proto_config_add_boolean "vrange"
}

# mapehelper_valid_name succeeds when $1 looks like a UCI section name. The
# tunlink becomes part of a ubus object path, so anything else is refused.
mapehelper_valid_name() {
	case "$1" in
	"" | *[!A-Za-z0-9_.-]*) return 1 ;;
	esac
	[ "${#1}" -le 64 ]
}

# mapehelper_link_status TUNLINK: prints netifd's status of the tunnel link.
mapehelper_link_status() {
	ubus call "network.interface.$1" status 2>/dev/null
}

# mapehelper_link_device STATUS: prints the tunnel link's Linux device.
mapehelper_link_device() {
	jsonfilter -s "$1" -e '@.l3_device' 2>/dev/null ||
		jsonfilter -s "$1" -e '@.device' 2>/dev/null
}

# mapehelper_link_prefix STATUS [USED]: prints the prefix of the tunnel link
# the rule is computed from (the first delegated prefix, else the /64 of
# the first global address; the binary decides, see options.LinkPrefix).
# With USED, the prefix the running setup was built from, prints USED
# itself while it is still on the link, however the lists are ordered.
# Nothing when the link has no prefix or address yet.
mapehelper_link_prefix() {
	printf '%s' "$1" | "$MAPEHELPER_BIN" linkprefix --used "$2" 2>/dev/null
}

# mapehelper_fail CFG CODE MESSAGE: reports an error to netifd and decides
# whether netifd may retry on its own.
mapehelper_fail() {
	local cfg="$1" code="$2" msg="$3"
	case "$code" in
	"" | *[!A-Z0-9_]*) code=FAILED ;;
	esac
	if [ -n "$msg" ]; then
		proto_notify_error "$cfg" "$code" "$msg"
	else
		proto_notify_error "$cfg" "$code"
	fi
	if [ "$code" = BUSY ]; then
		sleep "${MAPEHELPER_RETRY_DELAY:-5}"
		proto_setup_failed "$cfg"
	else
		proto_block_restart "$cfg"
	fi
}

# mapehelper_setup CFG: netifd's setup action. Expects netifd's JSON for the
# interface to be loaded (netifd-proto.sh does json_load before calling us).
mapehelper_setup() {
	local cfg="$1"
	local opts tunlink zone maptype status dev prefix result rc code
	local tunnel ipv4

	# The interface's options exactly as netifd handed them; dumped before
	# anything else touches the jshn namespace.
	opts="$(json_dump)"
	json_get_vars tunlink zone maptype
	[ "$zone" = "-" ] && zone=""
	# Newer stock configs name the type 'maptype' (it wins over 'type');
	# the binary knows 'type', and its flags win over the JSON.
	set --
	[ -n "$maptype" ] && set -- --type "$maptype"

	# netifd holds the interface back until its tunnel link is up, and sets
	# it up again when the link goes down and comes back. Without tunlink,
	# as the stock handler allows, that is whichever interface carries the
	# IPv6 default route.
	if [ -n "$tunlink" ]; then
		if ! mapehelper_valid_name "$tunlink"; then
			mapehelper_fail "$cfg" NO_TUNLINK "tunlink must name an interface"
			return 1
		fi
		proto_add_host_dependency "$cfg" "" "$tunlink"
	else
		proto_add_host_dependency "$cfg" "::"
		network_find_wan6 tunlink 2>/dev/null
		if ! mapehelper_valid_name "$tunlink"; then
			mapehelper_fail "$cfg" NO_TUNLINK "set option tunlink (e.g. 'wan6'): no interface has an IPv6 default route"
			return 1
		fi
	fi

	status="$(mapehelper_link_status "$tunlink")"
	dev="$(mapehelper_link_device "$status")"
	prefix="$(mapehelper_link_prefix "$status")"
	if [ -z "$dev" ] || [ -z "$prefix" ]; then
		mapehelper_fail "$cfg" MISSING_PREFIX "interface $tunlink has no global IPv6 prefix or address yet"
		return 1
	fi

	result="$(printf '%s' "$opts" | "$MAPEHELPER_BIN" up --netifd --stdin-json \
		--interface "$cfg" --link "$dev" --prefix "$prefix" "$@")"
	rc=$?
	code="$(jsonfilter -s "$result" -e '@.code' 2>/dev/null)"
	tunnel="$(jsonfilter -s "$result" -e '@.tunnel' 2>/dev/null)"
	ipv4="$(jsonfilter -s "$result" -e '@.ipv4' 2>/dev/null)"
	if [ "$rc" -ne 0 ] || [ -n "$code" ] || [ -z "$tunnel" ] || [ -z "$ipv4" ]; then
		# netifd ran teardown before this setup, so there is no previous
		# up to restore: up removed what it made, down makes sure, and the
		# interface stays down until the cause is fixed. Not after BUSY:
		# another up/down of this interface (its work is not ours) or
		# fw4's lock held too long; netifd retries then.
		[ "$code" = BUSY ] || "$MAPEHELPER_BIN" down --interface "$cfg" >/dev/null 2>&1
		mapehelper_fail "$cfg" "$code" "$(jsonfilter -s "$result" -e '@.error' 2>/dev/null)"
		return 1
	fi

	proto_init_update "$tunnel" 1
	proto_add_ipv4_address "$ipv4" 32
	proto_add_ipv4_route "0.0.0.0" 0
	proto_add_data
	[ -n "$zone" ] && json_add_string zone "$zone"
	# Recorded so the hotplug script can tell when the prefix has changed.
	json_add_string prefix "$prefix"
	json_add_string tunlink "$tunlink"
	proto_close_data
	proto_send_update "$cfg"
}

# mapehelper_teardown CFG: netifd's teardown action. netifd drops the
# address and route itself; the binary removes the tunnel and its rules.
mapehelper_teardown() {
	"$MAPEHELPER_BIN" down --interface "$1"
}

# mapehelper_prefix_changed TUNLINK: called from hotplug when an interface
# comes up or its addresses or prefixes change. Every MAP interface on that
# tunnel link whose prefix has left the link (or was deprecated), or which
# failed for want of a prefix or of a link, is set up again with ifup. A
# reordered address list, a new address in the same /64 or an extra prefix
# changes nothing the rule depends on, and an ifup would drop every flow.
# A link that stays up but loses every prefix (a DHCPv6 lease that ends)
# sets a running interface up again too: setup then fails with
# MISSING_PREFIX, which removes the tunnel and rules of a prefix that is no
# longer ours, and the next prefix brings it back.
mapehelper_prefix_changed() {
	local tunlink="$1" status
	mapehelper_valid_name "$tunlink" || return 0
	status="$(mapehelper_link_status "$tunlink")"
	config_load network
	config_foreach mapehelper_check_iface interface "$tunlink" "$status" "$(mapehelper_link_prefix "$status")"
}

# mapehelper_check_iface SECTION TUNLINK LINK_STATUS LINK_PREFIX:
# config_foreach callback.
mapehelper_check_iface() {
	local cfg="$1" tunlink="$2" linkstatus="$3" linkprefix="$4"
	local proto link status used up err
	config_get proto "$cfg" proto
	case "$proto" in
	mape | map) ;;
	*) return 0 ;;
	esac
	status="$(ubus call "network.interface.$cfg" status 2>/dev/null)"
	config_get link "$cfg" tunlink
	if [ -z "$link" ]; then
		# No tunlink: the link setup used, else today's IPv6 uplink.
		link="$(jsonfilter -s "$status" -e '@.data.tunlink' 2>/dev/null)"
		[ -n "$link" ] || network_find_wan6 link 2>/dev/null
	fi
	[ "$link" = "$tunlink" ] || return 0
	up="$(jsonfilter -s "$status" -e '@.up' 2>/dev/null)"
	used="$(jsonfilter -s "$status" -e '@.data.prefix' 2>/dev/null)"
	err="$(jsonfilter -s "$status" -e '@.errors[0].code' 2>/dev/null)"
	if [ "$up" = true ]; then
		if [ -z "$used" ] || [ "$(mapehelper_link_prefix "$linkstatus" "$used")" != "$used" ]; then
			ifup "$cfg"
		fi
		return 0
	fi
	# Down: worth a new try only once the link has a prefix again.
	[ -n "$linkprefix" ] || return 0
	case "$err" in
	MISSING_PREFIX | NO_MATCHING_PD | NO_TUNLINK) ifup "$cfg" ;;
	esac
}
