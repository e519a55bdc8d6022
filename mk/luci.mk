# luci-real: the LuCI page on the real LuCI (docs/status.md, "Tests and their
# cost"). OpenWrt's uhttpd + LuCI's ucode runtime + rpcd + ubusd + netifd,
# built from ../shared/openwrt-userland, run in a namespace (its env.sh);
# our packages' files installed as on a router, next to luci-proto-ipv6's
# stock map.js (../shared/openwrt-luci); headless Chromium (Debian) driven
# by puppeteer-core (npm, pinned, installed into LUCI_NPM outside the tree).
# Then the negative control: without our rpcd ACL the preview and the status
# block must fail, and the run must say so.
#   make luci-real                      the tier (root; ~30 s once built)
#   make luci-real-screenshot           the same, writing docs/luci-mape.png
#
# The prefix must lie outside /var, /etc and /usr: env.sh stacks
# PREFIX/rootfs/var over /var, and overlayfs refuses a lower layer inside
# the directory it covers ("Too many levels of symbolic links"). It is the
# real-OpenWrt tier's build (OWRT_PREFIX, mk/openwrt-real.mk): one build
# for both.

OWRT_USERLAND     ?= $(CURDIR)/../shared/openwrt-userland
OWRT_LUCI_ARCHIVE ?= $(CURDIR)/../shared/openwrt-luci/luci-client-a9e0885.tar.gz
LUCI_OWRT_PREFIX  ?= $(OWRT_PREFIX)
LUCI_NPM          ?= /var/tmp/mapehelper-luci-npm
PUPPETEER_VERSION := 24.37.5
LUCI_REAL_RUN      = sh openwrt/luci-proto-mape/test/real/run.sh "$(OWRT_USERLAND)" "$(LUCI_OWRT_PREFIX)" \
	"$(OWRT_LUCI_ARCHIVE)" "$(CURDIR)/$(BUILD)/mapehelper" "$(LUCI_NPM)"

.PHONY: luci-real luci-real-screenshot

# Tools first: under CI=true a missing one fails the tier, never skips it.
# Then the userland build (idempotent, ~1 s when built) and puppeteer-core.
LUCI_REAL_DEPS = missing=""; for t in chromium node npm nft ip unshare nsenter; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	[ "$$(id -u)" = 0 ] || missing="$$missing root"; \
	[ -f "$(OWRT_USERLAND)/build.sh" ] && [ -f "$(OWRT_LUCI_ARCHIVE)" ] || missing="$$missing ../shared/openwrt-userland+openwrt-luci"; \
	if [ -n "$$missing" ]; then \
		if [ "$${CI:-}" = true ]; then echo "luci-real: missing:$$missing (chromium: .ci/apt/luci.txt)"; exit 1; fi; \
		echo "luci-real: SKIPPED outside CI, missing:$$missing"; exit 0; fi; \
	sh "$(OWRT_USERLAND)/build.sh" "$(LUCI_OWRT_PREFIX)" >$(BUILD)/luci-owrt-build.log 2>&1 || { tail -20 $(BUILD)/luci-owrt-build.log; exit 1; }; \
	[ "$$(node -p "require('$(LUCI_NPM)/node_modules/puppeteer-core/package.json').version" 2>/dev/null)" = $(PUPPETEER_VERSION) ] || \
		npm install --no-audit --no-fund --loglevel=error --prefix "$(LUCI_NPM)" puppeteer-core@$(PUPPETEER_VERSION) >/dev/null || exit 1

luci-real: build
	@$(LUCI_REAL_DEPS); \
	$(LUCI_REAL_RUN) $(BUILD)/luci-real >$(BUILD)/luci-real.log 2>&1; rc=$$?; \
	grep -E '^(ok|FAIL)|passed' $(BUILD)/luci-real.log; [ $$rc -eq 0 ] || { tail -30 $(BUILD)/luci-real.log; exit 1; }; \
	NEGATIVE=noacl $(LUCI_REAL_RUN) $(BUILD)/luci-real-noacl >$(BUILD)/luci-real-noacl.log 2>&1 && \
		{ echo 'negative control noacl: the run passed without our ACL'; exit 1; }; \
	for want in 'FAIL preview computed by mape calc through rpcd' 'FAIL status block: the error state of a real up'; do \
		grep -q "^$$want" $(BUILD)/luci-real-noacl.log || { echo "negative control noacl: no '$$want'"; tail -20 $(BUILD)/luci-real-noacl.log; exit 1; }; \
	done; \
	echo "negative control noacl: without luci-proto-mape.json the preview and the status fail (-32002 Access denied), as they must"

luci-real-screenshot: build
	@$(LUCI_REAL_DEPS); \
	SCREENSHOT=$(CURDIR)/docs/luci-mape.png $(LUCI_REAL_RUN) $(BUILD)/luci-real

TEST_TARGETS += luci-real
