#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "private.h"

FILE *lg_quarantine_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ELOOP)
			lg_err("%s: a symbolic link: refused (quarantined lines are never written through a link)", path);
		else
			lg_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Only a regular file of ours is changed: never /dev/null. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) != 0600)
		fchmod(fd, 0600);
	FILE *f = fdopen(fd, "a");
	if (!f) {
		lg_err("%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int lg_private_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	if (st.st_mode & 022) {
		snprintf(err, errlen, "%s: writable by %s (mode %04o), who could plant links or swap files there (chmod go-w %s)",
			 dir, st.st_mode & 002 ? "everyone" : "its group", (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}
