# Status, ubus (rpcd plugin) and LuCI: make targets of the status helper.
# luci-test runs in `make test`; luci-screenshot installs Chromium (heavy),
# so it is run by hand to refresh docs/luci-mape.png.

NODE        ?= node
CHROMIUM    ?= chromium
LUCI_TEST   := openwrt/luci-proto-mape/test

.PHONY: luci-test luci-screenshot rpcd-real

# The LuCI page against the LuCI stand-in, with the preview also computed
# by the real binary's rpcd plugin.
luci-test: build
	MAPEHELPER=$(CURDIR)/$(BUILD)/mapehelper $(NODE) --test $(LUCI_TEST)/mape.test.js

TEST_TARGETS += luci-test

# Renders the form in headless Chromium from the harness page, served on
# 127.0.0.1 with calc answered by the real binary, into docs/luci-mape.png.
luci-screenshot: build
	command -v $(CHROMIUM) >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	MAPEHELPER=$(CURDIR)/$(BUILD)/mapehelper CHROMIUM=$(CHROMIUM) OUT=$(CURDIR)/docs/luci-mape.png \
		$(NODE) $(LUCI_TEST)/screenshot.js

# The plugin and the ACL under a real ubusd + rpcd built from OpenWrt's
# sources (libubox, ubus, uci, rpcd in OWRT_SRC). Manual: CI cannot fetch
# them. About 40 s, most of it building.
rpcd-real: build
	test -n "$(OWRT_SRC)" || { echo 'set OWRT_SRC to a directory with libubox ubus uci rpcd source trees'; exit 2; }
	sh rpcd/testdata/real-rpcd.sh $(OWRT_SRC) $(BUILD)/mapehelper
