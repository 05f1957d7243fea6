#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int lg_mkdir_private(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}
