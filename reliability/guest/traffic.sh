# shellcheck shell=sh
# 3. Router-originated traffic and 4. port forwarding through the BR.

# router_own: the CE's own DNS, NTP, downloads and ping leave through the
# tunnel inside the port set, while a LAN host is busy at the same time.
router_own() {
	up_ok "router: up" ce1 mape1 CE1 || return
	d0="$(br_drops ce1)"
	n h1 probe tcp -to "$SERVER:8007" -n 60 -timeout 3s -ports "$S1" -src "$CE1_IPV4" >/tmp/ro.lan &
	lp=$!
	dns="$(n ce1 probe udp -to "$SERVER:53" -n 30 -ports "$S1" -src "$CE1_IPV4")"
	ntp="$(n ce1 probe udp -to "$SERVER:123" -n 10 -ports "$S1" -src "$CE1_IPV4")"
	tcp="$(n ce1 probe tcp -to "$SERVER:8008" -n 40 -timeout 3s -ports "$S1" -src "$CE1_IPV4")"
	png="$(n ce1 probe icmp -to "$SERVER" -n 10 -id 2000)"
	wait "$lp"
	lan="$(cat /tmp/ro.lan)"
	ids="$(n srv probe seen -proto icmp -ports "$S1" -src "$CE1_IPV4")"
	drops=$(($(br_drops ce1) - d0))
	for c in "dns:$dns:30" "ntp:$ntp:10" "download:$tcp:40" "lan:$lan:60"; do
		name="${c%%:*}"
		rest="${c#*:}"
		want="${rest##*:}"
		r="${rest%:*}"
		verdict "router: $name flows in the port set" "$(is "$(jf ok "$r")" = "$want" -a "$(jf in_set "$r")" = "$want" -a "$(jf wrong_src "$r")" = 0)" \
			"$(jf ok "$r")/$want ok, $(jf in_set "$r") source ports in set, $(jf out_of_set "$r") outside$(js err "$r" | sed 's/^./, &/')"
	done
	verdict "router: own ping ids in the port set" "$(is "$(jf ok "$png")" = 10 -a "$(jf out_of_set "$ids")" = 0 -a "$(jf distinct "$ids")" -ge 1)" \
		"$(jf ok "$png")/10 answered, server saw $(jf distinct "$ids") ids, $(jf out_of_set "$ids") outside the set"
	verdict "router: BR drops during router and LAN traffic" "$(is "$drops" = 0)" "br_drops=$drops"
	echo "VMTEST FIGURE router_br_drops=$drops"
}

# port_forward: an fw4 redirect of an external port inside our set reaches
# the LAN host through the BR and its replies leave inside the set; one
# outside our sets never arrives, and status says so.
port_forward() {
	up_ok "portfwd: up" ce1 mape1 CE1 || return
	inside="$(echo "$S1" | cut -d, -f2 | cut -d- -f1)"
	inside=$((inside + 4))
	outside=5000
	mkdir -p /tmp/fw4 /etc/config
	{
		echo "tcp $inside 192.168.1.2 8080"
		echo "udp $inside 192.168.1.2 9090"
		echo "tcp $outside 192.168.1.2 8080"
	} >/tmp/fw4/ce1.redirects
	cat >/etc/config/firewall <<EOT
config zone
	option name 'wan'
	list network 'mape1'
	option masq '1'

config redirect
	option name 'web-in-set'
	option src 'wan'
	option src_dport '$inside'
	option dest 'lan'
	option dest_ip '192.168.1.2'
	option dest_port '8080'
	option proto 'tcp udp'
	option target 'DNAT'

config redirect
	option name 'web-outside'
	option src 'wan'
	option src_dport '$outside'
	option dest 'lan'
	option dest_ip '192.168.1.2'
	option dest_port '8080'
	option proto 'tcp'
	option target 'DNAT'
EOT
	fw4 ce1 reload
	n h1 sink -tcp 8080 -udp 9090 -ctl 127.0.0.1:9100 >/dev/null 2>&1 &
	hs=$!
	sleep 0.5
	d0="$(br_drops ce1)"
	t="$(n srv probe tcp -to "$CE1_IPV4:$inside" -n 5 -timeout 3s)"
	u="$(n srv probe udp -to "$CE1_IPV4:$inside" -n 5 -timeout 3s)"
	seen="$(n h1 probe seen -ctl 127.0.0.1:9100 -src "$SERVER")"
	drops=$(($(br_drops ce1) - d0))
	verdict "portfwd: redirect of external port $inside (in our set) reaches the LAN host" \
		"$(is "$(jf ok "$t")" = 5 -a "$(jf ok "$u")" = 5 -a "$(jf n "$seen")" -ge 10 -a "$(jf wrong_src "$seen")" = 0 -a "$drops" = 0)" \
		"tcp $(jf ok "$t")/5, udp $(jf ok "$u")/5 from $SERVER to $CE1_IPV4:$inside; LAN host saw $(jf n "$seen") flows from $SERVER; br_drops=$drops"
	o="$(n srv probe tcp -to "$CE1_IPV4:$outside" -n 2 -timeout 2s)"
	verdict "portfwd: redirect of external port $outside (outside our sets) never arrives" "$(is "$(jf ok "$o")" = 0)" \
		"tcp $(jf ok "$o")/2 (the BR has no CE for that port)"
	if wants fwdstatus; then
		st="$(n ce1 mapehelper status --json --interface mape1 2>&1 | tr -d '\n\t ')"
		rep=0
		case "$st" in *'"name":"web-outside"'*'"verdict":"not-usable"'* | *'"verdict":"not-usable"'*'"name":"web-outside"'*) rep=1 ;; esac
		verdict "portfwd: status reports the redirect outside our sets" "$rep" \
			"$(echo "$st" | grep -o '"verdict":"[a-z-]*"' | tr '\n' ' ')$(echo "$st" | grep -o '"redirects":[^]]*' | head -c 120)"
	fi
	kill "$hs" 2>/dev/null
	: >/tmp/fw4/ce1.redirects
	fw4 ce1 reload
}
