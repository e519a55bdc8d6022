# shellcheck shell=sh
# Part "rpcd" of owrt-router.sh: real rpcd with our exec plugin and ACL as
# the package installs them; a login whose only grant is LuCI's ACL group.

sta="$(ubus call mape status '{"interface":"wanmap"}' 2>&1)"
verdict "rpcd: ubus call mape status shows the live interface" \
	"$(is "$(j "$sta" '@.interfaces[0].state')" = up -a "$(j "$sta" '@.interfaces[0].ipv4')" = "$CE1_IPV4" -a "$(j "$sta" '@.interfaces[0].tunnel_up')" = true -a "$(j "$sta" '@.interfaces[0].nft_rules')" = true)" \
	"$(printf '%s' "$sta" | tr -d '\n\t' | cut -c1-200)"
c="$(ubus call mape calc "{\"prefix\":\"$CE1_PREFIX\"}" 2>&1)"
verdict "rpcd: ubus call mape calc" "$(is "$(j "$c" '@.ipv4')" = "$CE1_IPV4" -a "$(j "$c" '@.psid')" = "$CE1_PSID" -a "$(j "$c" '@.ports')" = 240)" \
	"$(printf '%s' "$c" | tr -d '\n\t' | cut -c1-160)"
# shellcheck disable=SC2016 # the $() is the hostile input, sent literally
h="$(ubus call mape calc '{"prefix":"$(reboot)"}' 2>&1)"
verdict "rpcd: hostile input gets a JSON error" "$(is "$(j "$h" '@.code')" = INVALID_INPUT)" "$(printf '%s' "$h" | tr -d '\n\t')"
u="$(ubus call mape calc '{"prefix":"240b::/56","evil":"x"}' 2>&1)"
verdict "rpcd: unknown key gets a JSON error" "$(is "$(j "$u" '@.code')" = INVALID_INPUT)" "$(printf '%s' "$u" | tr -d '\n\t')"
big="{\"prefix\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
b="$(ubus call mape calc "$big" 2>&1)"
verdict "rpcd: a 70 kB request (cut by rpcd at 64 KiB) gets INPUT_TOO_LARGE" "$(is "$(j "$b" '@.code')" = INPUT_TOO_LARGE)" "$(printf '%s' "$b" | tr -d '\n\t' | cut -c1-200)"

# A LuCI user's session (its login is in /etc/config/rpcd since boot):
# only the luci-proto-mape group.
sid="$(j "$(ubus call session login '{"username":"luci","password":"password"}' 2>&1)" '@.ubus_rpc_session')"
verdict "rpcd: the LuCI user logs in" "$(is -n "$sid")" ""
acc() { j "$(ubus call session access "{\"ubus_rpc_session\":\"$sid\",\"scope\":\"$1\",\"object\":\"$2\",\"function\":\"$3\"}" 2>&1)" '@.access'; }
verdict "rpcd ACL: mape status and calc granted" "$(is "$(acc ubus mape status)" = true -a "$(acc ubus mape calc)" = true)" ""
verdict "rpcd ACL: nothing more (other mape method, network up, uci write, file exec denied)" \
	"$(is "$(acc ubus mape reboot)" = false -a "$(acc ubus network.interface up)" = false -a "$(acc uci network write)" = false -a "$(acc ubus file exec)" = false)" ""
# Negative control: with the ACL file removed, the same session loses
# status and calc, so the grant checks above can fail.
mv /usr/share/rpcd/acl.d/luci-proto-mape.json /tmp/acl.saved
stop_daemon rpcd
daemon rpcd rpcd
i=0
until ubus list session >/dev/null 2>&1 || [ "$i" -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
sid="$(j "$(ubus call session login '{"username":"luci","password":"password"}' 2>&1)" '@.ubus_rpc_session')"
verdict "negative control: without our ACL file the LuCI session gets no mape status" "$(is "$(acc ubus mape status)" != true)" "access=$(acc ubus mape status)"
mv /tmp/acl.saved /usr/share/rpcd/acl.d/luci-proto-mape.json
