# SPDX-License-Identifier: GPL-2.0
#
# make check-abi: compare every constant, ioctl number and struct layout
# used via include/vfmig/uapi.h with the uapi headers of the Debian
# package linux-source-6.12.  tests/abi/abi_dump.c is built twice:
#   sys: against the installed headers (6.1 on Debian 12) + our fallbacks
#   new: with the headers_install'ed 6.12 uapi headers first in the path,
#        so every fallback block in uapi.h is skipped
# and tests/abi/check-abi.sh compares the two outputs.

BUILD ?= build
CC ?= gcc

ABI_KVER := 6.12
ABI_TARBALL ?= /usr/src/linux-source-$(ABI_KVER).tar.xz
ABI_DIR := $(BUILD)/abi
ABI_UAPI := $(ABI_DIR)/uapi-$(ABI_KVER)
ABI_STAMP := $(ABI_UAPI)/.installed
# headers uapi.h includes, and the linux/, asm-generic/ and asm/ (x86) ones they include
ABI_HEADERS := linux/vfio.h linux/iommufd.h linux/userfaultfd.h linux/fs.h \
	linux/types.h linux/ioctl.h linux/limits.h linux/fscrypt.h linux/mount.h \
	asm-generic/ioctl.h linux/kvm.h linux/const.h linux/stddef.h linux/bits.h asm/kvm.h
ABI_CFLAGS := -Wall -Wextra -Werror -std=gnu11
ABI_DEPS := tests/abi/abi_dump.c include/vfmig/uapi.h tests/abi/abi.mk

# being included must not change the including Makefile's default goal
abi_saved_goal := $(.DEFAULT_GOAL)

.PHONY: check-abi
check-abi: $(ABI_DIR)/abi_dump_sys $(ABI_DIR)/abi_dump_$(ABI_KVER)
	@sh tests/abi/check-abi.sh $(ABI_DIR)/abi_dump_sys $(ABI_DIR)/abi_dump_$(ABI_KVER) \
		$(ABI_KVER) tests/abi/abi_dump.c include/vfmig/uapi.h

# the stamp holds the header list: re-extract only when missing or changed
ifneq ($(shell cat $(ABI_STAMP) 2>/dev/null),$(ABI_HEADERS))
.PHONY: $(ABI_STAMP)
endif
$(ABI_STAMP): tests/abi/install-uapi.sh
	@sh tests/abi/install-uapi.sh $(ABI_TARBALL) $(ABI_KVER) $(ABI_DIR) "$(CC)" \
		$(ABI_HEADERS)

$(ABI_DIR)/abi_dump_sys: $(ABI_DEPS)
	@mkdir -p $(ABI_DIR)
	$(CC) $(ABI_CFLAGS) -Iinclude -o $@ tests/abi/abi_dump.c

$(ABI_DIR)/abi_dump_$(ABI_KVER): $(ABI_DEPS) $(ABI_STAMP)
	$(CC) $(ABI_CFLAGS) -I$(ABI_UAPI) -Iinclude -DVFMIG_ABI_NEW_UAPI -o $@ tests/abi/abi_dump.c

.DEFAULT_GOAL := $(abi_saved_goal)
