# shellcheck shell=sh
# A border relay that behaves like a real one (RFC 7597 section 8.1):
# - one collect_md ip6tnl device ("brt", external) decapsulates ip4ip6
#   from any CE;
# - before decapsulation an ip6 input chain checks each packet against the
#   CE it claims to come from: the outer source must be a CE address the
#   rule derives, the inner source the CE's IPv4, the inner TCP/UDP source
#   port or ICMP echo identifier inside that CE's port set; anything else
#   is dropped and counted (counter drop_NAME, drop_other for unknown CEs);
#   non-first IPv4 fragments carry no ports: only their source is checked
#   (counter frag_NAME);
# - replies are routed back by destination port: a prerouting chain marks
#   packets to a shared IPv4 with the mark of the CE owning the port (or
#   echo identifier), and each mark has a table whose route encapsulates
#   towards that CE.
#
# Usage: br_ce MARK NAME CEADDR IPV4 SETS BRADDR (once per CE), then br_commit.

BR_GUARD=/tmp/br-guard.nft
BR_MARK=/tmp/br-mark.nft
: >"$BR_GUARD.ce"
: >"$BR_GUARD.dispatch"
: >"$BR_MARK.rules"

br_ce() {
	_mark="$1" _name="$2" _ce="$3" _v4="$4" _sets="$5" _br="$6"
	_set="{ $(echo "$_sets" | sed 's/,/, /g') }"
	_hex="$(hex4 "$_v4")"
	cat >>"$BR_GUARD.ce" <<EOT
	counter drop_$_name {
	}
	counter pass_$_name {
	}
	counter icmperr_$_name {
	}
	counter frag_$_name {
	}
	chain ce_$_name {
		@th,0,8 != 0x45 counter name "drop_$_name" drop
		@th,96,32 != $_hex counter name "drop_$_name" drop
		@th,51,13 != 0 counter name "frag_$_name" accept
		@th,72,8 6 @th,160,16 != $_set counter name "drop_$_name" drop
		@th,72,8 17 @th,160,16 != $_set counter name "drop_$_name" drop
		@th,72,8 1 @th,160,8 8 @th,192,16 != $_set counter name "drop_$_name" drop
		@th,72,8 1 @th,160,8 { 3, 11 } counter name "icmperr_$_name" accept
		@th,72,8 1 @th,160,8 != 8 counter name "drop_$_name" drop
		@th,72,8 != { 1, 6, 17 } counter name "drop_$_name" drop
		counter name "pass_$_name" accept
	}
EOT
	echo "		ip6 saddr $_ce ip6 daddr $_br goto ce_$_name" >>"$BR_GUARD.dispatch"
	cat >>"$BR_MARK.rules" <<EOT
		ip daddr $_v4 meta l4proto { tcp, udp } th dport $_set meta mark set $_mark
		ip daddr $_v4 icmp type echo-reply icmp id $_set meta mark set $_mark
EOT
	echo "$_mark $_v4" >"$BR_GUARD.who.$_name"
	n br "$IP" rule add fwmark "$_mark" table "$_mark"
	n br "$IP" route add "$_v4/32" encap ip6 src "$_br" dst "$_ce" dev brt table "$_mark"
}

br_setup() {
	n br "$IP" link add brt type ip6tnl external
	n br "$IP" link set brt up
}

br_commit() {
	{
		echo "table ip6 brguard {"
		echo "	counter drop_other {"
		echo "	}"
		cat "$BR_GUARD.ce"
		echo "	chain input {"
		echo "		type filter hook input priority filter; policy accept;"
		echo "		meta l4proto 4 jump tunnel"
		echo "	}"
		echo "	chain tunnel {"
		cat "$BR_GUARD.dispatch"
		echo "		counter name \"drop_other\" drop"
		echo "	}"
		echo "}"
		echo "table ip brmark {"
		echo "	chain pre {"
		echo "		type filter hook prerouting priority mangle; policy accept;"
		# Any ct expression turns on conntrack, and with it reassembly,
		# for the namespace: replies fragmented by the server are then
		# routed by their port like any other.
		echo "		ct state invalid counter"
		cat "$BR_MARK.rules"
		echo "	}"
		echo "}"
	} >"$BR_GUARD"
	n br "$NFT" -f "$BR_GUARD"
}

# br_guard NAME off|on: switch the BR's port enforcement for one CE off
# or back on. Off, every packet from the CE passes (counted as pass_NAME)
# and every packet to its IPv4 is routed back to it whatever the port: a
# plain 4in6 relay, the benchmark's masquerade baseline. Only for a CE
# whose IPv4 no other registered CE shares (the catch-all return route
# would steal the other's replies). The other CEs are untouched.
br_guard() {
	read -r _mark _v4 <"$BR_GUARD.who.$1" || return 1
	case "$2" in
	off)
		n br "$NFT" -f - <<EOT
insert rule ip6 brguard ce_$1 counter name "pass_$1" accept comment "unguarded $1"
add rule ip brmark pre ip daddr $_v4 meta mark 0 meta mark set $_mark comment "unguarded $1"
EOT
		;;
	on)
		for _ch in "ip6 brguard ce_$1" "ip brmark pre"; do
			# shellcheck disable=SC2086 # family, table and chain
			for _h in $(n br "$NFT" -a list chain $_ch | sed -n 's/.*comment "unguarded '"$1"'" # handle \([0-9]*\)$/\1/p'); do
				# shellcheck disable=SC2086
				n br "$NFT" delete rule $_ch handle "$_h" || return 1
			done
		done
		;;
	*) return 2 ;;
	esac
}

# br_drops NAME…: the sum of the drop counters of the named CEs and of
# unknown CEs.
br_drops() {
	_sum="$(counter br ip6 brguard drop_other)"
	for _c in "$@"; do
		_sum=$((_sum + $(counter br ip6 brguard "drop_$_c")))
	done
	echo "$_sum"
}
