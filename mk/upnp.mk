# UPnP IGD / NAT-PMP inside our port sets (issue 13 part 2): Debian's real
# miniupnpd (nftables build) and upnpc in vmtest's VM, with the lines
# `mapehelper upnp` prints (upnp/vm.sh, scenario upnp/guest/upnp.sh).
#   make upnp          lint + the VM run, then the same with option vrange
#                      (vmtest.upnpvrange=1: every up runs with --vrange)
#                      (in TEST_TARGETS)
.PHONY: upnp upnp-lint upnp-vm upnp-vm-vrange
TEST_TARGETS += upnp

upnp: upnp-lint upnp-vm upnp-vm-vrange

upnp-lint:
	shellcheck -x upnp/vm.sh upnp/guest/*.sh upnp/openwrt/95-mapehelper-upnp

upnp-vm:
	sh upnp/vm.sh -t 420

upnp-vm-vrange:
	sh upnp/vm.sh -t 420 vmtest.upnpvrange=1
