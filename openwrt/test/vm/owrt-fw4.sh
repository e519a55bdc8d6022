# shellcheck shell=sh
# Part "fw4" of owrt-router.sh: real firewall4 (ucode) with OpenWrt's
# default /etc/config/firewall, wanmap in zone wan.

INC=/usr/share/nftables.d/ruleset-post/mapehelper-wanmap.nft
# ours_table: our table as nft lists it, "" when absent; counter values
# and the elements of dynamic sets (live connection counts) masked, as
# lib.sh's snapshot does.
ours_table() {
	nft list table ip mapehelper_wanmap 2>/dev/null | sed -e 's/packets [0-9]* bytes [0-9]*/packets * bytes */g' | awk '
		/^\tset / { dyn = 0 }
		/^\t\tflags .*dynamic/ { dyn = 1 }
		dyn && /^\t\telements = / { skip = 1 }
		skip { if (/}$/) skip = 0; next }
		{ print }'
}
fw4_state() { # NAME SETS IPV4 BRNAME: our table and include there, zone on our tunnel, traffic
	_t="$(ours_table)"
	_z="$(nft list table inet fw4 2>/dev/null | grep -c '"map-wanmap"')"
	verdict "fw4 $1: our table and include present, zone wan covers map-wanmap" \
		"$(is -n "$_t" -a -f "$INC" -a "$_z" -gt 0)" "table $(printf '%s\n' "$_t" | wc -l) lines, include $([ -f "$INC" ] && echo present || echo missing), $_z fw4 rules name map-wanmap"
	traffic "fw4 $1" "$2" "$3" "$4"
}

uci add_list firewall.@zone[1].network='wanmap'
uci commit firewall
# As at boot (S19firewall before S20network): enabled, started, then the
# interface comes up and 20-firewall reloads fw4 from hotplug.
touch /etc/rc.d/S19firewall
/sbin/ifdown wanmap
wait_status wanmap '@.up' false 30 || diag
fw4 -q start
verdict "fw4 start loads table inet fw4" "$(is -n "$(nft list table inet fw4 2>/dev/null | head -n 1)")" ""
/sbin/ifup wanmap
wait_status wanmap '@.up' true 60 || diag
# Only 20-firewall's reload (hotplug on ifup) can put map-wanmap into
# table inet fw4 now: fw4 start ran while wanmap was down.
i=0
while [ "$i" -lt $((150 * ${VMTEST_slow:-1})) ] && ! nft list table inet fw4 2>/dev/null | grep -q '"map-wanmap"'; do
	sleep 0.2
	i=$((i + 1))
done
wait_dad router
fw4_state "after ifup (hotplug reload)" "$S1" "$CE1_IPV4" ce1
before="$(ours_table)"
fw4 reload
verdict "fw4 reload keeps our table unchanged" "$(is "$(ours_table)" = "$before")" ""
fw4_state "after reload" "$S1" "$CE1_IPV4" ce1
fw4 restart
fw4_state "after restart" "$S1" "$CE1_IPV4" ce1
fw4 flush
fw4 start
verdict "fw4 flush + start restores our table from the include" "$(is "$(ours_table)" = "$before")" ""
fw4_state "after flush + start" "$S1" "$CE1_IPV4" ce1

# Negative control: without our include, fw4 flush + start loses our
# table (reload never touches tables other than inet fw4) and traffic stops.
mv "$INC" /tmp/inc.saved
fw4 flush
fw4 start
verdict "negative control: fw4 without our include loses our table" "$(is -z "$(ours_table)")" "table $(ours_table | wc -l) lines"
no_traffic "fw4 without our include" "$S1" "$CE1_IPV4" ce1
mv /tmp/inc.saved "$INC"
fw4 reload
fw4_state "include back, fw4 reload" "$S1" "$CE1_IPV4" ce1
