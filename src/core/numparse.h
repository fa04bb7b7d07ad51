/* numparse.h: pointer-advancing number parsing for the /proc parsers' hot loops. */
#ifndef MEMSCRIPT_NUMPARSE_H
#define MEMSCRIPT_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

enum num_status {
	NUM_OK = 0,
	NUM_NONE = 1,     /* no digit at the start */
	NUM_OVERFLOW = 2, /* more than 64 bits; *out holds UINT64_MAX */
};

/* Reads decimal digits from *pos up to end, advancing *pos past them. */
enum num_status num_parse_dec(const char **pos, const char *end, uint64_t *out);

/* Reads lowercase or uppercase hex digits from *pos up to end, advancing *pos past them. */
enum num_status num_parse_hex(const char **pos, const char *end, uint64_t *out);

#endif
