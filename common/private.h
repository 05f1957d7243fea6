/* Files and directories lg keeps for itself (quarantined lines, the store):
 * created 0600 / 0700 whatever the umask, never through a symbolic link,
 * and never in a directory others may write to, where they could plant a
 * link or swap a file. */
#ifndef LG_PRIVATE_H
#define LG_PRIVATE_H
#include <stddef.h>
#include <stdio.h>

/* Opens path to append: created 0600 whatever the umask (an existing
 * regular file of ours is made 0600: quarantined lines are unmasked trace
 * data), refused if it is a symbolic link (O_NOFOLLOW). NULL with the
 * error reported. */
FILE *lg_quarantine_open(const char *path);
/* mkdir -p whose missing directories are created 0700; 0 when dir is (or
 * now is) a directory, else -1 with errno set. */
int lg_mkdir_private(const char *dir);
/* 0 when dir is a directory that neither group nor others may write to;
 * else -1 with why in err ("DIR: ..."). */
int lg_private_dir(const char *dir, char *err, size_t errlen);
#endif
