# End-to-end data-plane test in a qemu VM with a real kernel (vmtest/).
#   make vmtest                 the amd64 VM test (CE configured by VMTEST_MODE)
#   make vmtest VMTEST_MODE=fallback   the same topology with the hand-written
#                               ip/nft CE, which proves the harness itself
#   make vmtest-lint            shellcheck of every vmtest script, following sources
VMTEST_ARCH    ?= amd64
VMTEST_MODE    ?= mapehelper
VMTEST_TIMEOUT ?= 600

.PHONY: vmtest vmtest-lint
TEST_TARGETS += vmtest

vmtest-lint:
	shellcheck -x vmtest/run.sh vmtest/build-initramfs.sh vmtest/arch/*.sh vmtest/guest/init vmtest/guest/*.sh

vmtest: vmtest-lint
	sh vmtest/run.sh -a $(VMTEST_ARCH) -m $(VMTEST_MODE) -t $(VMTEST_TIMEOUT)
