/* maps_parse.c: one pass over a mapping header line, columns separated by one or more spaces. */
#include "core/maps_parse.h"

#include "core/numparse.h"

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int maps_is_header(const char *line, size_t len)
{
	const char *p = line, *end = line + len;

	while (p < end && is_hex(*p))
		p++;
	return p > line && p < end && *p == '-';
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* Advances past one column; the column must be followed by a space. */
static const char *column_end(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	return p;
}

const char *maps_parse_header(const char *line, size_t len, struct maps_header *h)
{
	const char *p = line, *end = line + len, *col;

	/* address: vm_start-vm_end in hex */
	if (num_parse_hex(&p, end, &h->vm_start) != NUM_OK)
		return "address: start is not a 64-bit hex number";
	if (p >= end || *p != '-')
		return "address: '-' expected after the start";
	p++;
	if (num_parse_hex(&p, end, &h->vm_end) != NUM_OK)
		return "address: end is not a 64-bit hex number";
	if (p >= end || *p != ' ')
		return "address: space expected after the end";
	if (h->vm_end < h->vm_start)
		return "address: end is below start";

	/* perms: four characters such as "rw-p" */
	p = skip_spaces(p, end);
	col = p;
	p = column_end(p, end);
	if (p - col != 4 || p >= end)
		return "perms: four characters expected";
	h->perms = col;
	h->perms_len = 4;

	/* offset: hex */
	p = skip_spaces(p, end);
	if (num_parse_hex(&p, end, &h->offset) != NUM_OK || p >= end || *p != ' ')
		return "offset: hex number expected";

	/* dev: major:minor in hex, kept as printed */
	p = skip_spaces(p, end);
	col = p;
	p = column_end(p, end);
	if (p == col || p >= end)
		return "dev: major:minor expected";
	h->dev = col;
	h->dev_len = (size_t)(p - col);

	/* inode: decimal; the last column when the pathname is blank */
	p = skip_spaces(p, end);
	if (num_parse_dec(&p, end, &h->inode) != NUM_OK || (p < end && *p != ' '))
		return "inode: decimal number expected";

	/* pathname: everything after the padding, as printed (spaces and " (deleted)" kept) */
	p = skip_spaces(p, end);
	h->path = p;
	h->path_len = (size_t)(end - p);
	return NULL;
}
