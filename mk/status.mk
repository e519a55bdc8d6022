# Status, ubus (rpcd plugin) and LuCI: make targets of the status helper.
# luci-test runs in `make test`. The page on the real LuCI, and
# docs/luci-mape.png, come from mk/luci.mk (luci-real, luci-real-screenshot).

NODE        ?= node
LUCI_TEST   := openwrt/luci-proto-mape/test

.PHONY: luci-test rpcd-real

# The LuCI page against the LuCI stand-in, with the preview also computed
# by the real binary's rpcd plugin.
luci-test: build
	MAPEHELPER=$(CURDIR)/$(BUILD)/mapehelper $(NODE) --test $(LUCI_TEST)/mape.test.js

TEST_TARGETS += luci-test

# The plugin and the ACL under a real ubusd + rpcd built from OpenWrt's
# sources (libubox, ubus, uci, rpcd in OWRT_SRC). Manual: CI cannot fetch
# them. About 40 s, most of it building.
rpcd-real: build
	test -n "$(OWRT_SRC)" || { echo 'set OWRT_SRC to a directory with libubox ubus uci rpcd source trees'; exit 2; }
	sh rpcd/testdata/real-rpcd.sh $(OWRT_SRC) $(BUILD)/mapehelper
