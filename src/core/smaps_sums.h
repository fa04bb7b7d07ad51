/* smaps_sums.h: the mappings of /proc/PID/smaps added up by path, for some numeric fields. */
#ifndef MEMSCRIPT_SMAPS_SUMS_H
#define MEMSCRIPT_SMAPS_SUMS_H

#include <stddef.h>
#include <stdint.h>

#define SMAPS_SUMS_FIELDS_MAX 16
/* Keys remembered by their place after a mapping's header, and the longest such key. */
#define SMAPS_SUMS_PLACES 48
#define SMAPS_SUMS_KEY_MAX 32

/* The mappings of one path: how many, and each field's sum in bytes (kB values times 1024). */
struct smaps_sums_group {
	char *path;
	size_t path_len;
	uint64_t hash;
	uint64_t maps;
	uint64_t sums[SMAPS_SUMS_FIELDS_MAX];
	unsigned char seen[SMAPS_SUMS_FIELDS_MAX]; /* the field was printed in one of the group's mappings */
};

/*
 * The state of a sum over one file, line by line. The field names are copied in; groups are kept
 * in the order their path was first met. Knows nothing of where the lines come from, nor of Lua.
 */
struct smaps_sums {
	char fields[SMAPS_SUMS_FIELDS_MAX][SMAPS_SUMS_KEY_MAX];
	size_t field_len[SMAPS_SUMS_FIELDS_MAX];
	int nfields;

	struct smaps_sums_group *groups;
	size_t ngroups, cap;

	/* private: the path index, the mapping being added, and the keys known by place */
	size_t *index; /* open addressing over groups: 0 empty, else group number + 1 */
	size_t index_cap;
	struct smaps_sums_group *current;
	unsigned char mapping_seen[SMAPS_SUMS_FIELDS_MAX];
	int place;
	struct {
		char key[SMAPS_SUMS_KEY_MAX];
		size_t len;  /* 0: nothing known at this place */
		int field;   /* the field the key is, or -1 */
		size_t line_len; /* of the last line taken in this place, its newline left out */
	} places[SMAPS_SUMS_PLACES];
	char reason[96];
};

/*
 * Starts a sum of the n fields named (1 to SMAPS_SUMS_FIELDS_MAX, each shorter than
 * SMAPS_SUMS_KEY_MAX bytes, none twice). Returns NULL, or a static reason the names are refused.
 */
const char *smaps_sums_init(struct smaps_sums *s, const char *const *names, const size_t *lens, int n);

/*
 * Adds one line of smaps (no newline). Returns 0; -1 for a line that is not what smaps holds, with
 * *reason set (static, or in s->reason until the next call): a malformed header or "Key: value"
 * line, a field before the first header, a key twice in a mapping, a summed field that is not a
 * number, a sum past 64 bits; or ENOMEM.
 */
int smaps_sums_line(struct smaps_sums *s, const char *line, size_t len, const char **reason);

/*
 * Adds the lines of span, as smaps_sums_line would one by one: lines end in '\n', the last maybe
 * not (it ends where the span does). *lineno is counted up once per line taken; it is the
 * number of the line refused when -1 (or ENOMEM) is returned.
 */
int smaps_sums_span(struct smaps_sums *s, const char *span, size_t len, long *lineno, const char **reason);

/* Whether a and b add up the same fields, in the same order. */
int smaps_sums_same_fields(const struct smaps_sums *a, const struct smaps_sums *b);

/* Frees the groups; s may be started again. */
void smaps_sums_free(struct smaps_sums *s);

#endif
