// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the emulated device's migration stream loader. The bytes
 * are written to a fresh device in RESUMING (as a destination gets them from
 * the wire, in the pieces the first byte chooses), then RESUMING -> STOP asks
 * it to load them: it takes a stream or refuses it with an errno, never
 * crashes, and the device is left usable (reset, RUNNING again). The corpus:
 * vfmig-emu save -f stop-copy of each variant, behind the byte that picks it.
 */
#include <stdint.h>
#include <stdio.h>

#include "device/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct emu_dev *make(const char *variant, const char *params)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params};

	return emu_dev_create(&cfg);
}

static void load(struct emu_dev *dev, const uint8_t *data, size_t size, size_t piece)
{
	int fd = -1;
	size_t off;

	if (emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL) ||
	    emu_set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd))
		return;
	for (off = 0; off < size; off += piece)
		if (emu_fd_write(fd, data + off, size - off < piece ? size - off : piece) < 0)
			break;
	emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL); /* the load: taken or refused */
	emu_fd_close(fd);
	emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL);
	emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emu_dev *nic, *bigmem;

	if (!nic)
		nic = make("nic", NULL);
	if (!bigmem)
		bigmem = make("bigmem", "mem=32k,block=4k");
	if (!size || !nic || !bigmem)
		return 0;
	load(data[0] & 1 ? nic : bigmem, data + 1, size - 1, 1 + data[0] * 8u);
	return 0;
}
