# OpenWrt packaging (docs/openwrt.md).
#   make ipk                 cross-compile the static binary and assemble ipk
#                            files into build/ipk, as the SDK's ipkg-build would
#   make openwrt-ipk-test    build them, then check layout, control fields,
#                            modes, agreement with openwrt/Makefile, and run
#                            each packaged binary (qemu-user for foreign CPUs)
#   make openwrt-vm          the packaged handler with the real mapehelper and
#                            real kernel objects in vmtest's VM (recorder as
#                            netifd; traffic, prefix change, teardown, errors)
# The netifd handler tests (openwrt/test, no build tag) run with `make unit`.
# Manual checks against OpenWrt's own tools built from source (CI cannot
# fetch those sources; see docs/openwrt.md):
#   make openwrt-real-netifd NETIFD_PREFIX="dir…" NETIFD_SCRIPTS=dir
#   make openwrt-opkg OPKG_CL=path/to/opkg-cl [OPKG_LIBS=dir]
#   make openwrt-apk APK=path/to/apk [APK_LIBS=dir]   (apk-tools 3: OpenWrt 25.x
#                            packages into build/ipk/apk, installed, upgraded, removed)

IPK_ARCHS   ?= mipsel_24kc arm_cortex-a9_vfpv3-d16 aarch64_cortex-a72 aarch64_generic x86_64
IPK_VERSION ?= $(shell sed -n 's/^PKG_VERSION:=//p' openwrt/Makefile)-r$(shell sed -n 's/^PKG_RELEASE:=//p' openwrt/Makefile)

# Shell files the top-level lint does not pick up (no .sh suffix, or bash).
OPENWRT_SHELL := openwrt/ipk/build.sh openwrt/ipk/postinst-mapehelper openwrt/ipk/postinst-luci openwrt/test/vm.sh \
	openwrt/test/fake/recorder.sh openwrt/test/fake/jsonfilter openwrt/test/fake/ubus

.PHONY: ipk openwrt-ipk-test openwrt-handler-test openwrt-lint
openwrt-lint:
	shellcheck $(OPENWRT_SHELL)
	shellcheck -x openwrt/test/vm/openwrt-handler.sh

ipk:
	bash openwrt/ipk/build.sh $(BUILD)/ipk $(IPK_VERSION) $(IPK_ARCHS)

openwrt-ipk-test: ipk
	IPK_DIR="$(CURDIR)/$(BUILD)/ipk" IPK_VERSION="$(IPK_VERSION)" IPK_ARCHS="$(IPK_ARCHS)" \
		$(GO) test -count=1 -tags ipkcheck -run 'TestIPK|TestMakefile' ./openwrt/test/

openwrt-handler-test:
	$(GO) test -count=1 ./openwrt/test/

.PHONY: openwrt-vm
openwrt-vm:
	sh openwrt/test/vm.sh -t 300

.PHONY: openwrt-real-netifd openwrt-opkg
openwrt-real-netifd: build
	NETIFD_SCRIPTS="$(NETIFD_SCRIPTS)" sh openwrt/test/real-netifd.sh $(NETIFD_PREFIX) -- $(BUILD)/mapehelper

# Also upgrades each to the same build one release later.
openwrt-opkg: ipk
	bash openwrt/ipk/build.sh $(BUILD)/ipk-next $(IPK_VERSION)9 $(IPK_ARCHS)
	for a in $(IPK_ARCHS); do \
		LD_LIBRARY_PATH="$(OPKG_LIBS)" sh openwrt/test/opkg-install.sh "$(OPKG_CL)" $(BUILD)/ipk $(IPK_VERSION) $$a \
			$(BUILD)/ipk-next/mapehelper_$(IPK_VERSION)9_$$a.ipk || exit 1; \
	done

.PHONY: openwrt-apk
openwrt-apk:
	export LD_LIBRARY_PATH="$(APK_LIBS)"; \
	APK="$(APK)" bash openwrt/ipk/build.sh $(BUILD)/ipk $(IPK_VERSION) $(IPK_ARCHS) && \
	APK="$(APK)" bash openwrt/ipk/build.sh $(BUILD)/ipk-next $(IPK_VERSION)9 $(IPK_ARCHS) && \
	for a in $(IPK_ARCHS); do \
		sh openwrt/test/apk-install.sh "$(APK)" $(BUILD)/ipk $(IPK_VERSION) $$a \
			$(BUILD)/ipk-next/apk/$$a/mapehelper-$(IPK_VERSION)9.apk || exit 1; \
	done

TEST_TARGETS += openwrt-lint openwrt-ipk-test openwrt-vm
