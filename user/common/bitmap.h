/* SPDX-License-Identifier: GPL-2.0 */
/* Little-endian u64 bitmaps, the layout every kernel dirty interface uses. */
#ifndef VFMIG_COMMON_BITMAP_H
#define VFMIG_COMMON_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define BITMAP_WORDS(nbits) (((nbits) + 63) / 64)

static inline bool bitmap_test(const uint64_t *map, uint64_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

/* Returns true when the bit was clear. */
static inline bool bitmap_set1(uint64_t *map, uint64_t i)
{
	bool was = bitmap_test(map, i);

	map[i / 64] |= 1ull << (i % 64);
	return !was;
}

static inline void bitmap_clear1(uint64_t *map, uint64_t i)
{
	map[i / 64] &= ~(1ull << (i % 64));
}

/* First set bit at or after from, or n. */
static inline uint64_t bitmap_next(const uint64_t *map, uint64_t from, uint64_t n)
{
	uint64_t w = from / 64, word;

	if (from >= n)
		return n;
	word = map[w] & (~0ull << (from % 64));
	while (!word) {
		if (++w >= BITMAP_WORDS(n))
			return n;
		word = map[w];
	}
	from = w * 64 + __builtin_ctzll(word);
	return from < n ? from : n;
}

static inline uint64_t bitmap_weight(const uint64_t *map, uint64_t nbits)
{
	uint64_t n = 0, w;

	for (w = 0; w < nbits / 64; w++)
		n += __builtin_popcountll(map[w]);
	if (nbits % 64)
		n += __builtin_popcountll(map[w] & ((1ull << (nbits % 64)) - 1));
	return n;
}

/* Sets bits [start, start + n). */
static inline void bitmap_set_range(uint64_t *map, uint64_t start, uint64_t n)
{
	while (n && start % 64) {
		bitmap_set1(map, start++);
		n--;
	}
	for (; n >= 64; n -= 64, start += 64)
		map[start / 64] = ~0ull;
	while (n--)
		bitmap_set1(map, start++);
}

#endif
