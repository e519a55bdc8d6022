# The real-OpenWrt tier (issue 11, docs/openwrt.md "Real OpenWrt tier"):
# OpenWrt's own netifd, ubusd, rpcd, uci, jshn, jsonfilter, ucode and
# firewall4, built from ../shared/openwrt-userland into OWRT_PREFIX (a cache
# outside the repository; build.sh is idempotent), run as the router in
# vmtest's VM with the package installed.
#   make openwrt-real                 lint + the VM run (in TEST_TARGETS)
#   make openwrt-real OWRT_PARTS=netifd   one part (netifd, link, fw4, rpcd)
OWRT_USERLAND ?= $(CURDIR)/../shared/openwrt-userland
# One build serves this tier and luci-real (mk/luci.mk): outside /tmp and
# /run, which the VM guest mounts over, and outside /var, /etc and /usr,
# which env.sh stacks PREFIX/rootfs over.
OWRT_PREFIX   ?= /opt/mapehelper-owrt
OWRT_PARTS    ?= netifd,link,fw4,rpcd

.PHONY: openwrt-real openwrt-real-lint
TEST_TARGETS += openwrt-real

openwrt-real-lint:
	shellcheck -x openwrt/test/owrt-vm.sh openwrt/test/vm/owrt-*.sh

openwrt-real: openwrt-real-lint
	OWRT_USERLAND="$(OWRT_USERLAND)" OWRT_PREFIX="$(OWRT_PREFIX)" \
		sh openwrt/test/owrt-vm.sh -t 600 vmtest.parts=$(OWRT_PARTS)
