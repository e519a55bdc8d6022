# UPnP IGD / NAT-PMP inside our port sets (issue 13 part 2): Debian's real
# miniupnpd (nftables build) and upnpc in vmtest's VM, with the lines
# `mapehelper upnp` prints (upnp/vm.sh, scenario upnp/guest/upnp.sh).
#   make upnp          lint + the VM run (in TEST_TARGETS)
.PHONY: upnp upnp-lint upnp-vm
TEST_TARGETS += upnp

upnp: upnp-lint upnp-vm

upnp-lint:
	shellcheck -x upnp/vm.sh upnp/guest/*.sh upnp/openwrt/95-mapehelper-upnp

upnp-vm:
	sh upnp/vm.sh -t 420
