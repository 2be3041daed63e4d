// SPDX-License-Identifier: GPL-2.0
/*
 * Pinned pages: vfio_pin_pages / vfio_unpin_pages. Pages a device pins
 * count as dirty on every type1 report until unpinned, so pins are
 * migration cost. Sources: the emulated device's USDT probes; on a VFIO host
 * fentry or kprobes. npage is the third argument in all three kernel
 * signatures (before 5.19, 5.19, 6.0+); from 6.0 the second is the IOVA,
 * before it a user_pfn array whose first entry gives the IOVA.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

extern int LINUX_KERNEL_VERSION __kconfig;

struct pin_call {
	__u64 dev, iova;
	__s32 npage;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct pin_call);
} pin_calls SEC(".maps");

static __always_inline int on_pin(__u64 dev, __u64 iova, __s32 npage, __s32 result, __u16 src)
{
	struct vfmig_event *e;

	count_dev(dev, VFMIG_C_PIN_CALLS, 1);
	if (result > 0)
		count_dev(dev, VFMIG_C_PAGES_PINNED, result);
	else
		count_dev(dev, VFMIG_C_PIN_ERRORS, 1);
	e = event_new(VFMIG_EV_PIN, src, dev);
	if (e) {
		e->a = iova;
		e->b = npage;
		e->result = result;
		event_send(e);
	}
	return 0;
}

static __always_inline int on_unpin(__u64 dev, __u64 iova, __s32 npage, __u16 src)
{
	struct vfmig_event *e;

	count_dev(dev, VFMIG_C_UNPIN_CALLS, 1);
	count_dev(dev, VFMIG_C_PAGES_UNPINNED, npage > 0 ? npage : 0);
	e = event_new(VFMIG_EV_UNPIN, src, dev);
	if (e) {
		e->a = iova;
		e->b = npage;
		event_send(e);
	}
	return 0;
}

/* The emulated device's pins: id is its id, keyed with its pid as the state probes' are. */
SEC("usdt")
int BPF_USDT(usdt__pin_pages, __u32 id, __u32 kind, __u64 iova, int npage, int result)
{
	__u64 dev = emu_key(id);

	return filtered_out() || dev_out(dev) ? 0
					      : on_pin(dev, iova, npage, result, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__unpin_pages, __u32 id, __u32 kind, __u64 iova, int npage)
{
	__u64 dev = emu_key(id);

	return filtered_out() || dev_out(dev) ? 0 : on_unpin(dev, iova, npage, VFMIG_SRC_USDT);
}

static __always_inline __u64 pin_iova(unsigned long arg2)
{
	unsigned long pfn = 0;

	if (LINUX_KERNEL_VERSION >= KERNEL_VERSION(6, 0, 0))
		return arg2;
	bpf_probe_read_kernel(&pfn, sizeof(pfn), (void *)arg2); /* user_pfn[0] */
	return (__u64)pfn << 12;
}

SEC("kprobe/vfio_pin_pages")
int BPF_KPROBE(kprobe__vfio_pin_pages, void *dev, unsigned long arg2, int npage)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pin_call c = {vfmig_dev_kernel((__u64)dev), pin_iova(arg2), npage};

	if (!filtered_out())
		bpf_map_update_elem(&pin_calls, &tid, &c, BPF_ANY);
	return 0;
}

SEC("kretprobe/vfio_pin_pages")
int BPF_KRETPROBE(kretprobe__vfio_pin_pages, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pin_call *c = bpf_map_lookup_elem(&pin_calls, &tid);

	if (!c)
		return 0;
	on_pin(c->dev, c->iova, c->npage, ret, VFMIG_SRC_KPROBE);
	bpf_map_delete_elem(&pin_calls, &tid);
	return 0;
}

SEC("kprobe/vfio_unpin_pages")
int BPF_KPROBE(kprobe__vfio_unpin_pages, void *dev, unsigned long arg2, int npage)
{
	return filtered_out() ? 0
			      : on_unpin(vfmig_dev_kernel((__u64)dev), pin_iova(arg2), npage,
					 VFMIG_SRC_KPROBE);
}

/*
 * The device a tracing program's first argument points to, as a key: read
 * as a number (the verifier allows no arithmetic on the typed pointer).
 */
static __always_inline __u64 arg0_dev(__u64 *ctx)
{
	__u64 dev = 0;

	bpf_probe_read_kernel(&dev, sizeof(dev), ctx);
	return vfmig_dev_kernel(dev);
}

SEC("fexit/vfio_pin_pages")
int BPF_PROG(fexit__vfio_pin_pages, void *dev, unsigned long iova, int npage, int prot, void *pages,
	     int ret)
{
	return filtered_out() ? 0
			      : on_pin(arg0_dev(ctx), pin_iova(iova), npage, ret, VFMIG_SRC_FENTRY);
}

SEC("fentry/vfio_unpin_pages")
int BPF_PROG(fentry__vfio_unpin_pages, void *dev, unsigned long iova, int npage)
{
	return filtered_out() ? 0
			      : on_unpin(arg0_dev(ctx), pin_iova(iova), npage, VFMIG_SRC_FENTRY);
}
