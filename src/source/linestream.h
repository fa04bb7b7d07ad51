/* linestream.h: the lines of a large /proc file, read on a second thread while the caller parses. */
#ifndef MEMSCRIPT_LINESTREAM_H
#define MEMSCRIPT_LINESTREAM_H

#include <stddef.h>

struct linestream;

/*
 * Opens path for reading line by line. Returns 0 and a stream the caller must close with
 * linestream_close, or an errno value. A file larger than one chunk is read ahead by a thread so
 * the kernel's cost of producing it overlaps the caller's parsing.
 */
int linestream_open(const char *path, struct linestream **out);

/* The same over an open descriptor, which the stream owns from then on (closed even on failure). */
int linestream_open_fd(int fd, struct linestream **out);

/*
 * The same, for a thread that reads ahead of the one that parses (a read-ahead pool's): the first
 * chunk is filled whole (about 250 KiB) before it returns, so a file that fits, such as the smaps
 * of a process of a few hundred mappings, is read by the calling thread alone and needs no reader
 * thread of its own; a longer one is read on by a reader thread, which hands over whole chunks
 * (the other streams hand a parser that waits what is read once it is 16 KiB).
 */
int linestream_open_fd_filled(int fd, struct linestream **out);

/* A stream over a copy of data (a file already in memory, as from an archive); no thread. */
int linestream_open_memory(const char *data, size_t len, struct linestream **out);

/*
 * Lines longer than max bytes are refused: linestream_next returns -EFBIG instead of gathering
 * them (a file with no newline would otherwise be held whole). 0, the default, sets no limit.
 */
void linestream_set_max_line(struct linestream *s, size_t max);

/*
 * The next line without its '\n' (a last line with no newline is returned too). The line stays
 * valid until the next call. Returns 1 for a line, 0 at end of file, or a negative errno value.
 */
int linestream_next(struct linestream *s, const char **line, size_t *len);

/*
 * The next lines as one span, for a caller that cuts them itself: whole lines, each ending in
 * '\n' but maybe the last, which ends where the span does (a line read across two chunks comes
 * alone, without its newline, as does the file's last line when it has none). The span stays valid
 * until the next call; it holds all the lines left in a chunk. Returns 1, 0 at end of file, or a
 * negative errno value (-EFBIG as linestream_next). Lines taken this way are not counted by
 * linestream_lineno.
 */
int linestream_next_span(struct linestream *s, const char **span, size_t *len);

/* Number of the line linestream_next last returned, counting from 1. */
long linestream_lineno(const struct linestream *s);

/* Stops the reader thread and frees everything; safe at any point, also mid-file. */
void linestream_close(struct linestream *s);

#endif
