/* fuzz_pagemap_decode.c: pagemap and kpageflags words decoded and counted, kpageflags and kpagecount summed, against bit-by-bit references; records_read over a file of the bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/kpage_account.h"
#include "core/pagemap_decode.h"
#include "source/records.h"

static unsigned bit_of(uint64_t word, unsigned n)
{
	return (unsigned)((word >> n) & 1);
}

/*
 * fuzz_amplify's file (bytes 0-1: a length in units of 24 bytes, the rest a pattern repeated to
 * it), cut at max bytes: 20000 records reach past two reads of RECORDS_BATCH and stay fast.
 */
static char *amplify_capped(const uint8_t *data, size_t size, size_t max, size_t *out_len)
{
	static char *buf; /* one block of max + 1 bytes for the whole run: large blocks are slow to get */
	const uint8_t *pattern = data + (size < 2 ? size : 2);
	size_t pattern_len = size < 2 ? 0 : size - 2;
	size_t len = size < 2 ? 0 : (((size_t)data[0] << 8) | data[1]) * 24, done;

	if (len == 0 || pattern_len == 0)
		len = pattern_len;
	if (len > max)
		len = max;
	if (buf == NULL)
		buf = malloc(max + 1);
	FUZZ_CHECK(buf != NULL);
	/* Doubling copies: a short pattern repeated to 160 KB in a few calls. */
	done = len < pattern_len ? len : pattern_len;
	memcpy(buf, pattern, done);
	while (done < len) {
		size_t n = len - done < done ? len - done : done;
		memcpy(buf + done, buf, n);
		done += n;
	}
	*out_len = len;
	return buf;
}

static void check_decode(uint64_t raw)
{
	struct pagemap_entry e;
	unsigned present = bit_of(raw, 63), swapped = bit_of(raw, 62);

	memset(&e, 0xa5, sizeof(e));
	pagemap_decode(raw, &e);
	FUZZ_CHECK(e.raw == raw);
	FUZZ_CHECK((unsigned)e.present == present && (unsigned)e.swapped == swapped);
	FUZZ_CHECK((unsigned)e.file_or_shared == bit_of(raw, 61));
	FUZZ_CHECK((unsigned)e.guard == bit_of(raw, 58));
	FUZZ_CHECK((unsigned)e.uffd_wp == bit_of(raw, 57));
	FUZZ_CHECK((unsigned)e.exclusive == bit_of(raw, 56));
	FUZZ_CHECK((unsigned)e.soft_dirty == bit_of(raw, 55));
	/* pfn, or type and offset, give bits 0-54 back. */
	FUZZ_CHECK(e.pfn == (present ? raw % (UINT64_C(1) << 55) : 0));
	if (swapped)
		FUZZ_CHECK(((e.swap_offset << 5) | e.swap_type) == raw % (UINT64_C(1) << 55) && e.swap_type < 32);
	else
		FUZZ_CHECK(e.swap_type == 0 && e.swap_offset == 0);
}

/*
 * Bytes 0-3: the record index to read from; 4-7: how many; the rest: fuzz_amplify's length and
 * pattern, the file of records (at most 20000 of them).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file mem = {-1, ""};
	struct pagemap_counts whole, split, ref;
	static uint64_t *words;
	uint64_t *out, kp[64], kp_ref[64];
	uint64_t first, count, total, avail, want_nread;
	size_t len, n, m, i, cut, nread = 12345;
	char *bytes;
	int err, want_err;
	unsigned b;

	if (size < 8)
		return 0;
	if (mem.fd < 0)
		fuzz_file_init(&mem, "records");
	bytes = amplify_capped(data + 8, size - 8, 20000 * 8, &len);
	n = len / 8;
	if (words == NULL)
		words = malloc(20000 * sizeof(uint64_t));
	FUZZ_CHECK(words != NULL);
	memcpy(words, bytes, n * 8);

	/* Bit by bit on the first 512 words (the reference is slow); whole arrays for consistency. */
	m = n < 512 ? n : 512;
	memset(&ref, 0, sizeof(ref));
	memset(kp_ref, 0, sizeof(kp_ref));
	for (i = 0; i < m; i++) {
		check_decode(words[i]);
		ref.entries++;
		ref.present += bit_of(words[i], 63);
		ref.swapped += bit_of(words[i], 62);
		ref.swapped_not_guard += bit_of(words[i], 62) & !bit_of(words[i], 58);
		ref.file_or_shared += bit_of(words[i], 61);
		ref.guard += bit_of(words[i], 58);
		ref.uffd_wp += bit_of(words[i], 57);
		ref.exclusive += bit_of(words[i], 56);
		ref.soft_dirty += bit_of(words[i], 55) & (bit_of(words[i], 63) | bit_of(words[i], 62));
		for (b = 0; b < 64; b++)
			kp_ref[b] += bit_of(words[i], b);
	}
	memset(&whole, 0, sizeof(whole));
	pagemap_count(words, m, &whole);
	FUZZ_CHECK(memcmp(&whole, &ref, sizeof(ref)) == 0);
	memset(kp, 0, sizeof(kp));
	kpageflags_count(words, m, kp);
	FUZZ_CHECK(memcmp(kp, kp_ref, sizeof(kp)) == 0);
	/* Pairs of words as a kpageflags word and a kpagecount mapcount, through each filter. */
	{
		struct kpage_totals t, t_ref;
		memset(&t, 0, sizeof(t));
		memset(&t_ref, 0, sizeof(t_ref));
		for (i = 0; i + 1 < m; i += 2) {
			uint64_t flags = words[i], mapcount = words[i + 1];
			enum kpage_filter filter = (enum kpage_filter)(i / 2 % 4);
			int kept = filter == KPAGE_ALL || (filter == KPAGE_ONLY_KSM && bit_of(flags, 21)) ||
				   (filter == KPAGE_ONLY_SWAPBACKED && bit_of(flags, 14)) ||
				   (filter == KPAGE_ONLY_CACHE && !bit_of(flags, 14));
			int f;
			FUZZ_CHECK(kpage_kept(flags, filter) == kept);
			if (!kept)
				continue;
			kpage_add(flags, mapcount, 4096, &t);
			t_ref.pages++;
			for (f = 0; f < KPAGE_FLAGS; f++)
				t_ref.flagged[f] += bit_of(flags, kpage_flag_bit((enum kpage_flag)f));
			if (mapcount >= 1) {
				t_ref.mapped++;
				t_ref.unique += mapcount == 1;
				t_ref.pss_fixed += (UINT64_C(4096) << KPAGE_PSS_SHIFT) / mapcount;
			}
		}
		FUZZ_CHECK(memcmp(&t, &t_ref, sizeof(t)) == 0);
	}

	/* Counted in two batches, all the words: the same as in one. */
	cut = n == 0 ? 0 : data[0] % (n + 1);
	memset(&whole, 0, sizeof(whole));
	pagemap_count(words, n, &whole);
	memset(&split, 0, sizeof(split));
	pagemap_count(words, cut, &split);
	pagemap_count(words + cut, n - cut, &split);
	FUZZ_CHECK(memcmp(&split, &whole, sizeof(whole)) == 0);
	FUZZ_CHECK(whole.entries == n);
	for (b = 0; b < 64; b++)
		FUZZ_CHECK((kpageflags_name(b) != NULL) == (b < KPAGEFLAGS_NAMED));

	/* records_read: the whole records from the index, and EINVAL if the range meets a partial one. */
	fuzz_file_set(&mem, bytes, len);
	total = n;
	first = ((uint64_t)data[0] | (uint64_t)data[1] << 8 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 24) % (total + 3);
	count = ((uint64_t)data[4] | (uint64_t)data[5] << 8 | (uint64_t)data[6] << 16 | (uint64_t)data[7] << 24) % (total + 20);
	avail = first < total ? total - first : 0;
	want_nread = count < avail ? count : avail;
	want_err = count > avail && len % 8 != 0 && first <= total ? EINVAL : 0;
	out = malloc((size_t)(count + 1) * sizeof(uint64_t));
	FUZZ_CHECK(out != NULL);
	{
		int fd = open(mem.path, O_RDONLY | O_CLOEXEC);
		FUZZ_CHECK(fd >= 0);
		err = records_read(fd, first, out, (size_t)count, &nread);
		close(fd);
	}
	FUZZ_CHECK(err == want_err);
	FUZZ_CHECK(nread == want_nread);
	FUZZ_CHECK(nread == 0 || memcmp(out, bytes + first * 8, nread * 8) == 0);
	free(out);
	return 0;
}
