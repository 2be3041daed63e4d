/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration wire: typed, length-prefixed messages over a socket or a
 * file, with an optional bandwidth cap on the sending side.
 */
#ifndef VFMIG_MIGRATION_WIRE_H
#define VFMIG_MIGRATION_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x4d4d4656u /* "VFMM" */
#define WIRE_MAX_PAYLOAD (64u << 20)

enum wire_type {
	WIRE_HELLO = 1,	 /* source: VM description; destination: ok or an error text */
	WIRE_PAGES,	 /* u32 count, u32 pad, u64 page[count], then count pages */
	WIRE_DEV,	 /* u32 device index, u32 pad, then stream bytes */
	WIRE_SWITCHOVER, /* u64 source CLOCK_MONOTONIC when vCPUs and DMA stopped */
	WIRE_END,	 /* struct wire_end */
	WIRE_ACK,	 /* struct wire_ack */
	WIRE_VERDICT,	 /* u32: the source found the destination equal to itself at stop */
	WIRE_ARCS,	 /* destination, after WIRE_ACK: struct vm_arcs of its devices */
};

#define WIRE_END_DIGESTS 1 /* wire_end carries the source's digests (no peer to ask) */

struct wire_hdr {
	uint32_t magic;
	uint32_t type;
	uint64_t len;
};

struct wire_end {
	uint64_t ram_digest;
	uint64_t dev_digest[4];
	uint32_t ndevs;
	uint32_t flags;
};

struct wire_ack {
	int32_t status; /* 0, or the errno the destination failed with */
	uint32_t verified;
	uint64_t t_running;  /* destination CLOCK_MONOTONIC: devices RUNNING, vCPUs run */
	uint64_t load_ns;    /* destination: from END to RUNNING, verification excluded */
	uint64_t verify_ns;  /* destination: computing the digests to compare */
	uint64_t ram_digest; /* the destination's state once loaded, for the source to compare */
	uint64_t dev_digest[4];
	char boot_id[40]; /* the clock is comparable only on the same boot */
	char msg[200];
};

struct wire {
	int fd;
	uint64_t bandwidth; /* bytes/s; 0: uncapped */
	uint64_t sent, recvd;
	uint64_t t0_ns; /* start of the cap's accounting */
	uint64_t cap_sent;
};

void wire_init(struct wire *w, int fd, uint64_t bandwidth);
/* 0 or -errno; an orderly EOF in the middle of a message is -EPIPE. */
int wire_send(struct wire *w, uint32_t type, const void *a, size_t alen, const void *b,
	      size_t blen);
struct iovec;
/* The same with the payload in iov[1..cnt-1]; iov[0] is filled with the header. */
int wire_sendv(struct wire *w, uint32_t type, struct iovec *iov, int cnt);
int wire_recv_hdr(struct wire *w, struct wire_hdr *hdr);
int wire_recv(struct wire *w, void *buf, size_t len);
int wire_recvv(struct wire *w, struct iovec *iov, int cnt);
/* Restarts the bandwidth accounting (a new phase, a new measurement). */
void wire_reset_clock(struct wire *w);

#endif
