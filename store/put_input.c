/* put's input. Returns: the line reader's LG_LINE_* codes, and
 * PUT_LINE_STOP (put_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "put_int.h"

/* How long the input may stay silent before the open transaction is
 * committed: the writer lock is never held while the input is idle, and a
 * checkpoint is committed as soon as it arrives. */
#ifndef PUT_IDLE_MS
#define PUT_IDLE_MS 50
#endif

/* A pipe or socket is read without waiting (O_NONBLOCK): a read that
 * would wait fails with EAGAIN, even in the middle of a line, and put
 * commits before it waits in poll(2). A terminal is polled before each
 * read instead (its file description is the shell's too). Files never
 * wait. */
void put_input_open(put_input *in, FILE *f)
{
	struct stat st;
	in->fd = fileno(f);
	in->restore_flags = -1;
	if (in->fd < 0 || fstat(in->fd, &st) != 0)
		return;
	int fl = fcntl(in->fd, F_GETFL);
	if ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && fl >= 0) {
		if ((fl & O_NONBLOCK) || fcntl(in->fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			in->nonblock = 1;
			in->restore_flags = fl & O_NONBLOCK ? -1 : fl;
			return;
		}
	}
	in->poll_first = S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

void put_input_close(put_input *in)
{
	if (in->restore_flags >= 0)
		fcntl(in->fd, F_SETFL, in->restore_flags);
}

static int input_ready(int fd, int timeout)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int n;
	while ((n = poll(&p, 1, timeout)) < 0 && errno == EINTR)
		;
	return n != 0;
}

/* The reader holds a whole line already (or the end of the input). */
static int line_buffered(const lg_reader *r)
{
	return r->eof || (r->end > r->scan && memchr(r->buf + r->scan, '\n', r->end - r->scan));
}

/* lg_reader_next, committing the open transaction before any read that
 * would wait. Returns an LG_LINE_* code, or PUT_LINE_STOP when that commit
 * failed (c->status says how). */
int put_next_line(put_ctx *c, lg_reader *r, char **line, size_t *len)
{
	static char unset;
	for (;;) {
		unsigned long before = r->lineno;
		if (c->in.poll_first && c->tx.txn && !line_buffered(r) && !input_ready(c->in.fd, 0) &&
		    (c->status = put_txn_commit(&c->tx)))
			return PUT_LINE_STOP;
		*line = &unset;
		int rc = lg_reader_next(r, line, len);
		int wait = rc == LG_LINE_IOERR && c->in.nonblock && (errno == EAGAIN || errno == EWOULDBLOCK);
		/* An over-long line whose read would wait: the reader had set
		 * *line NULL and counted it, and once its newline comes it counts
		 * the rest as a line of its own; that count is taken back and the
		 * rest dropped. */
		if (c->in.skip_tail && r->lineno != before) {
			r->lineno--;
			if (!(wait && !*line))
				c->in.skip_tail = 0;
			if ((rc == LG_LINE_OK || rc == LG_LINE_BAD) && r->lineno == before)
				continue;
		}
		if (!wait)
			return rc;
		if (!*line && !c->in.skip_tail) {
			char why[64];
			snprintf(why, sizeof why, "line longer than %zu bytes", r->max);
			put_bad(c, r->lineno, why, NULL, 0);
			c->in.skip_tail = 1;
		}
		/* A producer slower than put leaves the pipe empty between
		 * lines: waiting PUT_IDLE_MS before committing keeps such a
		 * stream in a few large transactions instead of one per line. */
		if (c->tx.txn && input_ready(c->in.fd, PUT_IDLE_MS))
			continue;
		if ((c->status = put_txn_commit(&c->tx)))
			return PUT_LINE_STOP;
		input_ready(c->in.fd, -1);
	}
}
