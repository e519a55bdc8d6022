# End-to-end data-plane test in a qemu VM with a real kernel (vmtest/).
#   make vmtest                 the amd64 VM test (CE configured by VMTEST_MODE)
#   make vmtest VMTEST_MODE=fallback   the same topology with the hand-written
#                               ip/nft CE, which proves the harness itself
#   make vmtest-lint            shellcheck of every vmtest script, following sources
#   make vmtest-retry           run.sh repeats a run once after a guest kernel lockup
VMTEST_ARCH    ?= amd64
VMTEST_MODE    ?= mapehelper
VMTEST_TIMEOUT ?= 600

.PHONY: vmtest vmtest-lint vmtest-retry
TEST_TARGETS += vmtest

vmtest-lint:
	shellcheck -x vmtest/run.sh vmtest/retry-test.sh vmtest/build-initramfs.sh vmtest/arch/*.sh vmtest/guest/init vmtest/guest/*.sh

# run.sh's answer to a guest kernel lockup, with a stand-in qemu (seconds).
vmtest-retry:
	sh vmtest/retry-test.sh

vmtest: vmtest-lint vmtest-retry
	sh vmtest/run.sh -a $(VMTEST_ARCH) -m $(VMTEST_MODE) -t $(VMTEST_TIMEOUT)
